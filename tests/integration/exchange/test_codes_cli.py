"""``sscard codes`` as an operator scripts it: real processes on a database file of their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sscard.cli.codes import app


def sscard(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sscard.cli.main", *(str(a) for a in args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated SQLite file shared by the tests of this module."""
    home = tmp_path_factory.mktemp("codes-cli")
    values = {k: v for k, v in os.environ.items() if not k.startswith("SSCARD_")}
    values.update(
        {
            "SSCARD_MASTER_KEY": os.environ["SSCARD_MASTER_KEY"],
            "SSCARD_DATA_DIR": str(home / "var"),
            "SSCARD_DATABASE_URL": f"sqlite:///{home}/cli.db",
            "COLUMNS": "200",
        }
    )
    upgraded = sscard("db", "upgrade", env=values)
    assert upgraded.returncode == 0, upgraded.stderr
    return values


def test_every_codes_command_has_help() -> None:
    commands = [
        "list",
        "show",
        "translate",
        "import-sets",
        "import-mappings",
        "export-sets",
        "export-mappings",
        "load-defaults",
    ]
    top = CliRunner().invoke(app, ["--help"])
    assert top.exit_code == 0 and all(c in top.output for c in commands)
    for command in commands:
        result = CliRunner().invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_sets_and_tables_are_listed_and_shown_with_each_systems_codes(env: dict[str, str]) -> None:
    listed = sscard("codes", "list", env=env).stdout
    assert "gender" in listed and "性别" in listed and "gender: SEX (3)" in listed
    shown = sscard("codes", "show", "gender", env=env).stdout
    assert "医保系统 SEX" in shown and "省卡管系统 AAC004" in shown
    assert "未说明的性别" in shown and "—" in shown


def test_a_value_is_translated_out_and_in_and_an_unmapped_one_fails_in_one_line(
    env: dict[str, str],
) -> None:
    assert sscard("codes", "translate", "medical_insurance", "gender", "2", env=env).stdout == "F\n"
    back = sscard("codes", "translate", "medical_insurance", "gender", "U", "--in", env=env)
    assert back.stdout == "0\n"
    failed = sscard("codes", "translate", "medical_insurance", "gender", "9", env=env)
    assert failed.returncode == 1
    assert failed.stderr == "错误：医保系统的“性别”没有与本系统代码 9 对应的代码\n"


def test_files_are_exported_with_a_bom_and_imported_again_without_change(
    env: dict[str, str], tmp_path: Path
) -> None:
    sets, tables = tmp_path / "sets.csv", tmp_path / "tables.csv"
    assert sscard("codes", "export-sets", sets, env=env).returncode == 0
    assert sets.read_bytes().startswith(b"\xef\xbb\xbfcode_set,code,name,code_set_name\r\n")
    sscard("codes", "export-mappings", "--system", "province", tables, env=env)
    assert b"medical_insurance" not in tables.read_bytes()
    to_stdout = sscard("codes", "export-mappings", env=env).stdout
    assert to_stdout.startswith("\ufeffsystem,code_set,external_field") and "SEX" in to_stdout
    again = sscard("codes", "import-sets", sets, env=env)
    assert again.returncode == 0 and "新增 0，更新 0，未变 83" in again.stdout
    mapped = sscard("codes", "import-mappings", tables, env=env)
    assert "新增 0，更新 0，未变 80" in mapped.stdout


def test_a_bad_file_is_rejected_with_its_lines_and_nothing_changes(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        "code_set,code,name,code_set_name\r\ncard_status,1,正常,卡状态\r\ncard_status,,挂失,卡状态\r\n".encode(
            "gb18030"
        )
    )
    result = sscard("codes", "import-sets", bad, env=env)
    assert result.returncode == 1
    assert "被拒绝的行" in result.stderr and "│ 3  │ code" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("错误：导入被拒绝，未做任何更改：1 行有误")
    assert "card_status" not in sscard("codes", "list", env=env).stdout
    bad.write_bytes("code_set,code,name\r\ncard_status,1,正常\r\n".encode("gb18030"))
    checked = sscard("codes", "import-sets", bad, "--check", env=env)
    assert "检查结果（未改动）：1 行，新增 1" in checked.stdout
    assert "card_status" not in sscard("codes", "list", env=env).stdout


def test_defaults_are_loaded_again_without_touching_what_is_there(env: dict[str, str]) -> None:
    result = sscard("codes", "load-defaults", env=env)
    assert result.returncode == 0
    assert "代码集：新增代码 0 个；对照：新增 0 条" in result.stdout
