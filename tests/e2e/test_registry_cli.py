"""``sscard registry`` and ``sscard demo seed`` as an operator scripts them: real processes."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest
from tests.e2e.test_cli import env, sscard  # noqa: F401 - the fixture is used by name

from sscard.registry import fakes
from sscard.registry.photos import portraits

EMPLOYER = fakes.employers(301, "370800", 1)[0]
COMMUNITY = fakes.communities(301, "370800", 1)[0]


def _file(
    path: Path, persons: list[fakes.FakePerson], extra: list[list[str]] | None = None
) -> Path:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["aac002", "AAC003", "aac004", "AAC006", "户籍地区划代码", "AAB301", "社区代码"]
    )
    for p in persons:
        writer.writerow(
            [
                p.id_number,
                p.name,
                p.gender,
                p.birth_date.strftime("%Y%m%d"),
                p.household_region_code,
                p.residence_region_code,
                COMMUNITY.code,
            ]
        )
    writer.writerows(extra or [])
    path.write_bytes(out.getvalue().encode("gb18030"))
    return path


def test_an_operator_registers_an_employer_imports_staff_and_looks_them_up(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    assert sscard("db", "upgrade", env=env).returncode == 0
    added = sscard(
        "registry",
        "employer",
        "add",
        "--credit-code",
        EMPLOYER.credit_code,
        "--name",
        EMPLOYER.name,
        "--region",
        EMPLOYER.region_code,
        env=env,
    )
    assert added.returncode == 0, added.stderr
    community = sscard(
        "registry", "community", "add", "--code", COMMUNITY.code, "--name", COMMUNITY.name, env=env
    )
    assert community.returncode == 0, community.stderr
    assert EMPLOYER.credit_code in sscard("registry", "employer", "list", env=env).stdout
    assert COMMUNITY.code in sscard("registry", "community", "list", env=env).stdout

    staff = list(fakes.persons(301, "370800", 5, employers=[], communities=[]))
    bad = [["370811198503154510", "李四", "1", "19850315", "370811", "370811", ""]]
    path = _file(tmp_path / "staff.csv", staff, bad)
    rejects = tmp_path / "rejects.csv"
    imported = sscard(
        "registry",
        "import",
        str(path),
        "--employer",
        EMPLOYER.credit_code,
        "--rejects",
        str(rejects),
        "--chunk",
        "2",
        env=env,
    )
    assert imported.returncode == 0, imported.stderr
    assert "新增 5，更新 0，未变 0，拒绝 1" in imported.stdout
    assert f"拒绝明细：{rejects}" in imported.stdout
    assert "370811********4510" in rejects.read_text(encoding="utf-8-sig")
    again = sscard("registry", "import", str(path), "--employer", EMPLOYER.credit_code, env=env)
    assert again.returncode == 0 and "该文件已导入过（任务 1" in again.stdout
    without = sscard("registry", "import", str(path), env=env)
    assert "导入任务 2（completed）：共 6 行，新增 0，更新 0，未变 5，拒绝 1" in without.stdout
    assert "completed" in sscard("registry", "jobs", env=env).stdout

    number = staff[0].id_number
    shown = sscard("registry", "person", "show", number, env=env)
    assert shown.returncode == 0, shown.stderr
    assert number[:6] + "********" + number[-4:] in shown.stdout and number not in shown.stdout
    assert EMPLOYER.name in shown.stdout
    refused = sscard("registry", "person", "show", number, "--reveal", env=env)
    assert refused.returncode == 1 and "--purpose" in refused.stderr
    revealed = sscard(
        "registry", "person", "show", number, "--reveal", "--purpose", "核对", env=env
    )
    assert number in revealed.stdout and staff[0].name in revealed.stdout
    found = sscard(
        "registry",
        "person",
        "search",
        "--name",
        staff[0].name,
        "--birth-date",
        staff[0].birth_date.isoformat(),
        env=env,
    )
    assert "共找到 1 人" in found.stdout
    by_employer = sscard(
        "registry", "person", "search", "--employer", EMPLOYER.credit_code, env=env
    )
    assert "共找到 5 人" in by_employer.stdout

    picture = tmp_path / "photo.jpg"
    picture.write_bytes(portraits.demo_portrait(7, gender=staff[0].gender))
    stored = sscard("registry", "photo", "set", number, str(picture), env=env)
    assert stored.returncode == 0 and "358×441" in stored.stdout
    died = max(staff[0].birth_date.isoformat(), "2025-01-01")
    dead = sscard("registry", "person", "deceased", number, "--date", died, env=env)
    assert dead.returncode == 0, dead.stderr
    twice = sscard("registry", "person", "deceased", number, "--date", died, env=env)
    assert twice.returncode == 1 and twice.stderr.count("\n") == 1
    assert "死亡" in sscard("registry", "person", "show", number, env=env).stdout
    assert sscard("audit", "verify", env=env).returncode == 0


def test_import_errors_are_one_line(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    sscard("db", "upgrade", env=env)
    missing = tmp_path / "m.csv"
    missing.write_text("AAC002,AAC003,电话\n1,2,3\n", encoding="utf-8")
    result = sscard("registry", "import", str(missing), env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("错误：表头有误（第 1 行）：无法识别的列：电话")
    assert sscard("registry", "import", env=env).returncode == 1
    assert "不存在" in sscard("registry", "import", "--resume", "42", env=env).stderr


def test_every_registry_command_has_help(env: dict[str, str]) -> None:  # noqa: F811
    for args in (
        ["registry"],
        ["registry", "import"],
        ["registry", "jobs"],
        ["registry", "person"],
        ["registry", "person", "show"],
        ["registry", "person", "search"],
        ["registry", "person", "deceased"],
        ["registry", "employer", "add"],
        ["registry", "employer", "list"],
        ["registry", "community", "add"],
        ["registry", "community", "list"],
        ["registry", "photo", "set"],
    ):
        result = sscard(*args, "--help", env=env)
        assert result.returncode == 0, (args, result.stderr)
        assert "Usage" in result.stdout


def _persons(database: Path) -> list[tuple[str, str, str, str | None]]:
    with sqlite3.connect(database) as connection:
        return sorted(
            connection.execute(
                "SELECT id_number_masked, name_masked, birth_date, community_code"
                " FROM registry_person"
            )
        )


@pytest.mark.slow
def test_demo_seed_is_deterministic_and_idempotent(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    other = {**env, "SSCARD_DATABASE_URL": f"sqlite:///{tmp_path}/other.db"}
    for target in (env, other):
        assert sscard("db", "upgrade", env=target).returncode == 0
        first = sscard(
            "demo", "seed", "--persons", "120", "--seed", "9", "--photos", "0.1", env=target
        )
        assert first.returncode == 0, first.stderr
        assert "人员：新建 120 人，更新 0 人，未变 0 人" in first.stdout
        assert "单位：新建 2 个" in first.stdout and "社区：新建 3 个" in first.stdout
    assert _persons(tmp_path / "cli.db") == _persons(tmp_path / "other.db")
    assert len(_persons(tmp_path / "cli.db")) == 120
    second = sscard("demo", "seed", "--persons", "120", "--seed", "9", "--photos", "0.1", env=env)
    assert "人员：新建 0 人，更新 0 人，未变 120 人" in second.stdout
    assert "照片：新增 0 张" in second.stdout and "单位：新建 0 个" in second.stdout
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        photos_stored = connection.execute("SELECT count(*) FROM registry_photo").fetchone()[0]
    assert 0 < photos_stored < 40
    different = sscard("demo", "seed", "--persons", "5", "--seed", "10", env=other)
    assert "人员：新建 5 人" in different.stdout
