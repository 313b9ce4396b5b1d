"""SM3, SM4 and SM2 against the published vectors, and the properties the platform relies on."""

from __future__ import annotations

import hashlib
import hmac
import pickle

import gmssl_pyx
import pytest
from asn1crypto.algos import DSASignature
from hypothesis import given, settings
from hypothesis import strategies as st

from sscard.crypto import primitives
from sscard.crypto.errors import DecryptionFailed, InvalidCryptoInput, InvalidKey
from sscard.crypto.primitives import DEFAULT_UID, SM2PrivateKey, SM2PublicKey

# GB/T 32918.5-2017 (GM/T 0003.5-2012) annex A: signature example on the recommended curve.
EXAMPLE_D = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
EXAMPLE_X = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
EXAMPLE_Y = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
EXAMPLE_Z = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
EXAMPLE_E = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
EXAMPLE_R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
EXAMPLE_S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA


def example_public_key() -> SM2PublicKey:
    return SM2PublicKey.from_bytes(bytes.fromhex("04" + EXAMPLE_X + EXAMPLE_Y))


def example_signature() -> bytes:
    return bytes(DSASignature({"r": EXAMPLE_R, "s": EXAMPLE_S}).dump())


# --- SM3 ---------------------------------------------------------------------------------


def test_sm3_of_abc_is_the_published_digest() -> None:
    assert primitives.sm3(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_sm3_of_the_512_bit_example_message_is_the_published_digest() -> None:
    assert primitives.sm3(b"abcd" * 16).hex() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )


@settings(max_examples=50)
@given(st.binary(max_size=300), st.binary(min_size=1, max_size=100))
def test_sm3_and_hmac_sm3_agree_with_openssl_through_hashlib(data: bytes, key: bytes) -> None:
    assert primitives.sm3(data) == hashlib.new("sm3", data).digest()
    assert primitives.sm3_hmac(key, data) == hmac.new(key, data, "sm3").digest()


def test_an_empty_hmac_key_is_refused() -> None:
    with pytest.raises(InvalidKey):
        primitives.sm3_hmac(b"", b"data")


def test_the_sm3_kdf_is_sm3_over_the_shared_value_and_a_counter() -> None:
    shared = b"shared secret z"
    expected = primitives.sm3(shared + b"\x00\x00\x00\x01") + primitives.sm3(
        shared + b"\x00\x00\x00\x02"
    )
    assert primitives.sm3_kdf(shared, 40) == expected[:40]


def test_the_hmac_kdf_depends_on_label_context_and_length() -> None:
    key = bytes(32)
    one = primitives.hmac_kdf(key, label=b"l", context=b"card 1", length=16)
    assert one == primitives.hmac_kdf(key, label=b"l", context=b"card 1", length=16)
    assert one != primitives.hmac_kdf(key, label=b"l", context=b"card 2", length=16)
    assert one != primitives.hmac_kdf(key, label=b"m", context=b"card 1", length=16)
    assert one != primitives.hmac_kdf(key, label=b"l", context=b"card 1", length=32)[:16]
    assert len(primitives.hmac_kdf(key, label=b"l", context=b"", length=100)) == 100


@pytest.mark.parametrize("n", [0, 1, 12, 256, 257, 5000])
def test_random_bytes_gives_any_length_asked_for(n: int) -> None:
    assert len(primitives.random_bytes(n)) == n


def test_random_bytes_differ_between_calls() -> None:
    assert primitives.random_bytes(16) != primitives.random_bytes(16)


# --- SM4 ---------------------------------------------------------------------------------

SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


def test_sm4_encrypts_the_standard_block() -> None:
    assert primitives.sm4_ecb_encrypt_block(SM4_KEY, SM4_KEY).hex() == (
        "681edf34d206965e86b3e94f536e4246"
    )


def test_sm4_encrypting_the_standard_block_a_million_times_gives_the_published_value() -> None:
    block = SM4_KEY
    for _ in range(1_000_000):
        block = primitives.sm4_ecb_encrypt_block(SM4_KEY, block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


def test_sm4_refuses_a_key_that_is_not_16_bytes() -> None:
    with pytest.raises(InvalidKey):
        primitives.sm4_gcm_encrypt(b"short", b"data")


@settings(max_examples=100)
@given(st.binary(max_size=2000), st.binary(max_size=64))
def test_sm4_gcm_round_trips_any_message_and_aad(plaintext: bytes, aad: bytes) -> None:
    key = primitives.random_bytes(16)
    blob = primitives.sm4_gcm_encrypt(key, plaintext, aad=aad)
    assert len(blob) == 12 + len(plaintext) + 16
    assert primitives.sm4_gcm_decrypt(key, blob, aad=aad) == plaintext


@settings(max_examples=100)
@given(st.binary(max_size=200), st.binary(max_size=32), st.data())
def test_sm4_gcm_detects_any_changed_byte(
    plaintext: bytes, aad: bytes, data: st.DataObject
) -> None:
    key = primitives.random_bytes(16)
    blob = bytearray(primitives.sm4_gcm_encrypt(key, plaintext, aad=aad))
    index = data.draw(st.integers(0, len(blob) - 1))
    blob[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(DecryptionFailed):
        primitives.sm4_gcm_decrypt(key, bytes(blob), aad=aad)


@settings(max_examples=50)
@given(st.binary(max_size=100), st.binary(min_size=1, max_size=32))
def test_sm4_gcm_refuses_other_aad_a_truncated_blob_and_another_key(
    plaintext: bytes, other: bytes
) -> None:
    key = primitives.random_bytes(16)
    blob = primitives.sm4_gcm_encrypt(key, plaintext, aad=b"row 1")
    with pytest.raises(DecryptionFailed):
        primitives.sm4_gcm_decrypt(key, blob, aad=b"row 1" + other)
    with pytest.raises(DecryptionFailed):
        primitives.sm4_gcm_decrypt(key, blob[:-1], aad=b"row 1")
    with pytest.raises(DecryptionFailed):
        primitives.sm4_gcm_decrypt(primitives.random_bytes(16), blob, aad=b"row 1")


@settings(max_examples=50)
@given(st.binary(min_size=1, max_size=100), st.binary(max_size=40))
def test_the_gcm_tag_computed_here_equals_gmssl_s(plaintext: bytes, aad: bytes) -> None:
    key, nonce = primitives.random_bytes(16), primitives.random_bytes(12)
    ciphertext, tag = gmssl_pyx.sm4_gcm_encrypt(key, nonce, aad, plaintext)
    assert primitives.gcm_tag(key, nonce, aad, bytes(ciphertext)) == bytes(tag)


def test_sm4_gcm_uses_the_nonce_it_is_given() -> None:
    nonce = bytes(range(12))
    blob = primitives.sm4_gcm_encrypt(SM4_KEY, b"x", nonce=nonce)
    assert blob[:12] == nonce
    with pytest.raises(InvalidCryptoInput):
        primitives.sm4_gcm_encrypt(SM4_KEY, b"x", nonce=bytes(8))


@settings(max_examples=50)
@given(st.binary(max_size=100))
def test_sm4_cbc_round_trips_with_pkcs7_padding(plaintext: bytes) -> None:
    iv = primitives.random_bytes(16)
    ciphertext = primitives.sm4_cbc_encrypt(SM4_KEY, iv, plaintext)
    assert len(ciphertext) == (len(plaintext) // 16 + 1) * 16
    assert primitives.sm4_cbc_decrypt(SM4_KEY, iv, ciphertext) == plaintext


def test_sm4_cbc_refuses_bad_padding_and_partial_blocks() -> None:
    iv = bytes(16)
    # A block that decrypts to something ending in 0x00 can never carry valid padding.
    bad = primitives.sm4_cbc_encrypt(SM4_KEY, iv, b"fifteen bytes..\x00")[:16]
    with pytest.raises(DecryptionFailed):
        primitives.sm4_cbc_decrypt(SM4_KEY, iv, bad)
    with pytest.raises(DecryptionFailed):
        primitives.sm4_cbc_decrypt(SM4_KEY, iv, bytes(20))


# --- SM2 ---------------------------------------------------------------------------------


def test_the_standard_example_private_key_gives_the_published_public_key() -> None:
    key = SM2PrivateKey.from_bytes(bytes.fromhex(EXAMPLE_D))
    assert key.public_key.raw.hex().upper() == EXAMPLE_X + EXAMPLE_Y


def test_the_z_value_and_digest_of_the_standard_example_match_the_published_ones() -> None:
    public = example_public_key()
    assert public.z_value(DEFAULT_UID).hex().upper() == EXAMPLE_Z
    assert public.message_digest(b"message digest").hex().upper() == EXAMPLE_E


def test_the_standard_example_signature_verifies() -> None:
    assert example_public_key().verify(b"message digest", example_signature())


def test_the_standard_example_signature_fails_for_another_message_or_user_id() -> None:
    public = example_public_key()
    assert not public.verify(b"message digesT", example_signature())
    assert not public.verify(b"message digest", example_signature(), uid=b"ALICE123@YAHOO.COM")


def test_a_signature_verifies_only_with_its_message_key_and_user_id() -> None:
    key = SM2PrivateKey.generate()
    signature = key.sign(b"ecard 1", uid=b"partner-7")
    assert key.public_key.verify(b"ecard 1", signature, uid=b"partner-7")
    assert not key.public_key.verify(b"ecard 1", signature)
    assert not key.public_key.verify(b"ecard 2", signature, uid=b"partner-7")
    assert not SM2PrivateKey.generate().public_key.verify(b"ecard 1", signature, b"partner-7")


def test_signing_with_the_cached_z_equals_gmssl_full_signing_semantics() -> None:
    key = SM2PrivateKey.generate()
    full = gmssl_pyx.sm2_sign(key.private_bytes(), key.public_key.raw, b"hello")
    assert key.public_key.verify(b"hello", bytes(full))
    assert gmssl_pyx.sm2_verify(key.public_key.raw, b"hello", key.sign(b"hello"))


@pytest.mark.parametrize(
    "signature",
    [b"", b"\x30", b"\x30\x00", b"garbage" * 3, bytes(72), b"\x30\x06\x02\x01\x01\x02\x01\x01"],
)
def test_a_malformed_signature_is_refused_without_raising(signature: bytes) -> None:
    assert example_public_key().verify(b"message digest", signature) is False


def test_sign_digest_signs_a_digest_computed_by_the_caller() -> None:
    key = SM2PrivateKey.generate()
    digest = key.public_key.message_digest(b"file contents")
    assert key.public_key.verify(b"file contents", key.sign_digest(digest))
    with pytest.raises(InvalidCryptoInput):
        key.sign_digest(b"short")


def test_sm2_encryption_round_trips() -> None:
    key = SM2PrivateKey.generate()
    for message in (b"x", b"a data key 16 b.", bytes(range(255))):
        assert key.decrypt(key.public_key.encrypt(message)) == message


def test_a_tampered_sm2_ciphertext_does_not_decrypt() -> None:
    key = SM2PrivateKey.generate()
    ciphertext = bytearray(key.public_key.encrypt(b"session key"))
    ciphertext[-3] ^= 0x01
    with pytest.raises(DecryptionFailed):
        key.decrypt(bytes(ciphertext))
    with pytest.raises(DecryptionFailed):
        SM2PrivateKey.generate().decrypt(key.public_key.encrypt(b"session key"))


def test_sm2_encryption_refuses_empty_and_over_long_plaintexts() -> None:
    public = SM2PrivateKey.generate().public_key
    with pytest.raises(InvalidCryptoInput):
        public.encrypt(b"")
    with pytest.raises(InvalidCryptoInput):
        public.encrypt(bytes(256))


def test_a_public_key_reads_raw_uncompressed_and_compressed_points() -> None:
    for _ in range(20):
        public = SM2PrivateKey.generate().public_key
        assert SM2PublicKey.from_bytes(public.raw) == public
        assert SM2PublicKey.from_bytes(public.uncompressed) == public
        assert SM2PublicKey.from_bytes(public.compressed) == public
        assert hash(SM2PublicKey.from_bytes(public.compressed)) == hash(public)


def test_a_point_off_the_curve_is_refused() -> None:
    raw = bytearray(example_public_key().raw)
    raw[-1] ^= 1
    with pytest.raises(InvalidKey):
        SM2PublicKey.from_bytes(bytes(raw))
    with pytest.raises(InvalidKey):
        SM2PublicKey.from_bytes(b"\x04" + bytes(64))
    with pytest.raises(InvalidKey):
        SM2PublicKey.from_bytes(bytes(10))


def test_a_private_key_out_of_range_is_refused() -> None:
    for scalar in (0, primitives.N - 1, primitives.N):
        with pytest.raises(InvalidKey):
            SM2PrivateKey.from_bytes(scalar.to_bytes(32, "big"))
    with pytest.raises(InvalidKey):
        SM2PrivateKey.from_bytes(bytes(31))


def test_a_loaded_private_key_matches_its_generated_public_key() -> None:
    key = SM2PrivateKey.generate()
    loaded = SM2PrivateKey.from_bytes(key.private_bytes())
    assert loaded.public_key == key.public_key
    assert loaded.matches(key.public_key)


def test_repr_and_pickle_never_reveal_a_private_key() -> None:
    key = SM2PrivateKey.from_bytes(bytes.fromhex(EXAMPLE_D))
    text = repr(key) + str(key) + repr(key.public_key)
    assert EXAMPLE_D.lower() not in text.lower()
    assert key.public_key.fingerprint in text
    with pytest.raises(TypeError):
        pickle.dumps(key)
