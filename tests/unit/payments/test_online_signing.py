"""The signed messages of online banking: canonical bytes, the request parameter, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.crypto import primitives
from sscard.payments.online import signing

REQUEST = {
    "order_no": "P2026120400000000001",
    "bank_code": "BANK-ICBC",
    "amount_fen": 30000,
    "merchant_name": "济宁市社会保险事业中心",
    "subject": "2026 年度城乡居民基本养老保险",
    "return_url": "http://127.0.0.1:8000/wallet/online-result",
    "notify_url": "http://127.0.0.1:8000/api/v1/payments/online/notify",
    "issued_at": "2026-12-04T08:00:00+00:00",
    "signer": "370800-pay",
}


def test_canonical_bytes_do_not_depend_on_key_order() -> None:
    shuffled = dict(reversed(list(REQUEST.items())))
    assert signing.canonical(shuffled) == signing.canonical(REQUEST)
    assert b" " not in signing.canonical({"a": 1, "b": [1, 2]})


@given(st.integers(min_value=1, max_value=10**12), st.text(max_size=40))
def test_a_request_survives_the_query_parameter(amount: int, subject: str) -> None:
    message = {**REQUEST, "amount_fen": amount, "subject": subject}
    data = signing.request_bytes(signing.encode_request(message))
    assert signing.parse(data, signing.REQUEST_FIELDS) == message


def test_a_signature_covers_every_byte_of_the_request() -> None:
    key = primitives.SM2PrivateKey.generate()
    data = signing.canonical(REQUEST)
    signature = key.sign(data)
    assert key.public_key.verify(data, signature)
    changed = signing.canonical({**REQUEST, "amount_fen": 1})
    assert not key.public_key.verify(changed, signature)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "JSON"),
        (signing.canonical({**REQUEST, "extra": 1}), "字段"),
        (signing.canonical({k: v for k, v in REQUEST.items() if k != "signer"}), "字段"),
        (signing.canonical({**REQUEST, "amount_fen": 0}), "金额"),
        (signing.canonical({**REQUEST, "amount_fen": 12.5}), "金额"),
        (signing.canonical({**REQUEST, "amount_fen": True}), "金额"),
    ],
)
def test_a_malformed_request_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(signing.BadMessage, match=reason):
        signing.parse(data, signing.REQUEST_FIELDS)


def test_a_signature_that_is_not_hex_is_refused() -> None:
    with pytest.raises(signing.BadMessage, match="十六进制"):
        signing.signature_bytes("zz")
    with pytest.raises(signing.BadMessage):
        signing.request_bytes("a")
