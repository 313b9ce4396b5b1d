"""``sscard payments merchants`` and the demo merchants as an operator scripts them: real
processes on a database of their own."""

from __future__ import annotations

import sqlite3

from tests.e2e.test_cli import env, sscard  # noqa: F401 - the fixture is used by name

from sscard.payments.codes import emv

ACCOUNT = "6217001234567890123"


def test_an_operator_signs_up_a_merchant_changes_it_and_walks_it_through_its_statuses(
    env: dict[str, str],  # noqa: F811
) -> None:
    assert sscard("db", "upgrade", env=env).returncode == 0
    assert sscard("demo", "seed", "--persons", "0", env=env).returncode == 0
    added = sscard(
        "payments", "merchants", "add",
        "--code", "m370811009001", "--name", "康宁药店", "--mcc", "5912",
        "--institution", "HALL-RC", "--bank", "济宁农村商业银行", "--account", ACCOUNT,
        "--fee-bp", "45",
        env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "商户 M370811009001 已登记" in added.stdout
    shown = sscard("payments", "merchants", "show", "M370811009001", env=env).stdout
    assert "药店" in shown and "0.45%" in shown and "北京时间" in shown
    assert "621700*********0123" in shown and ACCOUNT not in shown
    changed = sscard("payments", "merchants", "update", "M370811009001", "--fee-bp", "30", env=env)
    assert changed.returncode == 0 and "0.30%" in changed.stdout
    assert "已暂停" in sscard("payments", "merchants", "suspend", "M370811009001", env=env).stdout
    twice = sscard("payments", "merchants", "suspend", "M370811009001", env=env)
    assert twice.returncode == 1 and "不能暂停" in twice.stderr
    assert "已关闭" in sscard("payments", "merchants", "close", "M370811009001", env=env).stdout
    listed = sscard("payments", "merchants", "list", "--status", "closed", env=env).stdout
    assert "M370811009001" in listed and "共 1 家商户" in listed
    assert "已恢复" in sscard("payments", "merchants", "reopen", "M370811009001", env=env).stdout
    unknown = sscard("payments", "merchants", "link-terminal", "M370811009001", "NOPOS", env=env)
    assert unknown.returncode == 1 and "终端 NOPOS 未登记" in unknown.stderr
    terminals = sscard("payments", "merchants", "terminals", "M370811009001", env=env).stdout
    assert "共 0 台终端" in terminals
    qr = sscard("payments", "merchants", "qr", "M370811009001", "--amount", "8.5", env=env)
    payload = qr.stdout.strip().splitlines()[-1]
    assert "动态码" in qr.stdout and emv.parse(payload).amount_fen == 850
    database = env["SSCARD_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        stored = conn.execute("SELECT settlement_account_enc FROM payments_merchant").fetchall()
    assert all(ACCOUNT.encode() not in row[0] for row in stored)


def test_bad_options_are_named_in_chinese_and_nothing_is_written(
    env: dict[str, str],  # noqa: F811
) -> None:
    assert sscard("db", "upgrade", env=env).returncode == 0
    refused = sscard(
        "payments", "merchants", "add",
        "--code", "M1", "--name", "药", "--mcc", "5912", "--institution", "NOWHERE",
        "--bank", "银行", "--account", "12ab",
        env=env,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "商户编号" in refused.stderr and "结算账号" in refused.stderr
    unknown = sscard(
        "payments", "merchants", "add",
        "--code", "M0001", "--name", "某店", "--mcc", "0001", "--institution", "NOWHERE",
        "--bank", "某银行", "--account", ACCOUNT,
        env=env,
    )  # fmt: skip
    assert unknown.returncode == 1 and "0001" in unknown.stderr
    listed = sscard("payments", "merchants", "list", env=env).stdout
    assert "共 0 家商户" in listed


def test_the_demo_seed_signs_up_a_pharmacy_a_hospital_a_bus_operator_and_a_park_once(
    env: dict[str, str],  # noqa: F811
) -> None:
    assert sscard("db", "upgrade", env=env).returncode == 0
    first = sscard("demo", "seed", "--persons", "0", env=env)
    assert "商户：新建 4 个" in first.stdout, first.stdout + first.stderr
    assert "商户：新建 0 个" in sscard("demo", "seed", "--persons", "0", env=env).stdout
    listed = sscard("payments", "merchants", "list", env=env).stdout
    for mcc in ("5912", "8062", "4111", "7996"):
        assert mcc in listed
