"""Contribution use cases (人社缴费): choose a year and grade, pay the order (card or online
bank), and once the order is paid report it to the social insurance system through the
outbox (key ``contribution:<id>``, so a repeat never records twice)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.exchange.peers import service as exchange_peers
from sscard.iam import service as iam_service
from sscard.issuance.cards import service as cards_service
from sscard.kit import access, outbox
from sscard.kit.context import SYSTEM, Actor
from sscard.payments.contributions import repository
from sscard.payments.contributions.errors import (
    ContributionNotFound,
    ContributionNotPayable,
    ContributionYearPaid,
)
from sscard.payments.contributions.models import Contribution
from sscard.payments.contributions.schemas import (
    INSURANCE,
    ContributionIn,
    ContributionOptions,
    ContributionOut,
)
from sscard.payments.merchants import service as merchants_service
from sscard.payments.merchants.errors import MerchantNotFound
from sscard.payments.merchants.schemas import MerchantCreate
from sscard.payments.online.events import OnlinePaymentConfirmed
from sscard.payments.orders import service as orders_service
from sscard.registry.persons import service as persons_service
from sscard.settings import get_settings

REPORT = "payments.contribution_report"
BEIJING = timedelta(hours=8)
PAID = ("paid", "refunded", "partially_refunded")


def merchant_code() -> str:
    """The social insurance agency as the merchant that collects contributions."""
    return f"SI{get_settings().region_code}"


def options(*, today: datetime | None = None) -> ContributionOptions:
    """The open years (this year and the next, Beijing time) and the grades in fen."""
    year = ((today or datetime.now(UTC)) + BEIJING).year
    grades = sorted({g * 100 for g in get_settings().contribution_grades_yuan if g > 0})
    return ContributionOptions(years=[year, year + 1], grades_fen=grades)


def _checked(data: ContributionIn) -> None:
    allowed = options()
    problems = []
    if data.year not in allowed.years:
        years = "、".join(str(y) for y in allowed.years)
        problems.append(FieldProblem("year", f"只能缴纳 {years} 年度的保费"))
    if data.grade_fen not in allowed.grades_fen:
        problems.append(FieldProblem("grade_fen", "缴费档次不是本市公布的档次之一"))
    if problems:
        raise ValidationFailed(problems)


def ensure_merchant(session: Session) -> str:
    """The collecting merchant (社保经办机构), signed up on first use."""
    code = merchant_code()
    try:
        merchants_service.get_merchant_by_code(session, code=code, actor=SYSTEM)
        return code
    except MerchantNotFound:
        pass
    settings = get_settings()
    institution = iam_service.ensure_platform_institution(session)
    data = MerchantCreate(
        code=code,
        name=f"{settings.region_name}社会保险事业中心",
        mcc="9399",
        institution_code=institution.code,
        settlement_bank="社会保险基金收入户",
        settlement_account="6217000000000000000",
        fee_rate_bp=0,
    )
    merchants_service.create_merchant(session, data=data, actor=SYSTEM)
    return code


def _new_order(session: Session, row: Contribution, actor: Actor) -> None:
    row.attempt += 1
    order = orders_service.create_order(
        session,
        actor=actor,
        merchant_code=ensure_merchant(session),
        merchant_order_no=f"C{row.year}-{row.id}-{row.attempt}",
        amount_fen=row.grade_fen,
        category="contribution",
        channel=row.channel,
        subject=f"{row.year} 年度{INSURANCE}",
    )
    row.order_no = order.order_no


def _audit(session: Session, action: str, row: Contribution) -> None:
    access.record(
        session,
        access.AccessRecord(
            action=f"payments.contribution.{action}",
            subject_type="person",
            subject_id=row.person_id,
            subject_display=f"{row.year}",
        ),
    )


def start(session: Session, *, data: ContributionIn, actor: Actor) -> ContributionOut:
    """The resident's contribution of a year with an order to pay (a paid year is refused)."""
    _checked(data)
    person_id = actor.id
    row = repository.of_year(session, person_id, data.year, lock=True)
    if row is not None and row.status != "unpaid":
        raise ContributionYearPaid(
            f"{data.year} 年度{INSURANCE}已缴费，不能重复缴费",
            fields=[FieldProblem("year", "该年度已缴费")],
        )
    state = _order_status(session, row.order_no) if row is not None else None
    if row is not None and state in PAID:
        mark_paid(session, order_no=row.order_no)
        raise ContributionYearPaid(f"{data.year} 年度{INSURANCE}已缴费，不能重复缴费")
    if state == "paying":
        raise ContributionNotPayable("上一笔缴费正在银行处理中，请稍后查看结果，不要重复支付")
    if (
        row is not None
        and state == "created"
        and (row.grade_fen, row.channel)
        == (
            data.grade_fen,
            data.channel,
        )
    ):
        return ContributionOut.model_validate(row)  # the same choice: the same order again
    if row is None:
        region = persons_service.get_person_by_id(session, person_id=person_id).region_code
        row = Contribution(
            person_id=person_id,
            region_code=region,
            year=data.year,
            grade_fen=data.grade_fen,
            order_no=f"new-{person_id}"[:20],
            attempt=0,
            channel=data.channel,
            status="unpaid",
            report_detail="",
            created_at=utcnow(),
        )
        repository.add(session, row)
    row.grade_fen, row.channel = data.grade_fen, data.channel
    _new_order(session, row, actor)
    _audit(session, "start", row)
    session.flush()
    return ContributionOut.model_validate(row)


def _order_status(session: Session, order_no: str) -> str | None:
    if order_no.startswith("new-"):
        return None
    return str(orders_service.get_order(session, order_no=order_no, actor=SYSTEM).status)


def _paid_order(session: Session, order_no: str) -> bool:
    return _order_status(session, order_no) in PAID


def pay_by_card(*, contribution_id: int, actor: Actor) -> ContributionOut:
    """Pay the contribution's order from the resident's card (the bank is called outside
    any transaction); reported once paid."""
    with db.transaction() as session:
        row = _mine(session, contribution_id, actor)
        if row.status != "unpaid" or row.channel != "card":
            raise ContributionNotPayable("该笔缴费不能用社保卡支付（已支付或选择了网银支付）")
        card = cards_service.live_card(session, person_id=actor.id)
        if card is None:
            raise ContributionNotPayable("您没有可用的社会保障卡，请选择网银支付")
        order_no, card_id = row.order_no, card.id
    order = orders_service.pay_by_card(
        order_no=order_no, card_id=card_id, channel="card", actor=actor
    )
    with db.transaction() as session:
        if order.status == "paid":
            mark_paid(session, order_no=order_no)
        return ContributionOut.model_validate(_mine(session, contribution_id, actor))


def _mine(session: Session, contribution_id: int, actor: Actor) -> Contribution:
    row = repository.by_id(session, contribution_id)
    if row is None or row.person_id != actor.id:
        raise ContributionNotFound(f"没有找到缴费记录 {contribution_id}")
    return row


def get_mine(session: Session, *, contribution_id: int, actor: Actor) -> ContributionOut:
    return ContributionOut.model_validate(_mine(session, contribution_id, actor))


def list_mine(session: Session, *, actor: Actor) -> list[ContributionOut]:
    return [ContributionOut.model_validate(r) for r in repository.of_person(session, actor.id)]


def list_in_region(
    session: Session, *, actor: Actor, status: str | None, page: int, page_size: int
) -> list[ContributionOut]:
    """Contributions of the operator's region (for clerks following up reports)."""
    prefix = iam_service.region_scope(actor)
    rows = repository.in_region(session, prefix, status, page, page_size)
    return [ContributionOut.model_validate(r) for r in rows]


def mark_paid(session: Session, *, order_no: str) -> bool:
    """The contribution of a paid order becomes paid and its report is queued (once)."""
    row = repository.by_order(session, order_no, lock=True)
    if row is None or row.status != "unpaid":
        return False
    row.status, row.paid_at = "paid", utcnow()
    outbox.enqueue(
        session, destination=REPORT, payload={"id": row.id}, key=f"contribution:{row.id}"
    )
    _audit(session, "paid", row)
    return True


def on_online_payment(session: Session, event: OnlinePaymentConfirmed) -> None:
    """A contribution paid by online bank is reported like one paid by card."""
    mark_paid(session, order_no=event.order_no)


def sync_paid(session: Session, *, limit: int = 200) -> int:
    """Housekeeping: unpaid contributions whose order was paid later (a bank answer that
    came after the resident left); how many became paid."""
    return sum(
        mark_paid(session, order_no=row.order_no)
        for row in repository.unpaid(session, limit)
        if _paid_order(session, row.order_no)
    )


def _report(contribution_id: int) -> dict[str, object] | None:
    with db.transaction() as session:
        row = repository.by_id(session, contribution_id)
        if row is None or row.status not in ("paid", "reported") or row.paid_at is None:
            return None
        person = persons_service.get_person_by_id(session, person_id=row.person_id)
        id_number = persons_service.id_number_of(session, person_id=person.id, actor=SYSTEM)
        return {
            "id_number": id_number,
            "year": row.year,
            "grade_fen": row.grade_fen,
            "amount_fen": row.grade_fen,
            "order_no": row.order_no,
            "paid_at": row.paid_at.isoformat(),
            "region_code": row.region_code,
        }


def _reported(contribution_id: int, status: str, detail: str) -> None:
    with db.transaction() as session:
        row = repository.by_id(session, contribution_id)
        if row is not None and row.status in ("paid", "reported"):
            row.status, row.report_detail = status, detail[:200]
            row.reported_at = utcnow()


def deliver_report(message: outbox.Message) -> None:
    """Outbox handler of ``payments.contribution_report``: record it at the social
    insurance system under the message key (idempotent there)."""
    contribution_id = int(message.payload["id"])
    report = _report(contribution_id)
    if report is None:
        return
    key = message.key or f"contribution:{contribution_id}"
    try:
        exchange_peers.social_report_contribution(report=report, key=key)
    except exchange_peers.PEER_REFUSALS as exc:
        _reported(contribution_id, "refused", str(exc))
        raise outbox.PermanentFailure(str(exc)) from exc
    _reported(contribution_id, "reported", "社会保险经办系统已记录")
