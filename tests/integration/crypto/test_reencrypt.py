"""Re-encryption after a key rotation: chunked, checkpointed, resumable."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sscard import db
from sscard.crypto import fields, reencrypt, repository
from sscard.crypto import service as crypto
from sscard.crypto.errors import TableNotRegistered
from sscard.crypto.schemas import ReencryptReport

if TYPE_CHECKING:
    from tests.integration.crypto.conftest import People


class Interrupted(Exception):
    pass


def rotate(name: str) -> None:
    with db.transaction() as session:
        crypto.rotate_key(session, name=name)


def interrupt_after_first_chunk(reports: list[ReencryptReport]):  # type: ignore[no-untyped-def]
    def progress(report: ReencryptReport) -> None:
        reports.append(report)
        raise Interrupted

    return progress


def assert_all_readable(people: People, values: dict[str, tuple[str | None, str]]) -> None:
    rows = people.rows()
    with db.transaction() as session:
        for row in rows:
            name, id_number = values[row.id]
            where = {"table": people.name, "row_id": row.id, "session": session}
            if name is None:
                assert row.name is None
            else:
                assert fields.decrypt_field(row.name, column="name", **where) == name
            assert fields.decrypt_field(row.id_number, column="id_number", **where) == id_number
            assert row.id_number_index == fields.blind_index(
                id_number, purpose="person.id_number", key=people.entry.index_key, session=session
            )


def test_reencryption_resumes_after_an_interruption_without_skipping_or_repeating_rows(
    people: People,
) -> None:
    values = people.seed(23)
    rotate(people.entry.data_key)
    rotate(people.entry.index_key)

    first: list[ReencryptReport] = []
    with pytest.raises(Interrupted):
        reencrypt.reencrypt(people.name, batch_size=5, progress=interrupt_after_first_chunk(first))
    assert [(r.rows_scanned, r.rows_updated, r.last_pk) for r in first] == [(5, 5, "P0004")]
    versions = [fields.token_version(row.id_number) for row in people.rows()]
    assert versions == [2] * 5 + [1] * 18
    with db.transaction() as session:
        checkpoint = repository.get_checkpoint(session, people.name)
        assert checkpoint is not None
        assert (checkpoint.last_pk, checkpoint.finished_at) == ("P0004", None)

    second: list[ReencryptReport] = []
    report = reencrypt.reencrypt(people.name, batch_size=5, progress=second.append)
    assert report.resumed and report.finished
    assert (report.rows_scanned, report.rows_updated) == (23, 23)
    assert [r.rows_scanned for r in second] == [10, 15, 20, 23, 23]
    assert report.rows_updated - first[-1].rows_updated == 18
    for row in people.rows():
        assert fields.token_version(row.id_number) == 2
        assert row.name is None or fields.token_version(row.name) == 2
    assert_all_readable(people, values)


def test_a_finished_run_starts_over_and_changes_nothing(people: People) -> None:
    values = people.seed(8)
    rotate(people.entry.data_key)
    assert reencrypt.reencrypt(people.name, batch_size=3).rows_updated == 8
    again = reencrypt.reencrypt(people.name, batch_size=3)
    assert not again.resumed
    assert (again.rows_scanned, again.rows_updated, again.chunks) == (8, 0, 3)
    assert_all_readable(people, values)


def test_a_rotation_during_an_interrupted_run_restarts_the_walk(people: People) -> None:
    values = people.seed(12)
    rotate(people.entry.data_key)
    with pytest.raises(Interrupted):
        reencrypt.reencrypt(people.name, batch_size=4, progress=interrupt_after_first_chunk([]))
    rotate(people.entry.data_key)
    report = reencrypt.reencrypt(people.name, batch_size=4)
    assert not report.resumed
    assert (report.data_key_version, report.rows_scanned, report.rows_updated) == (3, 12, 12)
    assert {fields.token_version(row.id_number) for row in people.rows()} == {3}
    assert_all_readable(people, values)


def test_only_an_index_key_rotation_rewrites_only_the_indexes(people: People) -> None:
    values = people.seed(6)
    before = {row.id: row.id_number for row in people.rows()}
    rotate(people.entry.index_key)
    report = reencrypt.reencrypt(people.name, batch_size=10)
    assert (report.index_key_version, report.rows_updated) == (2, 6)
    assert {row.id: row.id_number for row in people.rows()} == before
    assert_all_readable(people, values)


def test_count_rows_sizes_the_progress_bar(people: People) -> None:
    people.seed(4)
    with db.transaction() as session:
        assert reencrypt.count_rows(session, people.name) == 4


def test_an_unregistered_table_is_refused_by_name(engine: object) -> None:
    with pytest.raises(TableNotRegistered, match="registry_nothing"):
        reencrypt.reencrypt("registry_nothing")
