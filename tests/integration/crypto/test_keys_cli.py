"""``sscard keys`` through Typer's runner, with files exchanged with the openssl command."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from sscard.cli import common
from sscard.cli.keys import app
from sscard.crypto import pem
from sscard.crypto.errors import InvalidCryptoInput, KeyVersionActive, MasterKeyExists

if TYPE_CHECKING:
    from tests.integration.crypto.conftest import People

runner = CliRunner()
DISTID = "distid:1234567812345678"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables are printed for a wide terminal so that whole names can be looked for."""
    monkeypatch.setattr(common.console, "width", 240)


def keys(*args: str | Path) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_has_help() -> None:
    commands = [
        "list",
        "generate",
        "rotate",
        "revoke",
        "export-public",
        "import-public",
        "sign",
        "verify",
        "reencrypt",
        "init-master",
    ]
    for command in commands:
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage" in result.output


def test_a_key_is_generated_listed_rotated_and_revoked(engine: Engine, committed: str) -> None:
    name = f"{committed}sign"
    assert "版本 1" in keys("generate", name, "--kind", "sm2_sign", "--description", "e-card")
    assert "版本 2" in keys("rotate", name)
    listing = keys("list")
    assert name in listing and "v1 retired" in listing and "v2 active" in listing
    with pytest.raises(KeyVersionActive):
        keys("revoke", name, "2")
    assert "已吊销" in keys("revoke", name, "1")
    assert "v1 revoked" in keys("list")


def test_a_file_signed_by_the_cli_verifies_in_openssl(
    engine: Engine, committed: str, openssl: str, tmp_path: Path
) -> None:
    name = f"{committed}files"
    keys("generate", name, "--kind", "sm2_sign")
    data, signature, public = tmp_path / "batch.csv", tmp_path / "batch.sig", tmp_path / "pub.pem"
    data.write_bytes("序号,卡号\n1,A00000001\n".encode())
    keys("sign", "--key", name, "--in", data, "--out", signature)
    keys("export-public", name, "--out", public)
    verified = subprocess.run(
        [
            openssl,
            "dgst",
            "-sm3",
            "-verify",
            str(public),
            "-sigopt",
            DISTID,
            "-signature",
            str(signature),
            str(data),
        ],
        capture_output=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    assert "签名有效" in keys("verify", "--key", name, "--in", data, "--signature", signature)


def test_a_file_signed_by_openssl_verifies_in_the_cli_by_key_and_by_pem(
    engine: Engine, committed: str, openssl: str, tmp_path: Path
) -> None:
    private, public = tmp_path / "partner.pem", tmp_path / "partner.pub.pem"
    subprocess.run([openssl, "genpkey", "-algorithm", "SM2", "-out", str(private)], check=True)
    subprocess.run(
        [openssl, "pkey", "-in", str(private), "-pubout", "-out", str(public)], check=True
    )
    data, signature = tmp_path / "result.txt", tmp_path / "result.sig"
    data.write_bytes(b"card-making result 370800\n")
    subprocess.run(
        [
            openssl,
            "dgst",
            "-sm3",
            "-sign",
            str(private),
            "-sigopt",
            DISTID,
            "-out",
            str(signature),
            str(data),
        ],
        check=True,
    )
    name = f"{committed}vendor"
    assert "版本 1" in keys("import-public", name, "--in", public, "--description", "vendor")
    keys("verify", "--key", name, "--in", data, "--signature", signature)
    keys("verify", "--public-key", public, "--in", data, "--signature", signature)
    exported = runner.invoke(app, ["export-public", name]).output
    assert pem.load_public_key(exported) == pem.load_public_key(public.read_bytes())


def test_a_bad_signature_exits_1_with_one_clear_line(
    engine: Engine, committed: str, tmp_path: Path
) -> None:
    name = f"{committed}bad"
    keys("generate", name, "--kind", "sm2_sign")
    data, signature = tmp_path / "m", tmp_path / "m.sig"
    data.write_bytes(b"original")
    keys("sign", "--key", name, "--in", data, "--out", signature)
    data.write_bytes(b"altered")
    result = runner.invoke(
        app, ["verify", "--key", name, "--in", str(data), "--signature", str(signature)]
    )
    assert result.exit_code == 1
    assert "签名无效" in result.output
    other_uid = runner.invoke(
        app,
        [
            "verify",
            "--key",
            name,
            "--in",
            str(data),
            "--signature",
            str(signature),
            "--uid",
            "BANK",
        ],
    )
    assert other_uid.exit_code == 1


def test_verify_needs_exactly_one_of_key_and_public_key(tmp_path: Path) -> None:
    data = tmp_path / "m"
    data.write_bytes(b"m")
    with pytest.raises(InvalidCryptoInput, match="二选一"):
        keys("verify", "--in", data, "--signature", data)


def test_reencrypt_reports_the_rows_it_rewrote(people: People) -> None:
    people.seed(7)
    keys("rotate", people.entry.data_key)
    output = keys("reencrypt", people.name, "--batch-size", "3")
    assert f"{people.name}：扫描 7 行，重新加密 7 行" in output
    with pytest.raises(InvalidCryptoInput):
        keys("reencrypt")


def test_init_master_never_overwrites_a_key_file(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text("precious")
    with pytest.raises(MasterKeyExists, match="already exists"):
        keys("init-master", "--production", "--file", path)
    assert path.read_text() == "precious"
