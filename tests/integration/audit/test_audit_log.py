from collections.abc import Iterator

import pytest
from sqlalchemy import String, delete, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from sscard.audit import service as audit_service
from sscard.audit.models import AuditEntry
from sscard.audit.schemas import EntryFilter
from sscard.kit import access, context
from sscard.kit.access import AccessRecord, PersonalData
from sscard.kit.context import Actor, ActorKind
from sscard.kit.masking import mask_id_number


class _TestBase(DeclarativeBase):
    pass


class Resident(_TestBase, PersonalData):
    """A stand-in for a personal-data table, to watch the recording mechanism work."""

    __tablename__ = "test_audit_resident"
    __audit_type__ = "resident"
    __personal_fields__ = ("id_number", "name")

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(32), default="")

    def audit_subject(self) -> tuple[str, str]:
        return self.id, mask_id_number(self.id_number)


CLERK = Actor(kind=ActorKind.operator, id="clerk-a", name="甲柜员", institution_code="HALL-RC")


@pytest.fixture
def residents(session: Session) -> Iterator[Session]:
    _TestBase.metadata.create_all(session.connection())
    yield session


def _entries(session: Session, subject_id: str) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.subject_id == subject_id).order_by(AuditEntry.seq)
    return list(session.scalars(stmt))


def test_writes_and_reads_of_personal_data_are_recorded_without_code_in_the_caller(
    residents: Session,
) -> None:
    session = residents
    with context.acting(CLERK, request_id="req-1", purpose="counter service"):
        session.add(Resident(id="R1", id_number="37080219900101123X", name="张三"))
        session.commit()
        session.expunge_all()
        found = session.get(Resident, "R1")
        assert found is not None
        found.name = "张三丰"
        found.note = "not personal"
        session.commit()
    entries = _entries(session, "R1")
    assert [e.action for e in entries] == ["resident.create", "resident.read", "resident.update"]
    assert entries[2].fields == ["name"]
    assert all(e.actor_id == "clerk-a" and e.request_id == "req-1" for e in entries)
    assert all(e.subject_display == "370802********123X" for e in entries)
    assert entries[0].purpose == "counter service"


def test_no_personal_value_is_stored_in_the_log(residents: Session) -> None:
    session = residents
    session.add(Resident(id="R2", id_number="370802199001011234", name="李四"))
    session.commit()
    rows = session.execute(text("SELECT * FROM audit_entry")).all()
    dump = repr(rows)
    assert "370802199001011234" not in dump and "李四" not in dump


def test_internal_lookups_can_be_left_out_of_the_log(residents: Session) -> None:
    session = residents
    session.add(Resident(id="R3", id_number="37080219900101123X", name="王五"))
    session.commit()
    session.expunge_all()
    with access.suppress_reads(session):
        session.get(Resident, "R3")
    session.commit()
    assert [e.action for e in _entries(session, "R3")] == ["resident.create"]


def test_the_chain_holds_after_appends_and_breaks_where_a_row_is_edited(session: Session) -> None:
    for n in range(3):
        access.record(session, AccessRecord(action="test.event", subject_id=f"S{n}"))
    session.commit()
    assert audit_service.verify_chain(session).ok
    target = session.scalars(
        select(AuditEntry).where(AuditEntry.subject_id == "S1", AuditEntry.action == "test.event")
    ).one()
    session.execute(update(AuditEntry).where(AuditEntry.id == target.id).values(outcome="denied"))
    report = audit_service.verify_chain(session)
    assert not report.ok and report.broken_seq == target.seq
    assert "changed" in (report.reason or "")


def test_a_deleted_row_is_named(session: Session) -> None:
    for n in range(3):
        access.record(session, AccessRecord(action="test.event", subject_id=f"D{n}"))
    session.commit()
    target = session.scalars(select(AuditEntry).where(AuditEntry.subject_id == "D1")).one()
    session.execute(delete(AuditEntry).where(AuditEntry.id == target.id))
    report = audit_service.verify_chain(session)
    assert not report.ok and report.broken_seq == target.seq


def test_deleting_the_newest_rows_is_caught(session: Session) -> None:
    for n in range(2):
        access.record(session, AccessRecord(action="test.event", subject_id=f"T{n}"))
    session.commit()
    newest = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    session.execute(delete(AuditEntry).where(AuditEntry.id == newest.id))
    report = audit_service.verify_chain(session)
    assert not report.ok and report.broken_seq == newest.seq and "deleted" in (report.reason or "")


def test_auditors_search_by_actor_action_and_subject(session: Session) -> None:
    with context.acting(CLERK):
        access.record(
            session, AccessRecord(action="test.search", subject_id="Q1", subject_type="x")
        )
    session.commit()
    page = audit_service.search(session, EntryFilter(actor_id="clerk-a", action="test.search"))
    assert page.total >= 1 and page.items[0].subject_id == "Q1"
