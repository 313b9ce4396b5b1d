"""A small world for disbursement tests: persons with live cards (each its own account),
the bank's side of the payment files in-process, and the keys both sides trust."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from peers.bank import batch as bank_batch
from peers.bank import disbursement as bank_disbursement
from peers.bank.store import Books, luhn_digit
from sqlalchemy.orm import Session

from sscard.crypto import pem
from sscard.crypto import service as crypto_service
from sscard.exchange.files import service as exchange_files
from sscard.issuance import numbers
from sscard.issuance.cards import application_service, making_service, number_service, service
from sscard.issuance.cards.models import Card
from sscard.issuance.cards.schemas import ApplicationIn
from sscard.issuance.lifecycle import Action
from sscard.kit.context import Actor
from sscard.settings import get_settings


def new_account() -> str:
    body = "621700" + f"{secrets.randbelow(10**12):012d}"
    return body + luhn_digit(body)


def made_card(session: Session, clerk: Actor, card: Card) -> Card:
    """A card applied for, numbered, made with an account of its own."""
    number_service.assign_number(session, card=card, actor=clerk)
    service.transition(session, card=card, action=Action.submit, actor=clerk)
    made = making_service.MadeCard(
        card_id_code=numbers.make_card_id_code(
            region_code="370800",
            generation=3,
            vendor_code="HD01",
            year=2026,
            serial=secrets.randbelow(10**12),
        ),
        atr="3B6C00000A3180",
        bank_account=new_account(),
        issue_date=date(2026, 11, 1),
    )
    return making_service.record_made(session, card=card, made=made, actor=clerk)


def active_card(session: Session, clerk: Actor, bank: str, id_number: str) -> Card:
    card = application_service.apply(
        session, data=ApplicationIn(id_number=id_number, bank_code=bank), actor=clerk
    )
    card = made_card(session, clerk, card)
    service.transition(session, card=card, action=Action.issue, actor=clerk)
    return service.transition(session, card=card, action=Action.activate, actor=clerk)


@dataclass
class BankSide:
    """The bank peer's disbursement desk and books, run in this process."""

    books: Books
    desk: bank_disbursement.Desk

    def credit(self, path: Path, file_no: str) -> dict[str, object]:
        return bank_disbursement.credit_file(self.books, self.desk, path, file_no)

    def return_path(self, file_no: str) -> Path:
        return bank_batch.bank().config.data_dir / "disbursement" / f"{file_no}.return.zip"


def bank_side(session: Session, peer_dir: Path) -> BankSide:
    """Start the bank's side with its own keys; each side imports the other's public key."""
    import os

    os.environ["PEER_DATA_DIR"] = str(peer_dir / "bank")
    os.environ["PEER_TRUST_DIR"] = str(peer_dir / "trust")
    bank_batch.bank.cache_clear()
    peer = bank_batch.bank()
    trust = peer.config.trust_dir
    city = exchange_files.batch_sign_key_pem(session)
    (trust / f"{get_settings().region_code}.pem").write_text(city, encoding="ascii")
    crypto_service.import_public_key(
        session,
        name="bank-exchange",
        public_key=pem.load_public_key((trust / "bank.pem").read_bytes()),
    )
    return BankSide(Books(), bank_disbursement.Desk())
