"""Payment and settlement (资金支付结算): the money side of the card.

Sub-packages, each with the standard files:

- ``ledger/``: the double-entry ledger (复式记账总账). Accounts with posted and pending
  debit and credit totals, transfers between two accounts (immediate, or two-phase:
  pending then post or void), linked chains that succeed or fail together, reversals
  instead of edits. Start with ``ledger/rules.py`` (the design overview and the pure
  rules), then ``ledger/service.py``. Every other payments service posts through
  ``ledger.service``; operators only read it (``/api/v1/payments/ledger``, ``sscard ledger``).
- ``codes/``: pure formats: money in fen, MCC names (ISO 18245), the EMVCo
  merchant-presented QR and the 19-digit consumer-presented payment code.
- ``merchants/``: merchants (商户) with their settlement account sealed, terminals linked
  to a merchant, the merchant collection code (收款码).
- ``medical/``: medical settlement (就医结算) with the medical insurance system: the
  bill's split into pool, personal account and cash, three linked ledger legs, the cash
  from the card's bank, refunds, chronic-disease qualifications.
- ``orders/``: merchants' orders (订单) paid by card through the card's bank in three steps
  around the bank call (``orders/payment_steps.py``), refunds, and the recovery of payments
  whose outcome was not known. Other parts pay through ``orders.service``.
- ``api/``: the HTTP routes of every sub-package under ``/api/v1/payments``.
"""
