"""Personalisation (个人化): write the card file of an issued card with its diversified keys.

The master key of each purpose is derived from the key-store ``secret`` key
``card.master.<purpose>`` (HMAC-SM3 KDF, context ``b"sscard-card-master"``), so the platform
can always recompute a card's keys from its 卡识别码.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from sscard.crypto import service as crypto
from sscard.terminals.chip.card import Card, new_card_state
from sscard.terminals.chip.keys import KeyPurpose, card_keys

MASTER_CONTEXT = b"sscard-card-master"


def master_key_name(purpose: KeyPurpose) -> str:
    return f"card.master.{purpose.value}"


def card_masters(session: Session) -> dict[KeyPurpose, bytes]:
    """The SM4 master keys (卡主密钥) per purpose, created in the key store when missing."""
    masters: dict[KeyPurpose, bytes] = {}
    for purpose in KeyPurpose:
        name = master_key_name(purpose)
        crypto.ensure_key(session, name=name, kind="secret", description="社保卡主密钥")
        masters[purpose] = crypto.derive_key(session, name=name, context=MASTER_CONTEXT).key
    return masters


def write_card_file(
    session: Session,
    path: Path,
    *,
    ef05: dict[str, str],
    ef06: dict[str, str],
    pin: str = "123456",
) -> Card:
    """Write the card file for one issued card (EF05 card facts, EF06 holder facts)."""
    keys = card_keys(card_masters(session), ef05["card_identifier"])
    state = new_card_state(
        ef05=ef05, ef06=ef06, keys={p.value: k for p, k in keys.items()}, pin=pin
    )
    card = Card(state, path)
    card.save()
    return card
