"""Merchants (商户): who accepts card and code payments, in which trade (MCC), at what fee,
settled to which bank account (sealed at rest). Statuses: active, suspended, closed."""
