"""SM2, SM3 and SM4 over ``gmssl-pyx`` (GmSSL compiled in), with the platform's conventions.

- SM2 signatures are DER ``SEQUENCE { r, s }`` with the user id ``1234567812345678`` unless
  a partner agreed another. The Z value (GB/T 32918.2, 5.5) depends only on the public key
  and the user id, so it is computed once per key and id and cached; signing and verifying
  then hash ``Z || M`` and call the digest functions of GmSSL.
- SM2 ciphertexts are DER C1C3C2 (GB/T 35276), the form OpenSSL 3 reads and writes.
- SM4-GCM blobs are ``nonce (12) || ciphertext || tag (16)``. GmSSL refuses an empty
  plaintext, so the tag of an empty message is computed here (GHASH over the AAD only).
- Private keys and secret keys never appear in ``repr``, logs or error messages.

Curve arithmetic in pure Python is used only where GmSSL offers nothing: deriving the
public key from a private scalar (loading a key), checking and decompressing points.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Final

import gmssl_pyx

from sscard.crypto.errors import DecryptionFailed, InvalidCryptoInput, InvalidKey

DEFAULT_UID: Final = b"1234567812345678"
"""The SM2 user id of GM/T 0009 used when no other was agreed with a partner."""

SM4_KEY_SIZE: Final = 16
GCM_NONCE_SIZE: Final = 12
GCM_TAG_SIZE: Final = 16
SM2_MAX_PLAINTEXT: Final = 255

# The recommended SM2 curve (GB/T 32918.5): y^2 = x^3 + ax + b over F_p, base point G of order n.
P: Final = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A: Final = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B: Final = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N: Final = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX: Final = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY: Final = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

_CURVE_PREFIX: Final = b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY))


# --- SM3 ---------------------------------------------------------------------------------


def sm3(data: bytes) -> bytes:
    """SM3 digest (32 bytes)."""
    return bytes(gmssl_pyx.sm3_hash(data))


def sm3_hmac(key: bytes, data: bytes) -> bytes:
    """HMAC-SM3 (32 bytes)."""
    if not key:
        raise InvalidKey("an HMAC-SM3 key cannot be empty")
    return bytes(gmssl_pyx.sm3_hmac(key, data))


def sm3_kdf(shared: bytes, length: int) -> bytes:
    """The key derivation function of GB/T 32918.4 (SM3 over ``shared || counter``)."""
    if length < 1:
        raise InvalidCryptoInput("the KDF output length must be at least one byte")
    return bytes(gmssl_pyx.sm3_kdf(shared, length))


def hmac_kdf(key: bytes, *, label: bytes, context: bytes, length: int) -> bytes:
    """Counter-mode KDF with HMAC-SM3 as PRF (NIST SP 800-108).

    Block i is ``HMAC(key, i (4 bytes) || label || 0x00 || context || L (4 bytes))`` where L
    is the output length in bits; blocks are concatenated and cut to ``length`` bytes.
    """
    if not 1 <= length <= 1024:
        raise InvalidCryptoInput("the derived key length must be 1 to 1024 bytes")
    suffix = label + b"\x00" + context + (length * 8).to_bytes(4, "big")
    blocks = [
        gmssl_pyx.sm3_hmac(key, counter.to_bytes(4, "big") + suffix)
        for counter in range(1, (length + 31) // 32 + 1)
    ]
    return b"".join(blocks)[:length]


def random_bytes(n: int) -> bytes:
    """``n`` bytes from the operating system's CSPRNG (any ``n`` >= 0)."""
    if n < 0:
        raise InvalidCryptoInput("a negative number of random bytes was asked for")
    return secrets.token_bytes(n)


# --- SM4 ---------------------------------------------------------------------------------


def _check_sm4_key(key: bytes) -> None:
    if len(key) != SM4_KEY_SIZE:
        raise InvalidKey(f"an SM4 key is 16 bytes, got {len(key)}")


def sm4_ecb_encrypt_block(key: bytes, block: bytes) -> bytes:
    """SM4 of one 16-byte block (CBC with a zero IV on one block; used for test vectors)."""
    _check_sm4_key(key)
    if len(block) != 16:
        raise InvalidCryptoInput("an SM4 block is 16 bytes")
    return bytes(gmssl_pyx.sm4_cbc_padding_encrypt(key, bytes(16), block))[:16]


def sm4_cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """SM4-CBC with PKCS#7 padding, for peers that require CBC."""
    _check_sm4_key(key)
    if len(iv) != 16:
        raise InvalidCryptoInput("an SM4-CBC IV is 16 bytes")
    if not data:  # GmSSL refuses empty input; its padding is one block of 0x10
        return bytes(gmssl_pyx.sm4_cbc_padding_encrypt(key, iv, b"\x10" * 16))[:16]
    return bytes(gmssl_pyx.sm4_cbc_padding_encrypt(key, iv, data))


def sm4_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """SM4-CBC decryption; bad padding or length raises :class:`DecryptionFailed`."""
    _check_sm4_key(key)
    if len(iv) != 16:
        raise InvalidCryptoInput("an SM4-CBC IV is 16 bytes")
    if not data or len(data) % 16:
        raise DecryptionFailed("the SM4-CBC ciphertext is not a whole number of blocks")
    try:
        return bytes(gmssl_pyx.sm4_cbc_padding_decrypt(key, iv, data))
    except gmssl_pyx.GmsslInnerError:
        raise DecryptionFailed("the SM4-CBC ciphertext does not decrypt") from None


def sm4_gcm_encrypt(
    key: bytes, plaintext: bytes, *, aad: bytes = b"", nonce: bytes | None = None
) -> bytes:
    """SM4-GCM: returns ``nonce (12) || ciphertext || tag (16)``; the nonce is random by default."""
    _check_sm4_key(key)
    if nonce is None:
        nonce = secrets.token_bytes(GCM_NONCE_SIZE)
    elif len(nonce) != GCM_NONCE_SIZE:
        raise InvalidCryptoInput("an SM4-GCM nonce is 12 bytes")
    if not plaintext:
        return nonce + gcm_tag(key, nonce, aad, b"")
    ciphertext, tag = gmssl_pyx.sm4_gcm_encrypt(key, nonce, aad, plaintext)
    return nonce + bytes(ciphertext) + bytes(tag)


def sm4_gcm_decrypt(key: bytes, blob: bytes, *, aad: bytes = b"") -> bytes:
    """Open an SM4-GCM blob; any change to it or to ``aad`` raises :class:`DecryptionFailed`."""
    _check_sm4_key(key)
    if len(blob) < GCM_NONCE_SIZE + GCM_TAG_SIZE:
        raise DecryptionFailed("the SM4-GCM ciphertext is too short")
    nonce = blob[:GCM_NONCE_SIZE]
    ciphertext = blob[GCM_NONCE_SIZE:-GCM_TAG_SIZE]
    tag = blob[-GCM_TAG_SIZE:]
    if not ciphertext:
        if hmac.compare_digest(gcm_tag(key, nonce, aad, b""), tag):
            return b""
        raise DecryptionFailed("the SM4-GCM authentication tag does not match")
    try:
        return bytes(gmssl_pyx.sm4_gcm_decrypt(key, nonce, aad, ciphertext, tag))
    except gmssl_pyx.GmsslInnerError:
        raise DecryptionFailed("the SM4-GCM authentication tag does not match") from None


_GCM_R: Final = 0xE1 << 120


def _gf128_mul(x: int, y: int) -> int:
    z = 0
    v = y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ _GCM_R if v & 1 else v >> 1
    return z


def _ghash(h: int, aad: bytes, ciphertext: bytes) -> int:
    def padded(data: bytes) -> bytes:
        return data + bytes(-len(data) % 16)

    data = (
        padded(aad)
        + padded(ciphertext)
        + (len(aad) * 8).to_bytes(8, "big")
        + (len(ciphertext) * 8).to_bytes(8, "big")
    )
    y = 0
    for i in range(0, len(data), 16):
        y = _gf128_mul(y ^ int.from_bytes(data[i : i + 16], "big"), h)
    return y


def gcm_tag(key: bytes, nonce: bytes, aad: bytes, ciphertext: bytes) -> bytes:
    """The GCM tag of ``ciphertext`` (NIST SP 800-38D) with SM4; used for empty messages."""
    h = int.from_bytes(sm4_ecb_encrypt_block(key, bytes(16)), "big")
    j0 = sm4_ecb_encrypt_block(key, nonce + b"\x00\x00\x00\x01")
    return (int.from_bytes(j0, "big") ^ _ghash(h, aad, ciphertext)).to_bytes(16, "big")


# --- curve arithmetic (pure Python, for key loading and point checks) ----------------------

_Jacobian = tuple[int, int, int]


def _jacobian_double(p: _Jacobian) -> _Jacobian:
    x, y, z = p
    if y == 0 or z == 0:
        return (0, 1, 0)
    yy = y * y % P
    s = 4 * x * yy % P
    zz = z * z % P
    m = (3 * x * x + A * zz * zz) % P
    x3 = (m * m - 2 * s) % P
    y3 = (m * (s - x3) - 8 * yy * yy) % P
    z3 = 2 * y * z % P
    return (x3, y3, z3)


def _jacobian_add(p: _Jacobian, q: _Jacobian) -> _Jacobian:
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    x1, y1, z1 = p
    x2, y2, z2 = q
    z1z1 = z1 * z1 % P
    z2z2 = z2 * z2 % P
    u1 = x1 * z2z2 % P
    u2 = x2 * z1z1 % P
    s1 = y1 * z2 * z2z2 % P
    s2 = y2 * z1 * z1z1 % P
    if u1 == u2:
        return _jacobian_double(p) if s1 == s2 else (0, 1, 0)
    h = (u2 - u1) % P
    r = (s2 - s1) % P
    hh = h * h % P
    hhh = h * hh % P
    v = u1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    y3 = (r * (v - x3) - s1 * hhh) % P
    z3 = h * z1 * z2 % P
    return (x3, y3, z3)


def _scalar_base_mult(k: int) -> tuple[int, int]:
    result: _Jacobian = (0, 1, 0)
    addend: _Jacobian = (GX, GY, 1)
    while k:
        if k & 1:
            result = _jacobian_add(result, addend)
        addend = _jacobian_double(addend)
        k >>= 1
    x, y, z = result
    z_inv = pow(z, -1, P)
    zz_inv = z_inv * z_inv % P
    return (x * zz_inv % P, y * zz_inv * z_inv % P)


def _on_curve(x: int, y: int) -> bool:
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


def _decompress(prefix: int, x: int) -> int:
    if x >= P:
        raise InvalidKey("the public key is not a point on the SM2 curve")
    rhs = (x * x * x + A * x + B) % P
    y = pow(rhs, (P + 1) // 4, P)  # P = 3 (mod 4)
    if y * y % P != rhs:
        raise InvalidKey("the public key is not a point on the SM2 curve")
    if y & 1 != prefix & 1:
        y = P - y
    return y


# --- SM2 ---------------------------------------------------------------------------------


class SM2PublicKey:
    """A point on the SM2 curve; compares and hashes by value."""

    __slots__ = ("_raw", "_z")

    def __init__(self, raw: bytes) -> None:
        x = int.from_bytes(raw[:32], "big")
        y = int.from_bytes(raw[32:], "big")
        if len(raw) != 64 or not _on_curve(x, y):
            raise InvalidKey("the public key is not a point on the SM2 curve")
        self._raw = bytes(raw)
        self._z: dict[bytes, bytes] = {}

    @classmethod
    def from_bytes(cls, data: bytes) -> SM2PublicKey:
        """Read 64 bytes ``x || y``, 65 bytes ``04 || x || y`` or 33 bytes ``02|03 || x``."""
        if len(data) == 64:
            return cls(data)
        if len(data) == 65 and data[0] == 4:
            return cls(data[1:])
        if len(data) == 33 and data[0] in (2, 3):
            x = int.from_bytes(data[1:], "big")
            return cls(data[1:] + _decompress(data[0], x).to_bytes(32, "big"))
        raise InvalidKey(
            f"an SM2 public key is 64, 65 (04 x y) or 33 (02|03 x) bytes, got {len(data)}"
        )

    @property
    def raw(self) -> bytes:
        """``x || y``, 64 bytes."""
        return self._raw

    @property
    def uncompressed(self) -> bytes:
        """``04 || x || y``, 65 bytes (the form inside X.509 and PKCS#8)."""
        return b"\x04" + self._raw

    @property
    def compressed(self) -> bytes:
        return bytes([2 | (self._raw[-1] & 1)]) + self._raw[:32]

    @property
    def fingerprint(self) -> str:
        """First 8 bytes of SM3 over ``x || y``, hex; safe to show anywhere."""
        return sm3(self._raw)[:8].hex()

    def z_value(self, uid: bytes = DEFAULT_UID) -> bytes:
        """Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA), cached per user id."""
        z = self._z.get(uid)
        if z is None:
            if len(uid) >= 8192:
                raise InvalidCryptoInput("the SM2 user id is longer than 8191 bytes")
            entl = (len(uid) * 8).to_bytes(2, "big")
            z = sm3(entl + uid + _CURVE_PREFIX + self._raw)
            self._z[uid] = z
        return z

    def message_digest(self, message: bytes, uid: bytes = DEFAULT_UID) -> bytes:
        """e = SM3(Z || M), the value that is signed."""
        return bytes(gmssl_pyx.sm3_hash(self.z_value(uid) + message))

    def verify(self, message: bytes, signature: bytes, uid: bytes = DEFAULT_UID) -> bool:
        """True when ``signature`` (DER) is this key's SM2 signature of ``message``."""
        return self.verify_digest(self.message_digest(message, uid), signature)

    def verify_digest(self, digest: bytes, signature: bytes) -> bool:
        if len(digest) != 32 or not 8 <= len(signature) <= 72:
            return False
        try:
            return bool(gmssl_pyx.sm2_verify_sm3_digest(self._raw, digest, signature))
        except gmssl_pyx.GmsslInnerError:
            return False

    def encrypt(self, plaintext: bytes) -> bytes:
        """SM2 public-key encryption; DER C1C3C2. Plaintext of 1 to 255 bytes."""
        if not 1 <= len(plaintext) <= SM2_MAX_PLAINTEXT:
            raise InvalidCryptoInput("SM2 encrypts 1 to 255 bytes; use an SM4 envelope beyond")
        return bytes(gmssl_pyx.sm2_encrypt(self._raw, plaintext))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SM2PublicKey) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"SM2PublicKey(fingerprint={self.fingerprint})"


class SM2PrivateKey:
    """An SM2 private scalar with its public key; never shows the scalar."""

    __slots__ = ("_d", "_public")

    def __init__(self, d: bytes, public_key: SM2PublicKey) -> None:
        self._d = d
        self._public = public_key

    @classmethod
    def generate(cls) -> SM2PrivateKey:
        public, private = gmssl_pyx.sm2_key_generate()
        return cls(bytes(private), SM2PublicKey(bytes(public)))

    @classmethod
    def from_bytes(cls, data: bytes, *, public_key: SM2PublicKey | None = None) -> SM2PrivateKey:
        """Load a 32-byte scalar; the public key is computed unless given (then it is trusted)."""
        if len(data) != 32:
            raise InvalidKey(f"an SM2 private key is 32 bytes, got {len(data)}")
        d = int.from_bytes(data, "big")
        if not 1 <= d <= N - 2:
            raise InvalidKey("the SM2 private key is out of range")
        if public_key is None:
            x, y = _scalar_base_mult(d)
            public_key = SM2PublicKey(x.to_bytes(32, "big") + y.to_bytes(32, "big"))
        return cls(bytes(data), public_key)

    @property
    def public_key(self) -> SM2PublicKey:
        return self._public

    def private_bytes(self) -> bytes:
        """The 32-byte scalar, for wrapping and for PEM export only."""
        return self._d

    def matches(self, public_key: SM2PublicKey) -> bool:
        """True when ``public_key`` is d·G for this key's scalar."""
        x, y = _scalar_base_mult(int.from_bytes(self._d, "big"))
        return public_key.raw == x.to_bytes(32, "big") + y.to_bytes(32, "big")

    def sign(self, message: bytes, uid: bytes = DEFAULT_UID) -> bytes:
        """SM2 signature of ``message`` with user id ``uid``, DER ``SEQUENCE { r, s }``."""
        return bytes(
            gmssl_pyx.sm2_sign_sm3_digest(self._d, self._public.message_digest(message, uid))
        )

    def sign_digest(self, digest: bytes) -> bytes:
        """Sign e = SM3(Z || M) computed by the caller."""
        if len(digest) != 32:
            raise InvalidCryptoInput("an SM3 digest is 32 bytes")
        return bytes(gmssl_pyx.sm2_sign_sm3_digest(self._d, digest))

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Open a DER C1C3C2 ciphertext; tampering raises :class:`DecryptionFailed`."""
        if not 45 <= len(ciphertext) <= 366:
            raise DecryptionFailed("the SM2 ciphertext has an impossible length")
        try:
            return bytes(gmssl_pyx.sm2_decrypt(self._d, ciphertext))
        except gmssl_pyx.GmsslInnerError:
            raise DecryptionFailed("the SM2 ciphertext does not decrypt") from None

    def __repr__(self) -> str:
        return f"SM2PrivateKey(public={self._public.fingerprint})"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("SM2 private keys are not pickled; wrap them with the key store")
