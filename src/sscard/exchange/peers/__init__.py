"""The adapters to the peers of the platform: the province card centre (省卡管), the
cooperating banks, the transport operator (交通一卡通) and the medical insurance system (医保).

Read :mod:`.client` first: the one HTTP client every adapter uses (base URL and timeouts per
peer, bounded retries of reads, optional mutual TLS, one table of refusal statuses, request
logging without personal data, and the one pair of errors ``PeerUnavailable`` /
``PeerRefused`` of :mod:`sscard.exchange.errors`). Its settings are in :mod:`.config`. Each
adapter (:mod:`.bank`, :mod:`.province_cards`, :mod:`.province_batch`, :mod:`.transport`,
:mod:`.medical`) only says which paths a peer has and what its answers mean. :mod:`.service`
is what other components call. docs/peers.md describes all of it for operators.
"""
