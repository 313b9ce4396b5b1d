"""The ``sscard`` command as an operator scripts it: real processes, a real database file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import PG_URL, needs_postgres


def sscard(
    *args: str, env: dict[str, str], input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sscard.cli.main", *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("SSCARD_")}
    values["SSCARD_MASTER_KEY"] = os.environ["SSCARD_MASTER_KEY"]
    values.update(
        {
            "SSCARD_DATA_DIR": str(tmp_path / "var"),
            "SSCARD_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
            "COLUMNS": "200",
        }
    )
    return values


def test_a_fresh_database_is_migrated_seeded_twice_and_verified(env: dict[str, str]) -> None:
    assert "需要升级" in sscard("db", "current", env=env).stdout
    assert sscard("db", "upgrade", env=env).returncode == 0
    assert "已是最新" in sscard("db", "current", env=env).stdout
    first = sscard("demo", "seed", "--persons", "20", env=env)
    assert first.returncode == 0 and "操作员：新建 7 个" in first.stdout
    second = sscard("demo", "seed", "--persons", "20", env=env)
    assert "操作员：新建 0 个" in second.stdout and "机构：新建 0 个" in second.stdout
    listed = sscard("operators", "list", env=env).stdout
    assert "clerk" in listed and "HALL-RC" in listed
    verified = sscard("audit", "verify", env=env)
    assert verified.returncode == 0 and "审计链完整" in verified.stdout


def test_an_administrator_is_created_from_a_script_or_a_prompt(env: dict[str, str]) -> None:
    sscard("db", "upgrade", env=env)
    scripted = sscard(
        "operators", "create-admin", "--username", "root", "--password", "root12345", env=env
    )
    assert scripted.returncode == 0, scripted.stderr
    prompted = sscard(
        "operators", "create-admin", "--username", "root2", env=env, input="root12345\nroot12345\n"
    )
    assert prompted.returncode == 0, prompted.stderr
    again = sscard(
        "operators", "create-admin", "--username", "root", "--password", "root12345", env=env
    )
    assert again.returncode == 1
    assert again.stderr.strip() == "错误：用户名 root 已存在"


def test_errors_are_one_clear_line_and_a_non_zero_exit(env: dict[str, str]) -> None:
    sscard("db", "upgrade", env=env)
    weak = sscard("operators", "create-admin", "--username", "x1y", "--password", "abc", env=env)
    assert weak.returncode == 1
    assert weak.stderr.count("\n") == 1 and "密码至少 8 位" in weak.stderr
    missing = sscard("operators", "disable", "nobody", env=env)
    assert missing.returncode == 1 and "操作员 nobody 不存在" in missing.stderr
    unknown = sscard("no-such-command", env=env)
    assert unknown.returncode == 2


def test_every_command_has_help(env: dict[str, str]) -> None:
    for args in (
        [],
        ["serve"],
        ["db"],
        ["db", "upgrade"],
        ["demo", "seed"],
        ["keys"],
        ["operators"],
        ["operators", "create-admin"],
        ["audit"],
        ["audit", "verify"],
        ["worker"],
        ["outbox"],
    ):
        result = sscard(*args, "--help", env=env)
        assert result.returncode == 0, (args, result.stderr)
        assert "Usage" in result.stdout


def test_serve_refuses_an_unmigrated_database(env: dict[str, str]) -> None:
    result = sscard("serve", "--port", "1", env=env)
    assert result.returncode == 1 and "sscard db upgrade" in result.stderr


def test_production_refuses_sqlite(env: dict[str, str]) -> None:
    sscard("db", "upgrade", env=env)
    result = sscard("serve", env={**env, "SSCARD_ENV": "production"})
    assert result.returncode == 1
    assert "生产模式需要 PostgreSQL" in result.stderr


@needs_postgres
def test_production_refuses_demo_accounts(env: dict[str, str], engine: object) -> None:
    assert PG_URL is not None
    pg_env = {**env, "SSCARD_DATABASE_URL": PG_URL}
    sscard("db", "upgrade", env=pg_env)
    seeded = sscard("demo", "seed", "--persons", "0", env=pg_env)
    assert seeded.returncode == 0, seeded.stderr
    result = sscard("serve", env={**pg_env, "SSCARD_ENV": "production"})
    assert result.returncode == 1
    assert "演示账户 'admin' 仍在启用" in result.stderr
