"""The master key file: written 0600 in a 0700 directory, refused when corrupt or exposed."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sscard.crypto import master_key
from sscard.crypto.errors import MasterKeyCorrupt, MasterKeyInsecure, MasterKeyMissing
from sscard.settings import Settings


@pytest.fixture
def key_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "keys" / "master.key"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_key_file_is_private_to_its_owner(key_file: Path) -> None:
    master = master_key.write_master_key_file(key_file, origin="development")
    assert mode(key_file) == 0o600
    assert mode(key_file.parent) == 0o700
    lines = key_file.read_text().splitlines()
    assert lines[0] == "sscard-master-key v1"
    assert "origin: development" in lines
    assert f"key: {master.key.hex()}" in lines
    assert f"check: {master.check_value}" in lines
    assert master_key.read_master_key_file(key_file) == master


def test_an_existing_key_file_is_never_overwritten(key_file: Path) -> None:
    master_key.write_master_key_file(key_file, origin="production")
    with pytest.raises(FileExistsError):
        master_key.write_master_key_file(key_file, origin="development")
    assert master_key.read_master_key_file(key_file).origin == "production"


def test_the_master_key_repr_hides_the_key(key_file: Path) -> None:
    master = master_key.write_master_key_file(key_file, origin="development")
    assert master.key.hex() not in repr(master)


def corrupt(key_file: Path, old: str, new: str) -> None:
    key_file.write_text(key_file.read_text().replace(old, new))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda text, key: text.replace("sscard-master-key v1", "master v2"), "first line"),
        (lambda text, key: text.replace(key, "zz" + key[2:]), "32 hexadecimal"),
        (lambda text, key: text.replace(key, key[:-1]), "32 hexadecimal"),
        (lambda text, key: text.replace(key, ("0" if key[0] != "0" else "1") + key[1:]), "check"),
        (lambda text, key: text.replace("origin: development", "origin: lab"), "origin"),
        (lambda text, key: text.replace("check:", "checksum:"), "unexpected line"),
        (lambda text, key: "\n".join(text.splitlines()[:3]), "'key' line is missing"),
    ],
)
def test_a_corrupt_key_file_is_refused_naming_the_file_and_never_the_key(
    key_file: Path, change: object, reason: str
) -> None:
    master = master_key.write_master_key_file(key_file, origin="development")
    text = key_file.read_text()
    assert callable(change)
    key_file.write_text(change(text, master.key.hex()))
    with pytest.raises(MasterKeyCorrupt, match=reason) as caught:
        master_key.read_master_key_file(key_file)
    assert str(key_file) in caught.value.message
    assert master.key.hex() not in caught.value.message
    assert caught.value.code == "master_key_corrupt"


def test_a_binary_key_file_is_refused(key_file: Path) -> None:
    master_key.write_master_key_file(key_file, origin="development")
    key_file.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(MasterKeyCorrupt, match="not a text file"):
        master_key.read_master_key_file(key_file)


@pytest.mark.parametrize("wider", [0o640, 0o604, 0o644, 0o660])
def test_a_key_file_others_may_read_is_refused(key_file: Path, wider: int) -> None:
    master_key.write_master_key_file(key_file, origin="development")
    key_file.chmod(wider)
    with pytest.raises(MasterKeyInsecure, match="chmod 600") as caught:
        master_key.read_master_key_file(key_file)
    assert str(key_file) in caught.value.message
    assert caught.value.code == "master_key_insecure"


def test_outside_production_a_missing_key_file_is_written_for_development(key_file: Path) -> None:
    settings = Settings(env="development", master_key=None, master_key_file=key_file)
    master = master_key.load_master_key(settings)
    assert (master.origin, master.generated) == ("development", True)
    assert mode(key_file) == 0o600
    again = master_key.load_master_key(settings)
    assert (again.key, again.generated) == (master.key, False)


def test_in_production_a_missing_key_file_is_an_error(key_file: Path) -> None:
    settings = Settings(env="production", master_key=None, master_key_file=key_file)
    with pytest.raises(MasterKeyMissing, match="init-master --production"):
        master_key.load_master_key(settings)
    assert not key_file.exists()


def test_the_environment_variable_takes_precedence_over_the_file(key_file: Path) -> None:
    master_key.write_master_key_file(key_file, origin="development")
    settings = Settings(master_key="00112233445566778899aabbccddeeff", master_key_file=key_file)
    master = master_key.load_master_key(settings)
    assert master.origin == "environment"
    assert master.key == bytes.fromhex("00112233445566778899aabbccddeeff")


def test_a_malformed_environment_variable_is_refused_without_echoing_it() -> None:
    settings = Settings(master_key="not-hex-at-all-but-secret")
    with pytest.raises(MasterKeyCorrupt, match="32 hexadecimal") as caught:
        master_key.load_master_key(settings)
    assert "secret" not in caught.value.message
