"""Terminals and application scenarios (应用终端系统): the scenario catalogue (视读/刷卡/扫码),
terminals and their credentials, and what each scenario may see of a cardholder.

Read ``service.py`` first: scenarios (what a terminal of each may see), terminals and
their bearer tokens (``stt_...``), resolved through a short bounded cache. ``catalog.py``
holds the pure list of attributes and default scenarios; ``repository.py`` every query;
``api.py`` the routes under ``/api/v1/scenarios`` and ``/api/v1/terminals``. The e-card
component asks :func:`service.disclosure_of` what a scenario may see.
"""
