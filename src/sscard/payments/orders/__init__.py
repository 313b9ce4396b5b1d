"""Orders (订单管理): a merchant's order, paid by card through the card's bank, and its refunds.

Start with ``service`` (create, pay by card, resolve, close, refund, find); the bank calls of
a payment are in ``bank_steps`` and the refunds in ``refund_service``.
"""
