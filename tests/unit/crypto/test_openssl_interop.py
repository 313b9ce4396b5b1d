"""Interoperability with the OpenSSL 3 command line, both ways: keys, signatures, encryption."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sscard.crypto import pem
from sscard.crypto.primitives import DEFAULT_UID, SM2PrivateKey

DISTID = "distid:" + DEFAULT_UID.decode()


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, capture_output=True, check=False)


def openssl_key(openssl: str, directory: Path) -> Path:
    path = directory / "openssl.pem"
    subprocess.run([openssl, "genpkey", "-algorithm", "SM2", "-out", str(path)], check=True)
    return path


def test_a_signature_made_by_openssl_verifies_here(openssl: str, tmp_path: Path) -> None:
    key_file = openssl_key(openssl, tmp_path)
    data = tmp_path / "batch.txt"
    data.write_bytes("制卡批次 370800-0001\n".encode() * 100)
    signature = tmp_path / "batch.sig"
    subprocess.run(
        [
            openssl,
            "dgst",
            "-sm3",
            "-sign",
            str(key_file),
            "-sigopt",
            DISTID,
            "-out",
            str(signature),
            str(data),
        ],
        check=True,
    )
    public = pem.load_private_key(key_file.read_bytes()).public_key
    assert public.verify(data.read_bytes(), signature.read_bytes())
    assert not public.verify(data.read_bytes() + b"!", signature.read_bytes())


def test_a_signature_made_here_verifies_in_openssl(openssl: str, tmp_path: Path) -> None:
    key = SM2PrivateKey.generate()
    public_file = tmp_path / "pub.pem"
    public_file.write_text(pem.public_key_to_pem(key.public_key))
    data = tmp_path / "result.csv"
    data.write_bytes(b"seq,card_no\n1,A12345678\n")
    signature = tmp_path / "result.sig"
    signature.write_bytes(key.sign(data.read_bytes()))
    verified = run(
        openssl,
        "dgst",
        "-sm3",
        "-verify",
        str(public_file),
        "-sigopt",
        DISTID,
        "-signature",
        str(signature),
        str(data),
    )
    assert verified.returncode == 0, verified.stderr
    assert b"Verified OK" in verified.stdout


def test_a_partner_user_id_is_honoured_both_ways(openssl: str, tmp_path: Path) -> None:
    key_file = openssl_key(openssl, tmp_path)
    data = tmp_path / "m"
    data.write_bytes(b"message")
    signature = tmp_path / "s"
    subprocess.run(
        [
            openssl,
            "dgst",
            "-sm3",
            "-sign",
            str(key_file),
            "-sigopt",
            "distid:BANK-ICBC",
            "-out",
            str(signature),
            str(data),
        ],
        check=True,
    )
    key = pem.load_private_key(key_file.read_text())
    assert key.public_key.verify(b"message", signature.read_bytes(), uid=b"BANK-ICBC")
    assert not key.public_key.verify(b"message", signature.read_bytes())


def test_openssl_reads_our_private_key_and_derives_the_same_public_key(
    openssl: str, tmp_path: Path
) -> None:
    key = SM2PrivateKey.generate()
    key_file = tmp_path / "ours.pem"
    key_file.write_text(pem.private_key_to_pem(key))
    derived = run(openssl, "pkey", "-in", str(key_file), "-pubout")
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout.decode() == pem.public_key_to_pem(key.public_key)
    rewritten = run(openssl, "pkey", "-in", str(key_file))
    assert rewritten.stdout.decode() == pem.private_key_to_pem(key)


def test_openssl_signs_with_our_private_key_and_we_verify(openssl: str, tmp_path: Path) -> None:
    key = SM2PrivateKey.generate()
    key_file = tmp_path / "ours.pem"
    key_file.write_text(pem.private_key_to_pem(key))
    data = tmp_path / "m"
    data.write_bytes(b"x" * 1000)
    signature = tmp_path / "s"
    subprocess.run(
        [
            openssl,
            "dgst",
            "-sm3",
            "-sign",
            str(key_file),
            "-sigopt",
            DISTID,
            "-out",
            str(signature),
            str(data),
        ],
        check=True,
    )
    assert key.public_key.verify(data.read_bytes(), signature.read_bytes())


def test_we_read_every_form_openssl_writes(openssl: str, tmp_path: Path) -> None:
    key_file = openssl_key(openssl, tmp_path)
    expected = pem.load_private_key(key_file.read_text()).public_key
    public_pem = run(openssl, "pkey", "-in", str(key_file), "-pubout").stdout
    public_der = run(openssl, "pkey", "-in", str(key_file), "-pubout", "-outform", "DER").stdout
    sec1_pem = run(openssl, "ec", "-in", str(key_file)).stdout
    sec1_der = run(openssl, "pkey", "-in", str(key_file), "-outform", "DER").stdout
    assert pem.load_public_key(public_pem) == expected
    assert pem.load_public_key(public_der) == expected
    assert public_der == pem.public_key_to_der(expected)
    assert pem.load_private_key(sec1_pem).public_key == expected
    assert pem.load_private_key(sec1_der).public_key == expected


def test_openssl_reads_our_public_key(openssl: str, tmp_path: Path) -> None:
    public = SM2PrivateKey.generate().public_key
    public_file = tmp_path / "pub.pem"
    public_file.write_text(pem.public_key_to_pem(public))
    text = run(openssl, "pkey", "-pubin", "-in", str(public_file), "-text", "-noout")
    assert text.returncode == 0, text.stderr
    assert b"SM2" in text.stdout
    assert public.uncompressed.hex()[:20] in text.stdout.decode().replace(":", "").replace(
        "\n", ""
    ).replace(" ", "")


def test_a_p256_key_from_openssl_is_refused_with_its_curve_named(
    openssl: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "p256.pem"
    subprocess.run(
        [
            openssl,
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-out",
            str(key_file),
        ],
        check=True,
    )
    with pytest.raises(Exception, match=r"not an SM2 key \(curve prime256v1\)"):
        pem.load_private_key(key_file.read_text())


def _openssl_sm2_encryption_works(openssl: str, tmp_path: Path) -> bool:
    key_file = openssl_key(openssl, tmp_path)
    probe = tmp_path / "probe"
    probe.write_bytes(b"probe")
    result = run(openssl, "pkeyutl", "-encrypt", "-inkey", str(key_file), "-in", str(probe))
    return result.returncode == 0


def test_sm2_ciphertexts_cross_between_openssl_and_us(openssl: str, tmp_path: Path) -> None:
    if not _openssl_sm2_encryption_works(openssl, tmp_path):
        pytest.skip("this OpenSSL build cannot encrypt with SM2 (pkeyutl -encrypt)")
    key_file = openssl_key(openssl, tmp_path)
    key = pem.load_private_key(key_file.read_text())
    public_file = tmp_path / "pub.pem"
    public_file.write_text(pem.public_key_to_pem(key.public_key))
    message = tmp_path / "m"
    message.write_bytes(b"a wrapped SM4 key")
    ciphertext = run(
        openssl, "pkeyutl", "-encrypt", "-pubin", "-inkey", str(public_file), "-in", str(message)
    )
    assert ciphertext.returncode == 0, ciphertext.stderr
    assert key.decrypt(ciphertext.stdout) == b"a wrapped SM4 key"
    ours = tmp_path / "c"
    ours.write_bytes(key.public_key.encrypt(b"from sscard"))
    plain = run(openssl, "pkeyutl", "-decrypt", "-inkey", str(key_file), "-in", str(ours))
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == b"from sscard"
