"""The ledger read over real HTTP by an auditor, refused to a clerk; and ``sscard ledger``
as an operator scripts it (verify, accounts, transfers) on a real database file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from tests.e2e.test_cli import sscard
from tests.support import LiveServer, login

from sscard import db
from sscard.payments.ledger import service
from sscard.payments.ledger.schemas import AccountIn, TransferIn

PREFIX = "/api/v1/payments/ledger"


def _book(session: Session, tag: str) -> tuple[str, str]:
    """A card topped up with 100.00 yuan that paid a merchant 25.50; their codes."""
    card, merchant, bank = f"card:{tag}", f"merchant:M{tag}", f"bank-clearing:B{tag}"
    for code in (card, merchant, bank):
        service.open_account(session, data=AccountIn(code=code))
    service.post_transfers(
        session,
        transfers=[
            TransferIn(
                ref=f"top-{tag}",
                debit_account=bank,
                credit_account=card,
                amount=10_000,
                code="top_up",
            ),
            TransferIn(
                ref=f"pay-{tag}",
                debit_account=card,
                credit_account=merchant,
                amount=2_550,
                code="payment",
                reason="图书馆打印",
            ),
        ],
    )
    return card, merchant


def test_an_auditor_reads_accounts_and_transfers_and_a_clerk_is_refused(
    live_server: LiveServer, make_account: Any, engine: Engine
) -> None:
    tag = secrets.token_hex(4)
    with db.transaction() as session:
        card, merchant = _book(session, tag)
    auditor = live_server.client(login(live_server, make_account("auditor")))
    clerk = live_server.client(login(live_server, make_account("clerk")))

    account = auditor.get(f"{PREFIX}/account", params={"code": card})
    assert account.status_code == 200, account.text
    assert (account.json()["balance"], account.json()["debits_posted"]) == (7_450, 2_550)
    listed = auditor.get(f"{PREFIX}/transfers", params={"account": card}).json()
    assert [t["ref"] for t in listed["items"]] == [f"pay-{tag}", f"top-{tag}"]
    one = auditor.get(f"{PREFIX}/transfers/pay-{tag}").json()
    assert (one["debit_account"], one["credit_account"], one["amount"]) == (card, merchant, 2_550)
    kinds = auditor.get(f"{PREFIX}/accounts", params={"kind": "merchant", "page_size": 200})
    assert all(a["kind"] == "merchant" for a in kinds.json()["items"])

    missing = auditor.get(f"{PREFIX}/account", params={"code": "card:nobody"})
    assert missing.status_code == 404 and "card:nobody" in missing.json()["detail"]
    short = auditor.get(f"{PREFIX}/account", params={"code": "x"})
    assert short.status_code == 422 and short.json()["fields"][0]["field"].endswith("code")
    refused = clerk.get(f"{PREFIX}/account", params={"code": card})
    assert refused.status_code == 403 and card not in refused.text


def test_ledger_verify_passes_then_names_the_tampered_account(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSCARD_")}
    env |= {
        "SSCARD_MASTER_KEY": os.environ["SSCARD_MASTER_KEY"],
        "SSCARD_DATA_DIR": str(tmp_path / "var"),
        "SSCARD_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db",
        "COLUMNS": "200",
    }
    assert sscard("db", "upgrade", env=env).returncode == 0
    file_engine = db.build_engine(f"sqlite:///{tmp_path}/ledger.db")
    tag = secrets.token_hex(4)
    with Session(file_engine) as session, session.begin():
        card, merchant = _book(session, tag)

    verified = sscard("ledger", "verify", env=env)
    assert verified.returncode == 0, verified.stderr
    assert "总账一致：3 个账户，2 笔转账" in verified.stdout
    accounts = sscard("ledger", "accounts", "--kind", "card", env=env)
    assert card in accounts.stdout and "74.50" in accounts.stdout
    transfers = sscard("ledger", "transfers", "--account", card, env=env)
    assert f"pay-{tag}" in transfers.stdout and "北京时间" in transfers.stdout

    with file_engine.begin() as connection:
        connection.execute(
            text("UPDATE payments_ledger_account SET debits_posted = 0 WHERE code = :c"),
            {"c": card},
        )
    file_engine.dispose()
    broken = sscard("ledger", "verify", env=env)
    assert broken.returncode == 1
    assert f"账户 {card}" in broken.stderr and merchant not in broken.stderr
    unknown = sscard("ledger", "transfers", "--account", "card:nobody", env=env)
    assert unknown.returncode != 0 and "card:nobody" in unknown.stderr + unknown.stdout
