import random

from hypothesis import given
from hypothesis import strategies as st

from sscard.crypto import primitives
from sscard.ecard.codes import qr
from sscard.ecard.codes.verifier import Refused, Verifier
from sscard.ecard.schemas import CopyState

KEY = bytes(range(16))


def mac(body: bytes) -> bytes:
    return primitives.sm3_hmac(KEY, body)


codes = st.builds(
    qr.OnlineCode,
    copy_id=st.integers(min_value=1, max_value=qr.MAX_COPY),
    issued_at=st.integers(min_value=0, max_value=2**32 - 1),
    nonce=st.binary(min_size=6, max_size=6),
    business=st.sampled_from(list(qr.Business)),
    proxy=st.booleans(),
    key_version=st.integers(min_value=0, max_value=255),
)


@given(codes)
def test_an_online_code_round_trips_in_52_qr_alphanumeric_characters(code: qr.OnlineCode) -> None:
    text = qr.encode_online(code, mac)
    assert len(text) == 52 and len(text) <= 96
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    parsed, body, tag = qr.parse_online(text)
    assert parsed == code and qr.mac_matches(mac(body), tag)


def test_a_code_carries_no_personal_data() -> None:
    code = qr.OnlineCode(7, 1_800_000_000, b"\x01" * 6, qr.Business.payment, False, 1)
    raw = qr._b32decode(qr.encode_online(code, mac)[2:])
    assert len(raw) == 31


def test_a_hundred_thousand_random_mutations_of_valid_codes_are_all_refused() -> None:
    rng = random.Random(5)
    states = {n: CopyState(n, "E", "P", "C", "P", False, "active", 1) for n in range(1, 101)}
    verifier = Verifier(key_for=lambda _c, _v: KEY, state_for=states.get, ttl=10**9)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    accepted = 0
    for n in range(100_000):
        code = qr.OnlineCode(
            n % 100 + 1, 1_800_000_000, rng.randbytes(6), qr.Business.query, False, 1
        )
        text = qr.encode_online(code, mac)
        chars = list(text)
        for _ in range(rng.randint(1, 3)):
            position = rng.randrange(len(chars))
            chars[position] = rng.choice(alphabet.replace(chars[position], ""))
        mutated = "".join(chars)
        if mutated == text:
            continue
        try:
            verifier.check(mutated)
        except Refused as refused:
            assert refused.reason == "code_invalid"
            continue
        accepted += 1
    assert accepted == 0


def test_random_mutations_of_one_code_never_pass_the_mac() -> None:
    rng = random.Random(5)
    code = qr.OnlineCode(123456, 1_800_000_000, b"abcdef", qr.Business.query, False, 1)
    text = qr.encode_online(code, mac)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    accepted = 0
    for _ in range(20_000):
        chars = list(text)
        for _ in range(rng.randint(1, 3)):
            position = rng.randrange(2, len(chars))
            chars[position] = rng.choice(alphabet.replace(chars[position], ""))
        mutated = "".join(chars)
        if mutated == text:
            continue
        try:
            _, body, tag = qr.parse_online(mutated)
        except qr.CodeInvalid:
            continue
        accepted += qr.mac_matches(mac(body), tag)
    assert accepted == 0


def test_offline_signatures_convert_between_der_and_r_s() -> None:
    key = primitives.SM2PrivateKey.generate()
    code = qr.OfflineCode(9, 1_800_000_000, 10, qr.Business.query, True, 1)
    body = qr.offline_body(code)
    der = key.sign(body)
    text = qr.encode_offline(code, qr.rs_from_der(der))
    parsed, signed, rs = qr.parse_offline(text)
    assert parsed == code and signed == body
    assert key.public_key.verify(body, qr.der_from_rs(rs))
