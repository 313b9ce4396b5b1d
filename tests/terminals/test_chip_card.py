"""The emulated card chip as a pure APDU machine."""

from __future__ import annotations

import json
from pathlib import Path

from sscard.terminals.chip.card import (
    EF05_TAGS,
    EF06_TAGS,
    SSSE_AID,
    Card,
    new_card_state,
    parse_tlv,
    pin_bytes,
)
from sscard.terminals.chip.keys import KeyPurpose, auth_response, card_keys

CARD_ID = "86110000" + "0" * 8 + "1234567890ABCDEF"
MASTERS = {p: bytes([i + 1]) * 16 for i, p in enumerate(KeyPurpose)}
EF05 = {
    "card_identifier": CARD_ID,
    "card_type": "3",
    "spec_version": "3.00",
    "issuer_org": "110000000000",
    "issued_on": "20260101",
    "valid_until": "20360101",
    "card_number": "A12345678",
}
EF06 = {
    "ssn": "11010519491231002X",
    "name": "张三",
    "sex": "1",
    "ethnicity": "01",
    "birthplace": "北京市",
    "birth_date": "19491231",
}


def make_card(path: Path | None = None) -> Card:
    keys = {str(p): k for p, k in card_keys(MASTERS, CARD_ID).items()}
    return Card(new_card_state(ef05=EF05, ef06=EF06, keys=keys), path)


def select_ssse(card: Card) -> None:
    assert card.process(bytes([0, 0xA4, 4, 0, len(SSSE_AID)]) + SSSE_AID) == b"\x90\x00"


def test_select_by_name_and_read_ef05() -> None:
    card = make_card()
    assert card.process(bytes([0, 0xA4, 4, 0, 3]) + b"abc") == b"\x6a\x82"
    select_ssse(card)
    assert card.process(bytes([0, 0xA4, 2, 0, 2, 0xEF, 0x05])) == b"\x90\x00"
    resp = card.process(bytes([0, 0xB0, 0, 0, 0]))
    assert resp[-2:] == b"\x90\x00"
    assert parse_tlv(resp[:-2], EF05_TAGS) == EF05
    rec = card.process(bytes([0, 0xB2, 1, 0x05 << 3 | 4, 0]))
    assert rec == bytes([1, 32]) + CARD_ID.encode() + b"\x90\x00"
    assert card.process(bytes([0, 0xB2, 9, 0x05 << 3 | 4, 0])) == b"\x6a\x83"
    assert card.process(bytes([0, 0xA4, 2, 0, 2, 0xEF, 0x09])) == b"\x6a\x82"


def test_status_words_for_bad_commands() -> None:
    card = make_card()
    assert card.process(bytes([0xA0, 0xA4, 0, 0])) == b"\x6e\x00"
    assert card.process(bytes([0, 0xCA, 0, 0])) == b"\x6d\x00"
    assert card.process(b"\x00\xa4") == b"\x67\x00"
    assert card.process(bytes([0, 0xA4, 4, 0, 9, 1])) == b"\x67\x00"
    assert card.process(bytes([0, 0x84, 0, 0, 5])) == b"\x67\x00"
    assert card.process(bytes([0, 0x20, 0, 0, 3]) + b"\x12\x34\x56") == b"\x69\x85"
    assert card.process(bytes([0, 0x82, 0, 0, 16]) + bytes(16)) == b"\x69\x85"


def test_holder_file_needs_pin() -> None:
    card = make_card()
    select_ssse(card)
    assert card.process(bytes([0, 0xB0, 0x86, 0, 0])) == b"\x69\x82"
    assert card.process(bytes([0, 0x20, 0, 0, 3]) + pin_bytes("123456")) == b"\x90\x00"
    resp = card.process(bytes([0, 0xB0, 0x86, 0, 0]))
    assert parse_tlv(resp[:-2], EF06_TAGS) == EF06


def test_pin_countdown_lock_survives_reload(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    card = make_card(path)
    card.save()
    select_ssse(card)
    wrong = bytes([0, 0x20, 0, 0, 3]) + pin_bytes("000000")
    assert card.process(wrong) == b"\x63\xc2"
    assert card.process(wrong) == b"\x63\xc1"
    assert card.process(bytes([0, 0x20, 0, 0])) == b"\x63\xc1"
    assert card.process(wrong) == b"\x69\x83"
    reloaded = Card.load(path)
    select_ssse(reloaded)
    assert reloaded.process(bytes([0, 0x20, 0, 0, 3]) + pin_bytes("123456")) == b"\x69\x83"
    assert json.loads(path.read_text("utf-8"))["pin_tries_left"] == 0


def test_change_pin() -> None:
    card = make_card()
    select_ssse(card)
    body = pin_bytes("123456") + b"\xff" + pin_bytes("6543")
    assert card.process(bytes([0x80, 0x5E, 1, 0, len(body)]) + body) == b"\x90\x00"
    assert card.process(bytes([0, 0x20, 0, 0, 3]) + pin_bytes("123456")) == b"\x63\xc2"
    assert card.process(bytes([0, 0x20, 0, 0, 2]) + pin_bytes("6543")) == b"\x90\x00"


def test_internal_auth_checks_with_platform_key_and_fails_with_wrong_master() -> None:
    card = make_card()
    select_ssse(card)
    challenge = bytes(range(8))
    resp = card.process(bytes([0, 0x88, 0, 0, 8]) + challenge)
    assert resp[-2:] == b"\x90\x00"
    platform_key = card_keys(MASTERS, CARD_ID)[KeyPurpose.INTERNAL_AUTH]
    assert resp[:-2] == auth_response(platform_key, challenge)
    wrong = card_keys({KeyPurpose.INTERNAL_AUTH: bytes(16)}, CARD_ID)[KeyPurpose.INTERNAL_AUTH]
    assert resp[:-2] != auth_response(wrong, challenge)


def test_cloned_card_has_right_data_but_fails_internal_auth() -> None:
    clone_keys = {str(p): bytes(16) for p in KeyPurpose}
    clone = Card(new_card_state(ef05=EF05, ef06=EF06, keys=clone_keys))
    select_ssse(clone)
    resp = clone.process(bytes([0, 0xB0, 0x85, 0, 0]))
    assert parse_tlv(resp[:-2], EF05_TAGS)["card_identifier"] == CARD_ID
    challenge = bytes(8)
    answer = clone.process(bytes([0, 0x88, 0, 0, 8]) + challenge)[:-2]
    platform_key = card_keys(MASTERS, CARD_ID)[KeyPurpose.INTERNAL_AUTH]
    assert answer != auth_response(platform_key, challenge)


def test_external_auth() -> None:
    card = make_card()
    select_ssse(card)
    key = card_keys(MASTERS, CARD_ID)[KeyPurpose.EXTERNAL_AUTH]
    ch = card.process(bytes([0, 0x84, 0, 0, 8]))[:-2]
    assert card.process(bytes([0, 0x82, 0, 0, 16]) + auth_response(bytes(16), ch)) == b"\x69\x82"
    ch = card.process(bytes([0, 0x84, 0, 0, 8]))[:-2]
    assert card.process(bytes([0, 0x82, 0, 0, 16]) + auth_response(key, ch)) == b"\x90\x00"
    assert card.external_ok
