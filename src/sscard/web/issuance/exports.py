"""Card lists as files (导出 CSV / 导出 Excel): a person's cards (the lookup), the cards of
a scanned box (handover) and a card's handover records, each with the same search and the
same scope as its page, masked as the page shows it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from sscard.errors import FieldProblem, NotFound, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.issuance.cards import handover_service, service
from sscard.issuance.cards.schemas import CardOut, HandoverOut
from sscard.web import export, pages
from sscard.web.export import Column
from sscard.web.issuance.common import KINDS, MODES, Reader, refusing

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/cards", include_in_schema=False)


def card_columns(places: dict[str, str]) -> list[Column[CardOut]]:
    """The columns of a card list, as the lookup and handover pages show them."""
    return [
        Column("卡号", lambda c: c.card_number or "（未放号）"),
        Column("持卡人", lambda c: c.holder_name),
        Column("证件号码", lambda c: c.holder_id_number),
        Column("状态", lambda c: c.status.name),
        Column("类别", lambda c: KINDS.get(c.kind, c.kind)),
        Column("制卡方式", lambda c: MODES.get(c.mode, c.mode)),
        Column("合作银行", lambda c: places.get(c.bank_code, c.bank_code)),
        Column("卡盒", lambda c: c.box_code),
        Column("卡盒位置", lambda c: c.box_position),
        Column("当前位置", lambda c: handover_service.place_name(places, c.location)),
        Column("申请时间（北京时间）", lambda c: c.applied_at),
    ]


HANDOVER_COLUMNS: list[Column[HandoverOut]] = [
    Column("交接时间（北京时间）", lambda h: h.handed_at),
    Column("卡号", lambda h: h.card_number),
    Column("整盒交接", lambda h: h.box_code),
    Column("原位置", lambda h: h.from_place_name),
    Column("新位置", lambda h: h.to_place_name),
    Column("交出人", lambda h: h.handler),
    Column("接收人", lambda h: h.receiver),
    Column("备注", lambda h: h.note),
]


def _cards(session: Session, cards: list[CardOut], fmt: str, name: str, title: str) -> Response:
    columns = card_columns(handover_service.place_names(session))
    return export.export(cards, columns, fmt=fmt, name=name, title=title)


@router.post("/export", response_class=Response)
def person_cards(
    request: Request, actor: Reader, session: DbSession, form: pages.FormFields
) -> Response:
    """A person's local cards (the lookup by ID number) as a file. The form names the person
    by internal id, so the ID number is neither in the page nor in a URL."""
    with refusing(request):
        pages.check_form_csrf(request, form.get("csrf_token"))
        fmt = export.check_format(form.get("format", ""))
        person_id = form.get("person_id", "").strip()
        if not person_id:
            reason = "请先按证件号码查询，再导出查询结果"
            raise ValidationFailed([FieldProblem("person_id", reason)], reason)
        found = service.cards_of_person_id(session, person_id=person_id, actor=actor)
        if not found:
            raise NotFound("未找到该持卡人在本机构服务区域内的卡片")
        cards = [service.card_out(session, c) for c in found]
        return _cards(session, cards, fmt, "cards", "持卡人卡片")


@router.get("/handover/export", response_class=Response)
def box_cards(
    request: Request, actor: Reader, session: DbSession, code: str = "", format: str = "csv"
) -> Response:
    """The cards of a scanned box that the actor may see, by position, as a file."""
    with refusing(request):
        fmt = export.check_format(format)
        scanned = handover_service.scan(session, code=code, actor=actor)
        cards = [service.card_out(session, c) for c in scanned.cards]
        return _cards(session, cards, fmt, "box-cards", f"卡盒{scanned.box_code or ''}卡片")


@router.get("/c/{card_id}/handovers/export", response_class=Response)
def card_handovers(
    request: Request, card_id: str, actor: Reader, session: DbSession, format: str = "csv"
) -> Response:
    """A card's handover records (its own moves and its box's) as a file."""
    with refusing(request):
        fmt = export.check_format(format)
        card = service.get_card_at_counter(session, card_ref=card_id, actor=actor)
        moves = handover_service.handovers(session, card=card)
        return export.export(
            moves, HANDOVER_COLUMNS, fmt=fmt, name="handovers", title="卡片交接记录"
        )
