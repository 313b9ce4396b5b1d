"""Medical settlements as operators read them: one, a list, the output shape, the audit.

Settling and refunding are :mod:`.settle_service` (they call the medical system and the
bank, so they run their own transactions); chronic qualifications are :mod:`.chronic_service`.
An operator sees the settlements of the hospitals and pharmacies in their region.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.iam import service as iam_service
from sscard.kit import access
from sscard.kit.context import Actor, ActorKind
from sscard.payments.medical import repository
from sscard.payments.medical.errors import SettlementNotFound
from sscard.payments.medical.models import MedicalSettlement
from sscard.payments.medical.schemas import (
    INSURANCE_TYPE_NAMES,
    ITEM_CLASS_NAMES,
    STATUS_NAMES,
    VISIT_KIND_NAMES,
    ItemClass,
    ItemOut,
    SettlementOut,
    SettlementStatus,
    VisitKind,
)
from sscard.registry.persons import service as registry_service


def item_out(item: dict[str, object]) -> ItemOut:
    """One bill item as stored (with the medical system's split once settled)."""
    klass = str(item["item_class"])
    return ItemOut.model_validate(
        {**item, "item_class_name": ITEM_CLASS_NAMES.get(ItemClass(klass), klass)}
    )


def settlement_out(session: Session, row: MedicalSettlement) -> SettlementOut:
    """A settlement as operators see it: the holder masked."""
    id_masked, name_masked = registry_service.person_display(session, person_id=row.person_id)
    status = SettlementStatus(row.status)
    kind = VisitKind(row.visit_kind)
    return SettlementOut(
        number=row.number,
        status=status,
        status_name=STATUS_NAMES[status],
        person_id=row.person_id,
        holder_name=name_masked,
        holder_id_number=id_masked,
        card_id=row.card_id,
        merchant_code=row.merchant_code,
        visit_kind=kind,
        visit_kind_name=VISIT_KIND_NAMES[kind],
        offsite=row.offsite,
        source=row.source,
        visit_date=row.visit_date,
        insurance_type=row.insurance_type,
        insurance_type_name=INSURANCE_TYPE_NAMES.get(row.insurance_type or ""),
        total_fen=row.total_fen,
        pool_fen=row.pool_fen,
        personal_fen=row.personal_fen,
        cash_fen=row.cash_fen,
        items=[item_out(i) for i in row.items],
        peer_settlement_id=row.peer_settlement_id,
        failure_reason=row.failure_reason,
        refund_reason=row.refund_reason,
        created_by=row.created_by,
        created_at=row.created_at,
        settled_at=row.settled_at,
        refunded_at=row.refunded_at,
    )


def record_change(session: Session, action: str, row: MedicalSettlement) -> None:
    """Write a step of a settlement to the audit log (subject: the settlement number)."""
    access.record(
        session,
        access.AccessRecord(
            action=f"payments.medical.{action}",
            subject_type="medical_settlement",
            subject_id=row.number,
            subject_display=row.number,
            detail={"status": row.status, "merchant": row.merchant_code},
        ),
    )


def in_scope(row: MedicalSettlement, actor: Actor) -> bool:
    """An operator sees their region's settlements; a terminal only those it made."""
    if actor.kind is ActorKind.terminal:
        return row.created_by == actor.label[:64]
    return row.region_code.startswith(iam_service.region_scope(actor))


def find_settlement(
    session: Session, *, number: str, actor: Actor, lock: bool = False
) -> MedicalSettlement:
    """The settlement with this number in the actor's region, or SettlementNotFound."""
    row = repository.settlement(session, number.strip().upper()[:20], lock=lock)
    if row is None or not in_scope(row, actor):
        raise SettlementNotFound(f"结算单 {number[:20]} 不存在")
    return row


def get_settlement(session: Session, *, number: str, actor: Actor) -> SettlementOut:
    """One settlement with its three-way split and items."""
    return settlement_out(session, find_settlement(session, number=number, actor=actor))


def list_settlements(
    session: Session,
    *,
    actor: Actor,
    status: SettlementStatus | None = None,
    merchant_code: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> tuple[list[SettlementOut], int]:
    """Settlements of the actor's region, newest first."""
    rows, total = repository.settlements(
        session,
        region_prefix=iam_service.region_scope(actor),
        status=status.value if status else None,
        merchant_code=merchant_code.strip().upper() if merchant_code else None,
        person_id=None,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return [settlement_out(session, r) for r in rows], total
