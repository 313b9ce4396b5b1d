"""Card issuance management (社会保障卡发行管理, 卡管): applications, numbers, making,
handover, lifecycle.

Read ``lifecycle`` first: the card's state machine, and the name of every timeline entry.
Then the sub-packages, each with the standard files (models, schemas, repository, service,
errors, api):

- ``cards``: the card itself. ``cards.service`` is the one way a status changes
  (``transition``), finding cards, lifecycle operations and PINs; the sibling modules
  ``application_service``, ``number_service`` (开户放号), ``making_service`` (what was
  personalised), ``handover_service`` (交接, places, scanning) and ``stats_service``.
  Other components use ``cards.service``.
- ``batches``: batch card making with the province (批量制卡): the clerk's ``service`` and
  the long runs ``export``, ``province`` (send, fetch) and ``result_import``.
- ``instant``: instant card making at bank branches (即时制卡, idempotent calls) and the
  cards' records at the province (``province_service``: off-site cards, transfer,
  provincial record).
- ``activation``: one-step activation (一站式启用) as a saga (pure rules in ``saga``) and the
  card's bank (``bank_service``: bank change, balance, transactions).

Pure modules: ``lifecycle`` and ``numbers`` (card numbers, card identification codes).
``events`` holds what the component publishes; ``wiring`` joins it to the platform (outbox
destinations, reactions, the worker's chore, the encrypted bank account); ``api`` gathers
the sub-packages' routes.
"""
