"""Counter receipts (柜面业务回执): one printable receipt per card operation done at a
counter (loss, unlock, cancel, restore, handover and issue, replacement, PIN reset).

A receipt is drawn from the card's timeline entry, so it can be printed again at any time
and reads the same: the receipt number is the entry's date and id, and the SM3 digest
covers every printed line, so a receipt altered on paper no longer matches the one the
platform prints for that number.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy.orm import Session

from sscard.crypto.primitives import sm3
from sscard.db import CHINA_TZ
from sscard.issuance import lifecycle
from sscard.issuance.cards import handover_service, repository, service
from sscard.issuance.cards.errors import ReceiptNotFound
from sscard.issuance.cards.models import Card, CardEvent
from sscard.issuance.cards.schemas import ReceiptOut
from sscard.kit.context import Actor
from sscard.kit.masking import mask_card_number
from sscard.registry.persons import service as registry_service

RECEIPT_ACTIONS = {
    "report_temporary_loss",
    "report_loss",
    "temporary_unlock",
    "unlock",
    "cancel",
    "restore",
    "issue",
    "arrive",
    "ship",
    "handover",
    "reset_pin",
    "apply",
}
"""Timeline entries a counter receipt is printed for."""


def receipt_offered(card: Card, action: str) -> bool:
    """Whether a timeline entry of ``card`` has a counter receipt (an application only
    when it is a replacement)."""
    if action == "apply":
        return card.kind == "replacement"
    return action in RECEIPT_ACTIONS


def latest_receipt(session: Session, *, card: Card) -> int | None:
    """The timeline entry of the card's latest operation with a receipt, if any."""
    found = [e.id for e in repository.timeline(session, card.id) if receipt_offered(card, e.action)]
    return found[-1] if found else None


def _operation(card: Card, event: CardEvent) -> str:
    if event.action == "apply":
        return "补换卡（受理新卡）"
    if event.action == "cancel" and event.detail.get("reason") == "replacement":
        return "补换卡（原卡注销）"
    if event.action == "issue":
        return "领卡（发放）"
    if event.action in {"arrive", "ship", "handover"}:
        return "卡片交接"
    return lifecycle.action_name(event.action)


def _note(names: dict[str, str], event: CardEvent) -> str:
    detail = event.detail or {}
    if "to" in detail:
        before = handover_service.place_name(names, detail.get("from"))
        return f"{before} → {handover_service.place_name(names, detail.get('to'))}"
    return str(detail.get("note") or "")


def _hall(names: dict[str, str], code: str | None) -> str:
    if not code:
        return "—"
    return f"{names[code]}（{code}）" if code in names else code


def digest_of(lines: list[str]) -> str:
    """The SM3 digest (hex, upper case) over the printed lines, one per line."""
    return sm3("\n".join(lines).encode("utf-8")).hex().upper()


def receipt(session: Session, *, card_ref: str, event_id: int, actor: Actor) -> ReceiptOut:
    """The receipt of timeline entry ``event_id`` of a card the actor may reach."""
    card = service.get_card_at_counter(session, card_ref=card_ref, actor=actor)
    event = repository.card_event(session, event_id)
    if event is None or event.card_id != card.id or not receipt_offered(card, event.action):
        raise ReceiptNotFound()
    names = handover_service.place_names(session)
    id_masked, name_masked = registry_service.person_display(session, person_id=card.person_id)
    at = event.occurred_at if event.occurred_at.tzinfo else event.occurred_at.replace(tzinfo=UTC)
    local = at.astimezone(CHINA_TZ)
    fields = {
        "receipt_no": f"HZ{local:%Y%m%d}{event.id:010d}",
        "operation": _operation(card, event),
        "card_number": mask_card_number(card.card_number) if card.card_number else "（未放号）",
        "holder_name": name_masked,
        "holder_id_number": id_masked,
        "beijing_time": f"{local:%Y-%m-%d %H:%M:%S} 北京时间",
        "hall": _hall(names, event.institution_code),
        "clerk": f"{event.actor_name or event.actor_id}（{event.actor_id}）",
        "note": _note(names, event),
    }
    return ReceiptOut(**fields, occurred_at=at, digest=digest_of(list(fields.values())))
