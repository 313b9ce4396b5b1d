"""Payment and settlement (资金支付结算): the money side of the card.

Sub-packages, each with the standard files:

- ``ledger/``: the double-entry ledger (复式记账总账). Accounts with posted and pending
  debit and credit totals, transfers between two accounts (immediate, or two-phase:
  pending then post or void), linked chains that succeed or fail together, reversals
  instead of edits. Start with ``ledger/rules.py`` (the design overview and the pure
  rules), then ``ledger/service.py``. Every other payments service posts through
  ``ledger.service``; operators only read it (``/api/v1/payments/ledger``, ``sscard ledger``).
"""
