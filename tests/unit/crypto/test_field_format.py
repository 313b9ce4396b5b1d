"""Pure parts of field encryption: normalisation for blind indexes, token headers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.crypto import fields
from sscard.crypto.errors import DecryptionFailed, InvalidCryptoInput


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("11010119900307451x", "11010119900307451X"),
        ("  11010119900307451X ", "11010119900307451X"),
        ("１１０１０１１９９００３０７４５１ｘ", "11010119900307451X"),
        ("张  三", "张 三"),
        ("\t王小明\n", "王小明"),
        ("Zhang San", "ZHANG SAN"),
    ],
)
def test_values_are_normalised_before_indexing(raw: str, normalised: str) -> None:
    assert fields.normalize(raw) == normalised


@given(st.text())
def test_normalising_twice_changes_nothing(value: str) -> None:
    once = fields.normalize(value)
    assert fields.normalize(once) == once


def test_only_ascii_letters_are_upper_cased() -> None:
    assert fields.normalize("straße") == "STRAßE"
    assert fields.normalize("émile") == "éMILE"


@pytest.mark.parametrize("token", [b"", b"\x01\x00", bytes(40), b"\x03" + bytes(40)])
def test_something_that_is_not_a_token_is_refused(token: bytes) -> None:
    with pytest.raises(DecryptionFailed, match="not an sscard field token"):
        fields.token_version(token)


def test_a_token_header_carries_format_and_version() -> None:
    assert fields.token_version(b"\x01\x00\x07" + bytes(28)) == 7
    assert fields.token_version(b"\x02\x01\x00" + bytes(28)) == 256


def test_a_blind_index_must_come_from_an_encrypted_column() -> None:
    with pytest.raises(InvalidCryptoInput, match="not one of the encrypted columns"):
        fields.register_encrypted_table(
            "registry_person", "id", ["name"], {"id_number_index": ("id_number", "person.id")}
        )
