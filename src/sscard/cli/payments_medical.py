"""``sscard payments medical``: medical settlement (就医结算) and chronic-disease
qualifications (门诊慢特病) from the command line; output in Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from sscard import bootstrap
from sscard.cli.common import BEIJING, beijing, cli_actor, console, unit_of_work
from sscard.errors import SSCardError
from sscard.kit import context
from sscard.payments.codes.errors import CodeRefused
from sscard.payments.codes.money import fen_to_yuan, yuan_to_fen
from sscard.payments.medical import chronic_service, service, settle_service
from sscard.payments.medical.schemas import BillIn, ChronicIn, SettlementOut, SettlementStatus

app = typer.Typer(help="Medical settlement (就医结算).", no_args_is_help=True)
chronic_app = typer.Typer(
    help="Chronic-disease qualifications (门诊慢特病资格).", no_args_is_help=True
)
app.add_typer(chronic_app, name="chronic")

Number = Annotated[str, typer.Argument(help="Settlement number (结算单号), M + 19 digits.")]
ITEM_HELP = (
    "A bill item: code,name,class,yuan[,disease]; class is drug_a, drug_b, drug_c,"
    " examination or treatment. Repeat for each item."
)


@contextmanager
def _acting() -> Iterator[None]:
    """Act as the operating-system user for a command that runs its own transactions."""
    bootstrap.wire()
    with context.acting(cli_actor()):
        yield


def _item(text: str) -> dict[str, Any]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (4, 5):
        raise SSCardError(f"项目格式应为 编码,名称,类别,金额(元)[,病种编码]：{text}")
    try:
        amount = yuan_to_fen(parts[3])
    except CodeRefused as exc:
        raise SSCardError(f"项目 {parts[0]} 的金额有误：{exc.detail}") from exc
    item = {"code": parts[0], "name": parts[1], "item_class": parts[2], "amount_fen": amount}
    if len(parts) == 5 and parts[4]:
        item["disease_code"] = parts[4]
    return item


def _bill(merchant: str, card: str, visit: str, items: list[str], offsite: bool | None) -> BillIn:
    values = {
        "merchant_code": merchant,
        "card_number": card,
        "visit_kind": visit,
        "items": [_item(i) for i in items],
        "offsite": offsite,
    }
    try:
        return BillIn.model_validate(values)
    except ValidationError as exc:
        reasons = "；".join(f"{'.'.join(map(str, e['loc']))}：{e['msg']}" for e in exc.errors())
        raise SSCardError(f"输入有误：{reasons}") from exc


def _split_table(title: str, pool: int, personal: int, cash: int) -> Table:
    table = Table(
        "统筹基金支付（元）", "个人账户支付（元）", "个人现金（元）", "合计（元）", title=title
    )
    table.add_row(*(fen_to_yuan(v) for v in (pool, personal, cash, pool + personal + cash)))
    return table


def _show(s: SettlementOut) -> None:
    rows = [
        ("结算单号", s.number),
        ("状态", s.status_name),
        ("参保人", f"{s.holder_name}（{s.holder_id_number}）"),
        ("医疗机构", s.merchant_code),
        ("就诊类型", s.visit_kind_name + ("（异地就医）" if s.offsite else "")),
        ("参保类型", s.insurance_type_name or ""),
        (f"登记时间（{BEIJING}）", beijing(s.created_at)),
        (f"结算时间（{BEIJING}）", beijing(s.settled_at)),
        (f"退费时间（{BEIJING}）", beijing(s.refunded_at)),
        ("未成功原因", s.failure_reason or ""),
        ("退费原因", s.refund_reason or ""),
    ]
    for label, value in rows:
        if value:
            console.print(f"{label}：{escape(value)}", highlight=False)
    console.print(_split_table("三方分账", s.pool_fen, s.personal_fen, s.cash_fen))


Merchant = Annotated[str, typer.Option("--merchant", help="Hospital or pharmacy merchant code.")]
Card = Annotated[str, typer.Option("--card", help="Card number (社保卡卡号).")]
Visit = Annotated[str, typer.Option("--visit", help="outpatient, inpatient or pharmacy.")]
Items = Annotated[list[str], typer.Option("--item", help=ITEM_HELP)]
Offsite = Annotated[
    bool | None,
    typer.Option("--offsite/--local", help="Off-site care (异地就医); by default from the card."),
]


@app.command("settle")
def settle(
    merchant: Merchant,
    card: Card,
    item: Items,
    visit: Visit = "outpatient",
    offsite: Offsite = None,
) -> None:
    """Settle a bill: pool, personal account and cash (from the card's bank)."""
    data = _bill(merchant, card, visit, item, offsite)
    with _acting():
        out = settle_service.settle(data=data, actor=cli_actor())
    _show(out)
    if out.status == SettlementStatus.failed:
        raise typer.Exit(1)


@app.command("pre-settle")
def presettle(
    merchant: Merchant,
    card: Card,
    item: Items,
    visit: Visit = "outpatient",
    offsite: Offsite = None,
) -> None:
    """Show how a bill would split now (试算); nothing is kept."""
    data = _bill(merchant, card, visit, item, offsite)
    with _acting():
        out = settle_service.presettle(data=data, actor=cli_actor())
    console.print(f"参保类型：{out.insurance_type_name}{'（异地就医）' if out.offsite else ''}")
    console.print(_split_table("试算结果", out.pool_fen, out.personal_fen, out.cash_fen))


@app.command("list")
def settlement_list(
    status: Annotated[SettlementStatus | None, typer.Option(help="Only this status.")] = None,
    merchant: Annotated[str | None, typer.Option(help="Merchant code.")] = None,
    page: Annotated[int, typer.Option(min=1, max=100_000)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """List settlements, newest first."""
    with unit_of_work() as session:
        found, total = service.list_settlements(
            session,
            actor=cli_actor(),
            status=status,
            merchant_code=merchant,
            page=page,
            page_size=page_size,
        )
    table = Table(
        "结算单号",
        "医疗机构",
        "参保人",
        "统筹（元）",
        "个人账户（元）",
        "现金（元）",
        "状态",
        f"登记时间（{BEIJING}）",
    )
    for s in found:
        table.add_row(
            s.number, s.merchant_code, s.holder_name, fen_to_yuan(s.pool_fen),
            fen_to_yuan(s.personal_fen), fen_to_yuan(s.cash_fen), s.status_name,
            beijing(s.created_at),
        )  # fmt: skip
    console.print(table)
    console.print(f"共 {total} 笔结算")


@app.command("show")
def settlement_show(number: Number) -> None:
    """One settlement with its three-way split."""
    with unit_of_work() as session:
        out = service.get_settlement(session, number=number, actor=cli_actor())
    _show(out)


@app.command("refund")
def settlement_refund(
    number: Number, reason: Annotated[str, typer.Option(help="Why (退费原因).")]
) -> None:
    """Refund a settled bill: all three parts go back."""
    with _acting():
        out = settle_service.refund(number=number, reason=reason, actor=cli_actor())
    console.print(f"结算单 {out.number} 已退费")
    _show(out)


@chronic_app.command("add")
def chronic_add(
    id_number: Annotated[str, typer.Option("--id-number", help="The insured's ID number.")],
    disease_code: Annotated[str, typer.Option("--disease-code", help="Disease code, e.g. E11.")],
    disease_name: Annotated[str, typer.Option("--disease-name", help="Disease name, e.g. 糖尿病.")],
    valid_from: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    valid_to: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
) -> None:
    """Approve a chronic-disease qualification and register it with the medical system."""
    try:
        data = ChronicIn(
            id_number=id_number,
            disease_code=disease_code,
            disease_name=disease_name,
            valid_from=date.fromisoformat(valid_from),
            valid_to=date.fromisoformat(valid_to) if valid_to else None,
        )
    except (ValueError, ValidationError) as exc:
        raise SSCardError(f"输入有误：{exc}"[:300]) from exc
    with _acting():
        out = chronic_service.approve(data=data, actor=cli_actor())
    console.print(
        f"慢特病资格 {out.number} 已登记（{out.holder_name}，{escape(out.disease_name)}）"
    )


@chronic_app.command("list")
def chronic_list(page: Annotated[int, typer.Option(min=1, max=100_000)] = 1) -> None:
    """List chronic-disease qualifications, newest first."""
    with unit_of_work() as session:
        found, total = chronic_service.list_qualifications(
            session, actor=cli_actor(), page=page, page_size=50
        )
    table = Table("资格编号", "参保人", "病种", "有效期", "状态", f"登记时间（{BEIJING}）")
    for q in found:
        until = q.valid_to.isoformat() if q.valid_to else "长期"
        disease = f"{q.disease_code} {escape(q.disease_name)}"
        period = f"{q.valid_from.isoformat()} 至 {until}"
        table.add_row(
            q.number, q.holder_name, disease, period, q.status_name, beijing(q.created_at)
        )
    console.print(table)
    console.print(f"共 {total} 项资格")


@chronic_app.command("revoke")
def chronic_revoke(number: Annotated[str, typer.Argument(help="Qualification number.")]) -> None:
    """Withdraw a qualification at the medical system and here."""
    with _acting():
        out = chronic_service.revoke(number=number, actor=cli_actor())
    console.print(f"慢特病资格 {out.number} 已撤销")
