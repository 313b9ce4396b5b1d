"""SM2 keys to and from PEM and DER, in the forms the OpenSSL 3 command line reads and writes.

- Private keys are written as PKCS#8 ``PRIVATE KEY``: algorithm id-ecPublicKey with the
  named curve sm2 (1.2.156.10197.1.301), holding a SEC1 ``ECPrivateKey`` with the public
  key, exactly what ``openssl genpkey -algorithm SM2`` produces. SEC1 ``EC PRIVATE KEY``
  (and OpenSSL's ``SM2 PRIVATE KEY`` label for the same structure) are read too.
- Public keys are SubjectPublicKeyInfo ``PUBLIC KEY``; the DER is the fixed prefix
  ``3059301306072a8648ce3d020106082a811ccf5501822d03420004`` followed by x and y.
- Keys on any other curve, or of another algorithm, are refused with the curve's name.
"""

from __future__ import annotations

from typing import Any, Final

from asn1crypto import keys, pem

from sscard.crypto.errors import InvalidKey, InvalidKeyFile
from sscard.crypto.primitives import SM2PrivateKey, SM2PublicKey

SM2_CURVE_OID: Final = "1.2.156.10197.1.301"
SPKI_DER_PREFIX: Final = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")

keys.NamedCurve.register("sm2", SM2_CURVE_OID, 32)

_OPENSSL_CURVE_NAMES: Final = {"secp256r1": "prime256v1", "secp192r1": "prime192v1"}
_SEC1_LABELS: Final = ("EC PRIVATE KEY", "SM2 PRIVATE KEY")


def _sm2_parameters() -> keys.ECDomainParameters:
    return keys.ECDomainParameters(name="named", value="sm2")


def _require_sm2(algorithm: str, parameters: Any) -> None:
    if algorithm != "ec":
        raise InvalidKeyFile(f"the key is not an SM2 key (algorithm {algorithm})")
    if parameters is None or parameters.name != "named":
        raise InvalidKeyFile("the key is not an SM2 key (explicit curve parameters)")
    curve = parameters.chosen.native
    if parameters.chosen.dotted != SM2_CURVE_OID:
        raise InvalidKeyFile(
            f"the key is not an SM2 key (curve {_OPENSSL_CURVE_NAMES.get(curve, curve)})"
        )


def _unarmor(data: bytes | str, what: str) -> tuple[str | None, bytes]:
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    if not pem.detect(raw):
        return None, raw
    try:
        label, _headers, der = pem.unarmor(raw)
    except ValueError as exc:
        raise InvalidKeyFile(f"the {what} is not valid PEM ({exc})") from None
    return str(label), bytes(der)


# --- public keys -------------------------------------------------------------------------


def public_key_to_der(key: SM2PublicKey) -> bytes:
    return SPKI_DER_PREFIX + key.raw


def public_key_to_pem(key: SM2PublicKey) -> str:
    return str(pem.armor("PUBLIC KEY", public_key_to_der(key)).decode("ascii"))


def public_key_from_der(der: bytes) -> SM2PublicKey:
    """Read a SubjectPublicKeyInfo."""
    try:
        info = keys.PublicKeyInfo.load(der, strict=True)
        algorithm = info["algorithm"]["algorithm"].native
        parameters = info["algorithm"]["parameters"]
        point = info["public_key"].native if algorithm == "ec" else None
    except (ValueError, TypeError) as exc:
        raise InvalidKeyFile(
            f"the public key is not a valid SubjectPublicKeyInfo ({exc})"
        ) from None
    _require_sm2(algorithm, parameters)
    if not isinstance(point, bytes):
        raise InvalidKeyFile("the public key holds no EC point")
    try:
        return SM2PublicKey.from_bytes(point)
    except InvalidKey as exc:
        raise InvalidKeyFile(exc.message) from None


def load_public_key(data: bytes | str) -> SM2PublicKey:
    """Read a ``PUBLIC KEY`` in PEM or DER."""
    label, der = _unarmor(data, "public key")
    if label is not None and label != "PUBLIC KEY":
        raise InvalidKeyFile(f"expected a PEM 'PUBLIC KEY', found '{label}'")
    return public_key_from_der(der)


# --- private keys ------------------------------------------------------------------------


def private_key_to_der(key: SM2PrivateKey) -> bytes:
    """PKCS#8 PrivateKeyInfo, as ``openssl genpkey -algorithm SM2`` writes it."""
    inner = keys.ECPrivateKey(
        {
            "version": "ecPrivkeyVer1",
            "private_key": int.from_bytes(key.private_bytes(), "big"),
            "public_key": key.public_key.uncompressed,
        }
    )
    inner.set_key_size(32)
    info = keys.PrivateKeyInfo(
        {
            "version": 0,
            "private_key_algorithm": keys.PrivateKeyAlgorithm(
                {"algorithm": "ec", "parameters": _sm2_parameters()}
            ),
            "private_key": inner,
        }
    )
    return bytes(info.dump())


def private_key_to_pem(key: SM2PrivateKey) -> str:
    return str(pem.armor("PRIVATE KEY", private_key_to_der(key)).decode("ascii"))


def _from_ec_private_key(inner: keys.ECPrivateKey) -> SM2PrivateKey:
    scalar = inner["private_key"].native
    if not isinstance(scalar, int):
        raise InvalidKeyFile("the EC private key holds no scalar")
    try:
        key = SM2PrivateKey.from_bytes(scalar.to_bytes(32, "big"))
    except (InvalidKey, OverflowError):
        raise InvalidKeyFile("the SM2 private key is out of range") from None
    embedded = inner["public_key"]
    if embedded.native is not None:
        try:
            public = SM2PublicKey.from_bytes(embedded.native)
        except InvalidKey as exc:
            raise InvalidKeyFile(exc.message) from None
        if public != key.public_key:
            raise InvalidKeyFile("the public key in the file does not belong to its private key")
    return key


def private_key_from_der(der: bytes) -> SM2PrivateKey:
    """Read PKCS#8 ``PrivateKeyInfo`` or SEC1 ``ECPrivateKey`` DER."""
    try:
        info = keys.PrivateKeyInfo.load(der, strict=True)
        algorithm = info["private_key_algorithm"]["algorithm"].native
        parameters = info["private_key_algorithm"]["parameters"]
    except (ValueError, TypeError):
        return _sec1_from_der(der)
    _require_sm2(algorithm, parameters)
    try:
        inner = keys.ECPrivateKey.load(info["private_key"].contents, strict=True)
        inner["private_key"].native  # noqa: B018  (parse now, inside the try)
    except (ValueError, TypeError) as exc:
        raise InvalidKeyFile(f"the PKCS#8 key holds no valid EC private key ({exc})") from None
    return _from_ec_private_key(inner)


def _sec1_from_der(der: bytes) -> SM2PrivateKey:
    try:
        inner = keys.ECPrivateKey.load(der, strict=True)
        parameters = inner["parameters"]
        inner["private_key"].native  # noqa: B018
    except (ValueError, TypeError) as exc:
        raise InvalidKeyFile(f"the private key is neither PKCS#8 nor SEC1 ({exc})") from None
    if parameters.native is not None:
        _require_sm2("ec", parameters)
    return _from_ec_private_key(inner)


def load_private_key(data: bytes | str) -> SM2PrivateKey:
    """Read an SM2 private key in PEM (PKCS#8 or SEC1) or DER."""
    label, der = _unarmor(data, "private key")
    if label == "ENCRYPTED PRIVATE KEY":
        raise InvalidKeyFile(
            "the private key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)"
        )
    if label is None or label == "PRIVATE KEY":
        return private_key_from_der(der)
    if label in _SEC1_LABELS:
        return _sec1_from_der(der)
    raise InvalidKeyFile(f"expected a PEM 'PRIVATE KEY' or 'EC PRIVATE KEY', found '{label}'")
