"""Batch file packages: a round trip, and every kind of damage refused whole with the reason."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from sscard.crypto.primitives import SM2PrivateKey
from sscard.exchange.errors import PackageRejected
from sscard.exchange.files.formats import ACCOUNT_OPENING, CARD_RESULT
from sscard.exchange.files.manifest import (
    MANIFEST,
    ROWS,
    SIGNATURE,
    key_signer,
    key_verifier,
    sm3_file,
)
from sscard.exchange.files.partykeys import party_signer, trusted_keys
from sscard.exchange.files.reader import Package, open_package
from sscard.exchange.files.transfer import (
    TransferKey,
    decrypt_file,
    encrypt_file,
    encrypted_header,
    is_encrypted,
    read_transfer_key,
    write_transfer_key,
)
from sscard.exchange.files.writer import PackageWriter

CITY = SM2PrivateKey.generate()
STRANGER = SM2PrivateKey.generate()
SIGNER = key_signer("370800", "city-exchange-sign", CITY)
VERIFY = key_verifier({"370800": CITY.public_key})
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


def _row(n: int) -> dict[str, str]:
    return {
        "AAZ500": f"A{n:08d}",
        "AAC002": "37081119900307451X",
        "AAC058": "01",
        "AAC147": "37081119900307451X",
        "AAC003": "张三丰" if n % 2 else '欧阳,"娜娜"',
        "AAC004": "1",
        "AAC005": "01",
        "AAC006": "19900307",
        "AAB301": "370800",
        "CARD_TYPE": "3",
        "APPLY_TYPE": "1",
        "BANK_CODE": "BK01",
    }


def _package(tmp_path: Path, rows: int = 5, *, encoding: str = "UTF-8") -> Path:
    path = tmp_path / "batch.zip"
    with PackageWriter(
        path,
        fmt=ACCOUNT_OPENING,
        batch_no="3708002026112500001",
        sender="370800",
        recipient="province",
        encoding=encoding,
    ) as writer:
        for n in range(1, rows + 1):
            writer.add(_row(n), PHOTO + bytes([n]))
        writer.finish(SIGNER)
    return path


def _open(path: Path) -> Package:
    return open_package(path, expect=ACCOUNT_OPENING, verify=VERIFY)


def _rewrite(path: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    """Rewrite the ZIP member by member; ``change`` returns new bytes or None to drop one."""
    copy = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w") as target:
        for info in source.infolist():
            data = change(info.filename, source.read(info))
            if data is not None:
                target.writestr(info, data)
    copy.replace(path)


def _resign(path: Path, edit: Callable[[dict[str, object]], None]) -> None:
    """Change the manifest and sign it again with the city's key (a consistent liar)."""
    with zipfile.ZipFile(path) as archive:
        body = json.loads(archive.read(MANIFEST))
    edit(body)
    new = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
    _rewrite(
        path,
        lambda name, data: (
            new if name == MANIFEST else (CITY.sign(new) if name == SIGNATURE else data)
        ),
    )


def _refusal(path: Path) -> str:
    with pytest.raises(PackageRejected) as refused:
        _open(path)
    return refused.value.message


def test_a_package_reads_back_what_was_written_rows_photos_and_manifest(tmp_path: Path) -> None:
    path = _package(tmp_path)
    with _open(path) as package:
        rows = list(package.rows())
        assert [r["SEQ"] for r in rows] == ["1", "2", "3", "4", "5"]
        assert rows[1]["AAC003"] == '欧阳,"娜娜"' and rows[0]["AAC003"] == "张三丰"
        assert package.photo(rows[2]) == PHOTO + b"\x03"
        assert rows[2]["PHOTO"] == "photos/00000003.jpg"
        assert package.manifest.row_count == 5 and package.manifest.photo_count == 5
        assert package.manifest.sender == "370800" and package.batch_no == "3708002026112500001"
        assert [r.index for r in package.rows(start=3)] == [3, 4]


def test_a_gb18030_package_is_read(tmp_path: Path) -> None:
    path = _package(tmp_path, encoding="GB18030")
    with zipfile.ZipFile(path) as archive:
        assert "张三丰".encode("gb18030") in archive.read(ROWS)
    with _open(path) as package:
        assert [r["AAC003"] for r in package.rows()][0] == "张三丰"


def test_a_changed_byte_in_the_rows_is_refused(tmp_path: Path) -> None:
    path = _package(tmp_path)
    _rewrite(
        path, lambda name, data: data.replace(b"A00000002", b"A00000009") if name == ROWS else data
    )
    assert "rows.csv 的 SM3 摘要不符" in _refusal(path)


def test_a_changed_photo_is_refused_naming_its_row(tmp_path: Path) -> None:
    path = _package(tmp_path)
    _rewrite(path, lambda name, data: data[:-1] + b"\x00" if name.endswith("04.jpg") else data)
    assert "第 4 行的照片" in _refusal(path) and "摘要不符" in _refusal(path)


def test_a_wrong_row_count_is_refused_even_when_the_manifest_is_signed(tmp_path: Path) -> None:
    path = _package(tmp_path)
    _resign(path, lambda body: body.update(row_count=6))
    assert "行数不符：清单为 6 行，rows.csv 实有 5 行" in _refusal(path)


def test_a_manifest_changed_after_signing_is_refused(tmp_path: Path) -> None:
    path = _package(tmp_path)
    _rewrite(
        path,
        lambda name, data: (
            data.replace(b'"row_count": 5', b'"row_count": 4') if name == MANIFEST else data
        ),
    )
    assert "签名验证失败" in _refusal(path)


def test_a_package_signed_with_another_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "forged.zip"
    forger = key_signer("370800", "city-exchange-sign", STRANGER)
    with PackageWriter(
        path, fmt=ACCOUNT_OPENING, batch_no="B1", sender="370800", recipient="province"
    ) as writer:
        writer.add(_row(1), PHOTO)
        writer.finish(forger)
    assert "签名验证失败" in _refusal(path)


def test_an_unknown_sender_is_refused(tmp_path: Path) -> None:
    path = _package(tmp_path)
    _resign(path, lambda body: body.update(sender="370100"))
    assert "不认识的发送方 370100" in _refusal(path)


def test_a_missing_or_extra_member_is_refused(tmp_path: Path) -> None:
    path = _package(tmp_path)
    _rewrite(path, lambda name, data: None if name.endswith("02.jpg") else data)
    assert "照片数量不符" in _refusal(path)
    path = _package(tmp_path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("notes.txt", b"hello")
    assert "清单未列出的文件 notes.txt" in _refusal(path)


def test_another_format_or_version_is_refused(tmp_path: Path) -> None:
    path = _package(tmp_path)
    with pytest.raises(PackageRejected) as refused:
        open_package(path, expect=CARD_RESULT, verify=VERIFY)
    assert "应为 province.card-result" in refused.value.message
    _resign(path, lambda body: body.update(version=2))
    assert "版本 2 不受支持" in _refusal(path)


def test_what_is_not_a_package_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.zip"
    path.write_bytes(b"not a zip at all")
    assert "不是有效的数据包" in _refusal(path)


def test_rows_that_do_not_decode_as_declared_are_refused(tmp_path: Path) -> None:
    path = _package(tmp_path, encoding="GB18030")
    _resign(path, lambda body: body.update(encoding="UTF-8"))
    assert "不是 UTF-8 编码" in _refusal(path)


def test_an_encrypted_package_opens_with_the_shared_key_and_not_with_another(
    tmp_path: Path,
) -> None:
    path = _package(tmp_path, rows=3)
    key = TransferKey("province", "exchange-transfer", 2, bytes(range(16)))
    wrapped, plain = tmp_path / "batch.sm4", tmp_path / "again.zip"
    encrypt_file(path, wrapped, key=key)
    assert is_encrypted(wrapped) and not is_encrypted(path)
    assert encrypted_header(wrapped)["version"] == 2
    decrypt_file(wrapped, plain, key=lambda header: key.key)
    assert plain.read_bytes() == path.read_bytes()
    with pytest.raises(PackageRejected) as refused:
        decrypt_file(wrapped, tmp_path / "no.zip", key=lambda header: bytes(16))
    assert "传输密钥不符" in refused.value.message
    assert not (tmp_path / "no.zip").exists()


def test_a_cut_or_changed_encrypted_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * 9000)  # more than two chunks
    key = TransferKey("province", "exchange-transfer", 1, bytes(16))
    wrapped = tmp_path / "big.sm4"
    encrypt_file(path, wrapped, key=key)
    data = wrapped.read_bytes()
    cut = tmp_path / "cut.sm4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(PackageRejected) as refused:
        decrypt_file(cut, tmp_path / "out", key=lambda header: key.key)
    assert "不完整" in refused.value.message or "传输密钥不符" in refused.value.message
    flipped = bytearray(data)
    flipped[-40] ^= 1
    cut.write_bytes(bytes(flipped))
    with pytest.raises(PackageRejected):
        decrypt_file(cut, tmp_path / "out", key=lambda header: key.key)


def test_a_transfer_key_file_round_trips(tmp_path: Path) -> None:
    key = TransferKey("province", "exchange-transfer", 3, bytes(range(16)))
    write_transfer_key(tmp_path / "k", key)
    assert read_transfer_key(tmp_path / "k") == key
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600


def test_partner_keys_on_disk_sign_and_are_trusted_by_file(tmp_path: Path) -> None:
    signer = party_signer(tmp_path / "bank", "bank", publish_to=tmp_path / "trust")
    again = party_signer(tmp_path / "bank", "bank")
    assert signer.fingerprint == again.fingerprint
    trusted = trusted_keys(tmp_path / "trust")
    assert trusted["bank"].verify(b"x", signer.sign(b"x"))


def test_the_sm3_of_a_file_matches_the_standard_vector(tmp_path: Path) -> None:
    path = tmp_path / "abc"
    path.write_bytes(b"abc")
    assert sm3_file(path) == ("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
