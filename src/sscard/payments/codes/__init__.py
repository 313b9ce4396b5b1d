"""Payment code formats (支付码) and money, as pure logic with no I/O.

Design overview
---------------
- :mod:`~sscard.payments.codes.money`: amounts are integer fen (分) everywhere; yuan text
  ("12.30") exists only at the edges (QR payloads, forms, files). Floats, negatives and
  amounts above a limit are refused, never rounded. The one currency is GB/T 12406 156 (CNY).
- :mod:`~sscard.payments.codes.mcc`: the ISO 18245 merchant category codes the platform
  meets, with Chinese names.
- :mod:`~sscard.payments.codes.emv`: the EMVCo merchant-presented QR (主扫): a flat list of
  TLV fields (two-digit tag, two-digit length in characters, value), templates nested one
  level, closed by a CRC-16/CCITT-FALSE over everything up to and including ``6304``.
- :mod:`~sscard.payments.codes.paycode`: the consumer-presented payment code (被扫), 19
  digits ``62`` + product + 15 digits that carry a 10-second time tick, a reference to a
  server-side single-use record and an HMAC-SM3 check, so random guesses fail and a code
  lives about 60 seconds. Single use is the server's job (a claim on the record).

Every refusal is a :class:`~sscard.payments.codes.errors.CodeRefused` with a stable reason
(``bad_length``, ``bad_crc`` ...) and a detail in a clerk's words; nothing here raises a
bare ``ValueError`` for bad input. The layouts are documented in ``docs/formats.md``.
"""
