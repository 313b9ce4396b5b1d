"""SM2 keys in PEM and DER: round trips, the fixed SPKI prefix, and refusals."""

from __future__ import annotations

import pytest
from asn1crypto import keys
from asn1crypto import pem as asn1_pem

from sscard.crypto import pem
from sscard.crypto.errors import InvalidKeyFile
from sscard.crypto.primitives import SM2PrivateKey

SPKI_PREFIX = "3059301306072a8648ce3d020106082a811ccf5501822d03420004"


def test_a_private_key_survives_pem_and_der_round_trips() -> None:
    key = SM2PrivateKey.generate()
    text = pem.private_key_to_pem(key)
    assert text.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert pem.load_private_key(text).public_key == key.public_key
    assert pem.load_private_key(text.encode()).private_bytes() == key.private_bytes()
    assert pem.load_private_key(pem.private_key_to_der(key)).public_key == key.public_key


def test_a_public_key_survives_pem_and_der_round_trips() -> None:
    public = SM2PrivateKey.generate().public_key
    text = pem.public_key_to_pem(public)
    assert text.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert pem.load_public_key(text) == public
    assert pem.load_public_key(pem.public_key_to_der(public)) == public


def test_the_public_key_der_is_the_fixed_prefix_then_x_and_y() -> None:
    public = SM2PrivateKey.generate().public_key
    assert pem.public_key_to_der(public).hex() == SPKI_PREFIX + public.raw.hex()


def test_the_pkcs8_key_names_the_sm2_curve_and_carries_the_public_key() -> None:
    key = SM2PrivateKey.generate()
    info = keys.PrivateKeyInfo.load(pem.private_key_to_der(key))
    assert info["private_key_algorithm"]["algorithm"].native == "ec"
    assert info["private_key_algorithm"]["parameters"].chosen.dotted == "1.2.156.10197.1.301"
    inner = keys.ECPrivateKey.load(info["private_key"].contents)
    assert inner["public_key"].native == key.public_key.uncompressed
    assert len(inner["private_key"].contents) == 32


def test_a_sec1_ec_private_key_is_read() -> None:
    key = SM2PrivateKey.generate()
    inner = keys.ECPrivateKey(
        {
            "version": "ecPrivkeyVer1",
            "private_key": int.from_bytes(key.private_bytes(), "big"),
            "parameters": keys.ECDomainParameters(name="named", value="sm2"),
            "public_key": key.public_key.uncompressed,
        }
    )
    for label in ("EC PRIVATE KEY", "SM2 PRIVATE KEY"):
        text = asn1_pem.armor(label, inner.dump())
        assert pem.load_private_key(text).public_key == key.public_key


def test_a_key_on_another_curve_is_refused_with_the_curve_named() -> None:
    point = b"\x04" + bytes(64)
    info = keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": keys.ECDomainParameters(name="named", value="secp256r1"),
            },
            "public_key": point,
        }
    )
    with pytest.raises(InvalidKeyFile, match=r"not an SM2 key \(curve prime256v1\)"):
        pem.load_public_key(info.dump())


def test_a_private_key_whose_public_key_belongs_to_another_is_refused() -> None:
    key, other = SM2PrivateKey.generate(), SM2PrivateKey.generate()
    inner = keys.ECPrivateKey(
        {
            "version": "ecPrivkeyVer1",
            "private_key": int.from_bytes(key.private_bytes(), "big"),
            "public_key": other.public_key.uncompressed,
        }
    )
    with pytest.raises(InvalidKeyFile, match="does not belong"):
        pem.load_private_key(asn1_pem.armor("EC PRIVATE KEY", inner.dump()))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a key at all", "neither PKCS#8 nor SEC1"),
        (asn1_pem.armor("ENCRYPTED PRIVATE KEY", b"\x30\x00"), "encrypted"),
        (asn1_pem.armor("CERTIFICATE", b"\x30\x00"), "found 'CERTIFICATE'"),
    ],
)
def test_unreadable_private_keys_are_refused_clearly(data: bytes, message: str) -> None:
    with pytest.raises(InvalidKeyFile, match=message):
        pem.load_private_key(data)


def test_a_private_key_is_not_accepted_where_a_public_key_is_expected() -> None:
    text = pem.private_key_to_pem(SM2PrivateKey.generate())
    with pytest.raises(InvalidKeyFile, match="expected a PEM 'PUBLIC KEY'"):
        pem.load_public_key(text)
    with pytest.raises(InvalidKeyFile):
        pem.load_public_key(b"\x30\x03\x02\x01\x00")
