"""Personalisation writes a card whose keys the platform recomputes from the key store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session
from tests.terminals.test_chip_card import CARD_ID, EF05, EF06

from sscard.terminals.chip.card import SSSE_AID, Card
from sscard.terminals.chip.keys import KeyPurpose, auth_response, card_keys
from sscard.terminals.chip.personalise import card_masters, write_card_file


def test_personalised_card_authenticates_with_platform_keys(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "card.json"
    write_card_file(session, path, ef05=EF05, ef06=EF06)
    card = Card.load(path)
    assert card.process(bytes([0, 0xA4, 4, 0, len(SSSE_AID)]) + SSSE_AID) == b"\x90\x00"
    challenge = bytes(range(8))
    answer = card.process(bytes([0, 0x88, 0, 0, 8]) + challenge)[:-2]
    key = card_keys(card_masters(session), CARD_ID)[KeyPurpose.INTERNAL_AUTH]
    assert answer == auth_response(key, challenge)
    assert len(set(card.state["keys"].values())) == len(KeyPurpose)
