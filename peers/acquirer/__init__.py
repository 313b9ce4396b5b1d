"""An acquirer (收单机构, UnionPay-like) simulator."""
