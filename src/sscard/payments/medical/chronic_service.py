"""Chronic-disease qualifications (门诊慢特病资格): approved by a clerk, sent to the medical
system, which then pays a higher ratio for that disease's items.

The medical system is told before the qualification is recorded (a peer call never sits
inside a transaction): a refusal leaves nothing behind; the call is idempotent by the
qualification number, so a retry after a lost answer registers it once.
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.exchange.peers import service as peers_service
from sscard.iam import service as iam_service
from sscard.kit import access
from sscard.kit.context import Actor
from sscard.payments.medical import repository
from sscard.payments.medical.errors import QualificationExists, QualificationNotFound
from sscard.payments.medical.models import ChronicQualification
from sscard.payments.medical.schemas import ChronicIn, ChronicOut
from sscard.payments.medical.settle_service import beijing_today
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.errors import PersonNotFound

STATUS_NAMES = {"active": "有效", "revoked": "已撤销"}


def chronic_out(session: Session, row: ChronicQualification) -> ChronicOut:
    id_masked, name_masked = registry_service.person_display(session, person_id=row.person_id)
    return ChronicOut(
        number=row.number,
        person_id=row.person_id,
        holder_name=name_masked,
        holder_id_number=id_masked,
        disease_code=row.disease_code,
        disease_name=row.disease_name,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        status=row.status,
        status_name=STATUS_NAMES.get(row.status, row.status),
        approved_by=row.approved_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _record(session: Session, action: str, row: ChronicQualification) -> None:
    access.record(
        session,
        access.AccessRecord(
            action=f"payments.chronic.{action}",
            subject_type="chronic_qualification",
            subject_id=row.number,
            subject_display=row.number,
            detail={"disease": row.disease_code},
        ),
    )


def _person(session: Session, id_number: str, actor: Actor) -> tuple[str, str]:
    try:
        person = registry_service.get_person(session, id_number=id_number, actor=actor)
    except PersonNotFound as exc:
        raise ValidationFailed([FieldProblem("id_number", "本辖区没有这个人员")]) from exc
    return person.id, person.residence_region_code


def approve(*, data: ChronicIn, actor: Actor) -> ChronicOut:
    """Approve a qualification, tell the medical system, record it."""
    with db.transaction() as session:
        person_id, region = _person(session, data.id_number, actor)
        if repository.live_qualification(session, person_id, data.disease_code) is not None:
            raise QualificationExists(
                f"该人员已有病种 {data.disease_code} 的有效资格",
                fields=[FieldProblem("disease_code", "已有有效资格")],
            )
    number = f"CQ{beijing_today():%Y%m%d}{secrets.randbelow(10**8):08d}"
    peers_service.medical_register_chronic(
        id_number=data.id_number,
        qualification_no=number,
        disease_code=data.disease_code,
        disease_name=data.disease_name,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
    )
    with db.transaction() as session:
        row = ChronicQualification(
            number=number,
            person_id=person_id,
            region_code=region,
            disease_code=data.disease_code,
            disease_name=data.disease_name,
            valid_from=data.valid_from,
            valid_to=data.valid_to,
            status="active",
            approved_by=actor.label[:64],
            created_at=utcnow(),
        )
        repository.add(session, row)
        _record(session, "approve", row)
        return chronic_out(session, row)


def _find(session: Session, number: str, actor: Actor) -> ChronicQualification:
    row = repository.qualification(session, number.strip().upper()[:24])
    if row is None or not row.region_code.startswith(iam_service.region_scope(actor)):
        raise QualificationNotFound(f"慢特病资格 {number[:24]} 不存在")
    return row


def revoke(*, number: str, actor: Actor) -> ChronicOut:
    """Withdraw a qualification at the medical system, then here."""
    with db.transaction() as session:
        row = _find(session, number, actor)
        if row.status != "active":
            return chronic_out(session, row)
        person = registry_service.get_person_by_id(session, person_id=row.person_id)
        id_number = registry_service.reveal_fields(session, person).id_number
        qualification_no = row.number
    peers_service.medical_revoke_chronic(id_number=id_number, qualification_no=qualification_no)
    with db.transaction() as session:
        row = _find(session, number, actor)
        row.status, row.revoked_at = "revoked", utcnow()
        _record(session, "revoke", row)
        return chronic_out(session, row)


def get_qualification(session: Session, *, number: str, actor: Actor) -> ChronicOut:
    return chronic_out(session, _find(session, number, actor))


def list_qualifications(
    session: Session, *, actor: Actor, page: int = 1, page_size: int = 20
) -> tuple[list[ChronicOut], int]:
    """Qualifications of persons living in the actor's region, newest first."""
    rows, total = repository.qualifications(
        session,
        region_prefix=iam_service.region_scope(actor),
        person_id=None,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return [chronic_out(session, r) for r in rows], total
