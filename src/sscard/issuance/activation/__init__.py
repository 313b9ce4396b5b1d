"""One-step activation (一站式启用: card, bank account, transport) and the card's bank
(service bank change, balance, transactions). Read ``saga`` (pure rules) first."""
