"""Online banking (网银支付): an order paid on the bank's own pay page, confirmed by the
bank's signed notice (see docs/payments.md, "Online banking")."""
