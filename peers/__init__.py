"""Simulators of the outside world: the province card centre, a cooperating bank, a card
vendor and a transport operator. Each runs as its own process (``python -m peers.bank
--port 9102``) speaking the protocol the real system would, and can be started in-process
by tests. The platform reaches them only through the adapters in ``sscard.exchange.peers``."""
