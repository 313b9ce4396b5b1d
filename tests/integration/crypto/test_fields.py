"""Field tokens bound to their row and column, blind indexes, and keys served from memory."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import fields, keyring
from sscard.crypto import service as crypto
from sscard.crypto.errors import DecryptionFailed, KeyRevoked, WrongKeyKind
from sscard.crypto.fields import DEFAULT_DATA_KEY, DEFAULT_INDEX_KEY
from sscard.crypto.models import KeyKind

ID_NUMBER = "37080219900307451X"
WHERE = {"table": "registry_person", "column": "id_number", "row_id": "01JPERSON0000000000000001"}


def test_a_field_decrypts_in_its_own_row(session: Session) -> None:
    token = fields.encrypt_field(ID_NUMBER, session=session, **WHERE)
    assert fields.decrypt_field(token, session=session, **WHERE) == ID_NUMBER


def test_a_token_is_31_bytes_longer_than_the_utf8_value_and_never_repeats(
    session: Session,
) -> None:
    first = fields.encrypt_field("王小明", session=session, **WHERE)
    second = fields.encrypt_field("王小明", session=session, **WHERE)
    assert len(first) == len("王小明".encode()) + 31
    assert first != second
    assert first[0] == fields.FORMAT_TEXT and fields.token_version(first) == 1


@pytest.mark.parametrize(
    "moved",
    [
        {"row_id": "01JPERSON0000000000000002"},
        {"column": "name"},
        {"table": "registry_photo"},
    ],
)
def test_a_ciphertext_moved_to_another_row_column_or_table_does_not_decrypt(
    session: Session, moved: dict[str, str]
) -> None:
    token = fields.encrypt_field(ID_NUMBER, session=session, **WHERE)
    with pytest.raises(DecryptionFailed, match="copied from another row or column"):
        fields.decrypt_field(token, session=session, **{**WHERE, **moved})


def test_a_tampered_token_does_not_decrypt(session: Session) -> None:
    token = bytearray(fields.encrypt_field(ID_NUMBER, session=session, **WHERE))
    token[20] ^= 0x40
    with pytest.raises(DecryptionFailed):
        fields.decrypt_field(bytes(token), session=session, **WHERE)


def test_empty_text_and_binary_values_round_trip(session: Session) -> None:
    empty = fields.encrypt_field("", session=session, **WHERE)
    assert fields.decrypt_field(empty, session=session, **WHERE) == ""
    photo = bytes(range(256)) * 40
    token = fields.encrypt_blob(photo, session=session, **WHERE)
    assert fields.decrypt_blob(token, session=session, **WHERE) == photo
    with pytest.raises(DecryptionFailed, match="bytes where text"):
        fields.decrypt_field(token, session=session, **WHERE)


def test_after_rotation_new_tokens_use_the_new_version_and_old_ones_still_decrypt(
    session: Session,
) -> None:
    old = fields.encrypt_field(ID_NUMBER, session=session, **WHERE)
    crypto.rotate_key(session, name=DEFAULT_DATA_KEY)
    new = fields.encrypt_field(ID_NUMBER, session=session, **WHERE)
    assert (fields.token_version(old), fields.token_version(new)) == (1, 2)
    assert fields.decrypt_field(old, session=session, **WHERE) == ID_NUMBER
    assert fields.decrypt_field(new, session=session, **WHERE) == ID_NUMBER


def test_a_token_under_a_revoked_version_no_longer_decrypts(session: Session) -> None:
    old = fields.encrypt_field(ID_NUMBER, session=session, **WHERE)
    crypto.rotate_key(session, name=DEFAULT_DATA_KEY)
    crypto.revoke_version(session, name=DEFAULT_DATA_KEY, version=1)
    with pytest.raises(KeyRevoked):
        fields.decrypt_field(old, session=session, **WHERE)


def test_equal_values_have_equal_blind_indexes_after_normalisation(session: Session) -> None:
    index = fields.blind_index(ID_NUMBER, purpose="person.id_number", session=session)
    assert len(index) == 16
    for variant in (
        "37080219900307451x",
        " 37080219900307451X\t",
        "３７０８０２１９９００３０７４５１Ｘ",
    ):
        assert fields.blind_index(variant, purpose="person.id_number", session=session) == index
    assert fields.blind_index(ID_NUMBER, purpose="card.holder", session=session) != index
    assert (
        fields.blind_index("370802199003074528", purpose="person.id_number", session=session)
        != index
    )
    long = fields.blind_index(ID_NUMBER, purpose="person.id_number", length=32, session=session)
    assert long[:16] == index


def test_blind_index_candidates_find_values_indexed_before_an_index_key_rotation(
    session: Session,
) -> None:
    before = fields.blind_index(ID_NUMBER, purpose="person.id_number", session=session)
    crypto.rotate_key(session, name=DEFAULT_INDEX_KEY)
    after = fields.blind_index(ID_NUMBER, purpose="person.id_number", session=session)
    candidates = fields.blind_index_candidates(
        ID_NUMBER, purpose="person.id_number", session=session
    )
    assert after != before
    assert candidates == [after, before]


def test_default_keys_are_created_on_first_use_with_their_kinds(session: Session) -> None:
    fields.prepare_keys(session)
    assert crypto.get_key(session, name=DEFAULT_DATA_KEY).kind == KeyKind.sm4_data
    assert crypto.get_key(session, name=DEFAULT_INDEX_KEY).kind == KeyKind.hmac_index


def test_once_cached_fields_are_encrypted_without_touching_the_database(
    engine: Engine, committed: str
) -> None:
    key = f"{committed}data"
    where = {**WHERE, "key": key}
    with db.transaction() as session:  # creates the key
        fields.encrypt_field(ID_NUMBER, session=session, **where)
    with db.transaction() as session:  # reads it once, into the cache
        token = fields.encrypt_field(ID_NUMBER, session=session, **where)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    with db.transaction() as session:
        session.connection()
        event.listen(engine, "before_cursor_execute", count)
        try:
            tokens = [fields.encrypt_field(f"{i}", session=session, **where) for i in range(2000)]
            plain = [fields.decrypt_field(t, session=session, **where) for t in tokens]
            fields.decrypt_field(token, session=session, **where)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert statements == []
    assert plain == [f"{i}" for i in range(2000)]
    with db.transaction() as session:
        assert crypto.get_key(session, name=key).active_version == 1


def test_another_process_picks_up_a_rotation_within_the_ttl(engine: Engine, committed: str) -> None:
    name = f"{committed}sign"
    with db.transaction() as session:
        crypto.create_key(session, name=name, kind=KeyKind.sm2_sign)
    other_process = keyring.Keyring(ttl=0.2)
    with db.transaction() as session:
        assert other_process.active(session, name).version == 1
    with db.transaction() as session:
        crypto.rotate_key(session, name=name)
    with db.transaction() as session:
        assert other_process.active(session, name).version == 1
        assert keyring.keyring.active(session, name).version == 2
    time.sleep(0.25)
    with db.transaction() as session:
        assert other_process.active(session, name).version == 2


def test_threads_racing_to_create_a_key_share_one_key(engine: Engine, committed: str) -> None:
    key = f"{committed}race"
    where = {**WHERE, "key": key}
    results: dict[int, list[bytes]] = {}
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            with db.transaction() as session:
                results[worker] = [
                    fields.encrypt_field(f"{worker}:{i}", session=session, **where)
                    for i in range(200)
                ]
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.transaction() as session:
        for worker, tokens in results.items():
            assert [fields.decrypt_field(t, session=session, **where) for t in tokens] == [
                f"{worker}:{i}" for i in range(200)
            ]
        assert [v.version for v in crypto.get_key(session, name=key).versions] == [1]


def test_a_key_of_another_kind_is_not_used_for_fields(session: Session) -> None:
    crypto.create_key(session, name="not-a-data-key", kind=KeyKind.secret)
    with pytest.raises(WrongKeyKind, match="secret"):
        fields.encrypt_field(ID_NUMBER, session=session, **{**WHERE, "key": "not-a-data-key"})


def test_loaded_field_keys_seal_and_index_without_a_session_and_open_like_any_token(
    engine: Engine, committed: str
) -> None:
    with db.transaction() as session:
        keys = fields.load_keys(session, table=WHERE["table"])
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        tokens = [
            keys.encrypt_field(f"{i}", column=WHERE["column"], row_id=WHERE["row_id"])
            for i in range(200)
        ]
        index = keys.blind_index(ID_NUMBER, purpose="person.id_number")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements == []
    with db.transaction() as session:
        assert [fields.decrypt_field(t, session=session, **WHERE) for t in tokens] == [
            f"{i}" for i in range(200)
        ]
        assert index == fields.blind_index(ID_NUMBER, purpose="person.id_number", session=session)
