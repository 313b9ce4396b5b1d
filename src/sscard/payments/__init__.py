"""资金支付结算 payment and settlement: merchants, payment codes and the ledger."""
