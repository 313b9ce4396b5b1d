"""The double-entry ledger (复式记账总账): accounts, transfers, two-phase transfers, verify.

Read ``rules.py`` first (the design overview), then ``service.py``.
"""
