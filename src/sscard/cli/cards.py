"""``sscard cards``: the card operations an operator scripts (CARD is a card number, card
identification code or id). Each command is one unit of work and prints one line, or the
card as JSON with ``--json``; holders' ID numbers and names are shown masked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.markup import escape
from rich.table import Table

from sscard.cli.common import BEIJING, beijing, cli_actor, console, unit_of_work
from sscard.issuance.activation import bank_service
from sscard.issuance.activation import service as activation_service
from sscard.issuance.cards import (
    application_service,
    handover_service,
    receipt_pdf,
    receipt_service,
    service,
)
from sscard.issuance.cards.schemas import CardDetail, CardOut, HandoverIn, ReplacementIn
from sscard.issuance.instant import province_service

app = typer.Typer(
    help="Card lifecycle: loss, unlock, cancel, activation, transfer ...", no_args_is_help=True
)

Card = Annotated[str, typer.Argument(help="Card number, card identification code or id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the card as JSON.")]


def _show(card: CardOut | BaseModel, as_json: bool, verb: str = "") -> None:
    if as_json:
        print(card.model_dump_json(indent=2))  # noqa: T201 - machine-readable output
        return
    if isinstance(card, CardOut):
        line = f"{card.card_number or card.id} {card.status.name} ({card.status.code})"
        console.print(escape(f"{verb}{line}" if verb else line), highlight=False)


@app.command("show")
def show(card: Card, as_json: AsJson = False) -> None:
    """Show a card and its timeline."""
    with unit_of_work() as session:
        found = service.get_card(session, card_ref=card, actor=cli_actor())
        detail: CardDetail = service.card_detail(session, found)
    if as_json:
        _show(detail, True)
        return
    for name, label in (
        ("card_number", "卡号"),
        ("card_id_code", "卡识别码"),
        ("holder_name", "持卡人"),
        ("holder_id_number", "证件号码"),
        ("bank_code", "服务银行"),
        ("bank_account", "银行账号"),
        ("region_code", "发卡地"),
        ("managing_region_code", "管理地"),
        ("location", "所在位置"),
    ):
        console.print(f"{label:>10}：{getattr(detail, name) or ''}", markup=False)
    console.print(f"{'状态':>10}：{detail.status.name}（{detail.status.code}）", markup=False)
    table = Table(f"时间（{BEIJING}）", "操作", "变为", "操作人")
    for e in detail.timeline:
        table.add_row(
            beijing(e.occurred_at),
            escape(e.action_name),
            escape(e.to_status_name),
            escape(e.actor_name or e.actor_id),
        )
    console.print(table)


@app.command("loss")
def loss(
    card: Card,
    temporary: Annotated[bool, typer.Option(help="Temporary loss (lapses).")] = False,
    note: Annotated[str, typer.Option(help="Note for the timeline.")] = "",
    as_json: AsJson = False,
) -> None:
    """Report a card lost (挂失)."""
    with unit_of_work(purpose="report loss") as session:
        found = service.report_loss(
            session, card_ref=card, temporary=temporary, actor=cli_actor(), note_text=note
        )
        _show(service.card_out(session, found), as_json)


@app.command("unlock")
def unlock(
    card: Card,
    temporary: Annotated[bool, typer.Option(help="Lift only a temporary loss.")] = False,
    note: Annotated[str, typer.Option(help="Note for the timeline.")] = "",
    as_json: AsJson = False,
) -> None:
    """Unlock a lost card (解挂)."""
    with unit_of_work(purpose="unlock") as session:
        found = service.unlock(
            session, card_ref=card, temporary=temporary, actor=cli_actor(), note_text=note
        )
        _show(service.card_out(session, found), as_json)


@app.command("cancel")
def cancel(
    card: Card,
    reason: Annotated[str, typer.Option(help="Why the card is cancelled.")],
    as_json: AsJson = False,
) -> None:
    """Cancel a card or an application (注销)."""
    with unit_of_work(purpose="cancel card") as session:
        found = service.cancel(session, card_ref=card, reason=reason, actor=cli_actor())
        _show(service.card_out(session, found), as_json)


@app.command("restore")
def restore(card: Card, as_json: AsJson = False) -> None:
    """Undo a cancellation made in error (注销还原)."""
    with unit_of_work(purpose="restore card") as session:
        found = service.restore(session, card_ref=card, actor=cli_actor())
        _show(service.card_out(session, found), as_json)


@app.command("replace")
def replace(
    card: Card,
    reason: Annotated[str, typer.Option(help="lost, damaged, expired or info_change.")] = "damaged",
    mode: Annotated[str, typer.Option(help="batch or instant.")] = "batch",
    bank: Annotated[str | None, typer.Option(help="Bank of the new card.")] = None,
    as_json: AsJson = False,
) -> None:
    """Replace a card (补换卡): the old one is cancelled, the new one applied for."""
    data = ReplacementIn.model_validate({"reason": reason, "mode": mode, "bank_code": bank})
    with unit_of_work(purpose="replace card") as session:
        found = application_service.replace(session, card_ref=card, data=data, actor=cli_actor())
        _show(service.card_out(session, found), as_json, "新卡：")


@app.command("activate")
def activate(card: Card, as_json: AsJson = False) -> None:
    """One-step activation (一站式启用); the worker carries out the bank and transport steps."""
    with unit_of_work(purpose="activate card") as session:
        progress = activation_service.activate(session, card_ref=card, actor=cli_actor())
    _progress(progress, as_json)


@app.command("activation")
def activation_progress(card: Card, as_json: AsJson = False) -> None:
    """Show the progress of one-step activation."""
    with unit_of_work() as session:
        progress = activation_service.get_activation(session, card_ref=card, actor=cli_actor())
    _progress(progress, as_json)


def _progress(progress: BaseModel, as_json: bool) -> None:
    if as_json:
        _show(progress, True)
        return
    data = progress.model_dump()
    console.print(escape(f"启用：{data['status_name']}（{data['status']}）"), highlight=False)
    if data["reason"]:
        console.print(escape(f"原因：{data['reason']}"), highlight=False)
    for step in data["steps"]:
        console.print(escape(f"  {step['name']}：{step['status_name']}"), highlight=False)


@app.command("handover")
def handover(
    to: Annotated[str, typer.Option(help="Institution code, or 'holder'.")],
    handler: Annotated[str, typer.Option(help="Who hands over.")],
    receiver: Annotated[str, typer.Option(help="Who receives.")],
    card: Annotated[str | None, typer.Option(help="Card number.")] = None,
    box: Annotated[str | None, typer.Option(help="Box code (moves every card in it).")] = None,
    note: Annotated[str, typer.Option(help="Note.")] = "",
) -> None:
    """Record a move of a card or a whole box (卡片交接)."""
    data = HandoverIn.model_validate(
        {
            "card_number": card,
            "box_code": box,
            "to_place": to,
            "handler": handler,
            "receiver": receiver,
            "note": note,
        }
    )
    with unit_of_work(purpose="handover") as session:
        record = handover_service.handover_out(
            session, handover_service.handover(session, data=data, actor=cli_actor())
        )
    what = record.card_number or f"卡盒 {record.box_code}"
    moved = f"{record.from_place_name} -> {record.to_place_name}"
    console.print(escape(f"{what}：{moved}"), highlight=False)


@app.command("receipt")
def receipt(
    card: Card,
    event: Annotated[int, typer.Argument(help="The timeline entry's id (show --json lists them).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF.")],
) -> None:
    """Write the counter receipt (柜面业务回执) of one operation on the card as a PDF."""
    with unit_of_work() as session:
        found = receipt_service.receipt(session, card_ref=card, event_id=event, actor=cli_actor())
    out.write_bytes(receipt_pdf.render(found))
    console.print(escape(f"{found.receipt_no} {found.operation} -> {out}"), highlight=False)


@app.command("lapse")
def lapse() -> None:
    """Return temporary losses older than the configured days to active (run it daily)."""
    with unit_of_work(purpose="lapse temporary losses") as session:
        count = service.lapse_all_temporary_losses(session)
    console.print(f"临时挂失到期解除 {count} 张")


@app.command("transfer")
def transfer(
    card: Card,
    to: Annotated[str, typer.Option(help="City code (GB/T 2260) that manages the card now.")],
    as_json: AsJson = False,
) -> None:
    """Move a card's management into or out of this city (地市卡转移)."""
    with unit_of_work(purpose="transfer card") as session:
        found = province_service.transfer(
            session, card_ref=card, to_region_code=to, actor=cli_actor()
        )
        _show(service.card_out(session, found), as_json, "已转移：")


@app.command("download-offsite")
def download_offsite(
    id_number: Annotated[
        str, typer.Argument(help="The holder's ID number; '-' reads it from standard input.")
    ],
    as_json: AsJson = False,
) -> None:
    """Download from the province a card another city issued to a person here (异地卡)."""
    number = sys.stdin.readline().strip() if id_number == "-" else id_number
    with unit_of_work(purpose="download off-site card") as session:
        found = province_service.download_offsite(session, id_number=number, actor=cli_actor())
        _show(service.card_out(session, found), as_json, "已下载：")


@app.command("bank-change")
def bank_change(
    card: Card,
    bank: Annotated[str, typer.Option(help="Institution code of the new service bank.")],
    as_json: AsJson = False,
) -> None:
    """Change the card's service bank (换绑服务银行, 3rd-generation cards)."""
    with unit_of_work(purpose="change service bank") as session:
        found = bank_service.change_bank(session, card_ref=card, bank_code=bank, actor=cli_actor())
        _show(service.card_out(session, found), as_json, f"服务银行已换为 {bank}：")


@app.command("province-cancel")
def province_cancel(
    card: Card,
    reason: Annotated[str, typer.Option(help="Why the provincial record is cancelled.")],
    as_json: AsJson = False,
) -> None:
    """Cancel the card's provincial record (注销省厅卡信息); cancel the card here first."""
    with unit_of_work(purpose="cancel provincial record") as session:
        found = province_service.cancel_in_province(
            session, card_ref=card, reason=reason, actor=cli_actor()
        )
        _show(service.card_out(session, found), as_json, "省级卡信息已注销：")
