"""Which terminals take payments for a merchant: the scenarios component's terminals
(readers, scanners, POS), each linked to at most one merchant."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.kit.context import Actor
from sscard.payments.merchants import repository, service
from sscard.payments.merchants.errors import (
    MerchantStatusConflict,
    TerminalLinkedElsewhere,
    TerminalNotLinked,
)
from sscard.payments.merchants.models import MerchantTerminal
from sscard.payments.merchants.schemas import MerchantStatus, MerchantTerminalOut
from sscard.scenarios import service as scenarios_service
from sscard.scenarios.errors import TerminalNotFound


def _out(session: Session, link: MerchantTerminal) -> MerchantTerminalOut:
    terminal = scenarios_service.terminal_out(
        scenarios_service.get_terminal(session, code=link.terminal_code)
    )
    return MerchantTerminalOut(
        terminal_code=terminal.code,
        name=terminal.name,
        scenario_code=terminal.scenario_code,
        status=terminal.status,
        linked_at=link.linked_at,
    )


def merchant_terminals(
    session: Session, *, merchant_id: int, actor: Actor
) -> list[MerchantTerminalOut]:
    """The terminals linked to a merchant of the actor's region."""
    merchant = service.get_merchant(session, merchant_id=merchant_id, actor=actor)
    return [_out(session, link) for link in repository.terminal_links(session, merchant.id)]


def link_terminal(
    session: Session, *, merchant_id: int, terminal_code: str, actor: Actor
) -> MerchantTerminalOut:
    """Let a registered terminal take payments for a merchant that is not closed."""
    merchant = service.get_merchant(session, merchant_id=merchant_id, actor=actor)
    if merchant.status == MerchantStatus.closed:
        raise MerchantStatusConflict(f"商户 {merchant.code} 已关闭，不能关联终端")
    try:
        scenarios_service.get_terminal(session, code=terminal_code)
    except TerminalNotFound as exc:
        problem = FieldProblem("terminal_code", f"终端 {terminal_code[:32]} 未登记")
        raise ValidationFailed([problem]) from exc
    link = repository.terminal_link(session, terminal_code)
    if link is not None and link.merchant_id != merchant.id:
        raise TerminalLinkedElsewhere(
            f"终端 {terminal_code} 已关联其他商户，请先解除",
            fields=[FieldProblem("terminal_code", "已关联其他商户")],
        )
    if link is None:
        link = MerchantTerminal(
            terminal_code=terminal_code, merchant_id=merchant.id, linked_at=utcnow()
        )
        repository.add_terminal_link(session, link)
        service.record_change(session, "terminal.link", merchant)
    return _out(session, link)


def unlink_terminal(
    session: Session, *, merchant_id: int, terminal_code: str, actor: Actor
) -> None:
    """Stop a terminal taking payments for the merchant."""
    merchant = service.get_merchant(session, merchant_id=merchant_id, actor=actor)
    link = repository.terminal_link(session, terminal_code)
    if link is None or link.merchant_id != merchant.id:
        raise TerminalNotLinked(f"终端 {terminal_code[:32]} 未关联商户 {merchant.code}")
    repository.remove_terminal_link(session, link)
    service.record_change(session, "terminal.unlink", merchant)
