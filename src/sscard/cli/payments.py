"""``sscard payments``: merchants (商户) as an operator scripts them; output in Chinese."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from sscard.cli import disbursement as disbursement_cli
from sscard.cli import orders as orders_cli
from sscard.cli import payments_books, payments_medical
from sscard.cli.common import BEIJING, beijing, cli_actor, console, unit_of_work
from sscard.errors import SSCardError
from sscard.payments.merchants import qr_service, terminal_service
from sscard.payments.merchants import service as merchants_service
from sscard.payments.merchants.schemas import (
    MerchantCreate,
    MerchantOut,
    MerchantUpdate,
    StatusFilter,
)

app = typer.Typer(help="Payment and settlement (资金支付结算).", no_args_is_help=True)
merchants_app = typer.Typer(help="Merchants (商户).", no_args_is_help=True)
app.add_typer(merchants_app, name="merchants")
app.add_typer(payments_medical.app, name="medical")
app.add_typer(orders_cli.app, name="orders")
app.add_typer(disbursement_cli.app, name="disbursement")
app.add_typer(payments_books.clearing_app, name="clearing")
app.add_typer(payments_books.recon_app, name="recon")

Code = Annotated[str, typer.Argument(help="Merchant code (商户编号).")]
LABELS = {
    "code": "商户编号",
    "name": "商户名称",
    "mcc": "商户类别码",
    "institution_code": "所属机构",
    "region_code": "地区代码",
    "settlement_bank": "结算银行",
    "settlement_account": "结算账号",
    "fee_rate_bp": "费率（基点）",
}


def _parsed(model: type[MerchantCreate] | type[MerchantUpdate], values: dict[str, Any]) -> Any:
    """The model, or one line naming each bad option in Chinese."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        reasons = "；".join(
            f"{LABELS.get(str(e['loc'][0]), str(e['loc'][0]))}：{e['msg']}" for e in exc.errors()
        )
        raise SSCardError(f"输入有误：{reasons}") from exc


def _fee(bp: int) -> str:
    return f"{bp / 100:.2f}%"


def _show(m: MerchantOut) -> None:
    rows = [
        ("商户编号", m.code),
        ("商户名称", m.name),
        ("商户类别", f"{m.mcc} {m.mcc_name}"),
        ("所属机构", m.institution_code),
        ("地区代码", m.region_code),
        ("结算银行", m.settlement_bank),
        ("结算账号", m.settlement_account),
        ("费率", _fee(m.fee_rate_bp)),
        ("状态", m.status_name),
        (f"登记时间（{BEIJING}）", beijing(m.created_at)),
        (f"修改时间（{BEIJING}）", beijing(m.updated_at)),
    ]
    for label, value in rows:
        console.print(f"{label}：{escape(value)}", highlight=False)


@merchants_app.command("add")
def merchant_add(
    code: Annotated[str, typer.Option(help="Merchant code: 4-32 letters or digits.")],
    name: Annotated[str, typer.Option(help="Merchant name.")],
    mcc: Annotated[str, typer.Option(help="ISO 18245 merchant category code, e.g. 5912.")],
    institution: Annotated[str, typer.Option(help="Institution code the merchant belongs to.")],
    bank: Annotated[str, typer.Option(help="Settlement bank (开户银行).")],
    account: Annotated[str, typer.Option(help="Settlement account number (digits).")],
    fee_bp: Annotated[int, typer.Option(help="Fee rate in basis points (60 = 0.60 %).")] = 0,
    region: Annotated[str | None, typer.Option(help="Region code; the institution's.")] = None,
) -> None:
    """Sign up a merchant (商户入网)."""
    data = _parsed(
        MerchantCreate,
        {
            "code": code,
            "name": name,
            "mcc": mcc,
            "institution_code": institution,
            "region_code": region,
            "settlement_bank": bank,
            "settlement_account": account,
            "fee_rate_bp": fee_bp,
        },
    )
    with unit_of_work(purpose="merchant sign-up") as session:
        merchant = merchants_service.create_merchant(session, data=data, actor=cli_actor())
        out = merchants_service.merchant_out(merchant)
    console.print(f"商户 {out.code} 已登记（{escape(out.name)}，状态：{out.status_name}）")


@merchants_app.command("list")
def merchant_list(
    status: Annotated[StatusFilter, typer.Option(help="Status, or all.")] = StatusFilter.all,
    mcc: Annotated[str | None, typer.Option(help="Merchant category code.")] = None,
    institution: Annotated[str | None, typer.Option(help="Institution code.")] = None,
    name: Annotated[str | None, typer.Option(help="Part of the name.")] = None,
    page: Annotated[int, typer.Option(min=1, max=100_000)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """List merchants."""
    with unit_of_work() as session:
        found, total = merchants_service.list_merchants(
            session,
            actor=cli_actor(),
            status=status,
            mcc=mcc,
            institution_code=institution,
            name=name,
            page=page,
            page_size=page_size,
        )
        views = [merchants_service.merchant_out(m) for m in found]
    table = Table("商户编号", "商户名称", "类别", "地区", "费率", "状态", f"修改时间（{BEIJING}）")
    for m in views:
        table.add_row(
            m.code,
            escape(m.name),
            f"{m.mcc} {m.mcc_name}",
            m.region_code,
            _fee(m.fee_rate_bp),
            m.status_name,
            beijing(m.updated_at),
        )
    console.print(table)
    console.print(f"共 {total} 家商户")


@merchants_app.command("show")
def merchant_show(code: Code) -> None:
    """One merchant (the settlement account masked)."""
    with unit_of_work() as session:
        merchant = merchants_service.get_merchant_by_code(session, code=code, actor=cli_actor())
        out = merchants_service.merchant_out(merchant)
    _show(out)


@merchants_app.command("update")
def merchant_update(
    code: Code,
    name: Annotated[str | None, typer.Option(help="Merchant name.")] = None,
    mcc: Annotated[str | None, typer.Option(help="Merchant category code.")] = None,
    region: Annotated[str | None, typer.Option(help="Region code.")] = None,
    bank: Annotated[str | None, typer.Option(help="Settlement bank.")] = None,
    account: Annotated[str | None, typer.Option(help="Settlement account number.")] = None,
    fee_bp: Annotated[int | None, typer.Option(help="Fee rate in basis points.")] = None,
) -> None:
    """Change a merchant's details (only the options given)."""
    data = _parsed(
        MerchantUpdate,
        {
            "name": name,
            "mcc": mcc,
            "region_code": region,
            "settlement_bank": bank,
            "settlement_account": account,
            "fee_rate_bp": fee_bp,
        },
    )
    with unit_of_work(purpose="merchant change") as session:
        actor = cli_actor()
        found = merchants_service.get_merchant_by_code(session, code=code, actor=actor)
        merchant = merchants_service.update_merchant(
            session, merchant_id=found.id, data=data, actor=actor
        )
        out = merchants_service.merchant_out(merchant)
    console.print(f"商户 {out.code} 已修改")
    _show(out)


def _change_status(code: str, change: Callable[..., Any], done: str) -> None:
    with unit_of_work(purpose="merchant status") as session:
        actor = cli_actor()
        found = merchants_service.get_merchant_by_code(session, code=code, actor=actor)
        out = merchants_service.merchant_out(change(session, merchant_id=found.id, actor=actor))
    console.print(f"商户 {out.code} {done}（状态：{out.status_name}）")


@merchants_app.command("suspend")
def merchant_suspend(code: Code) -> None:
    """Suspend an active merchant (暂停): no payments until reopened."""
    _change_status(code, merchants_service.suspend_merchant, "已暂停")


@merchants_app.command("close")
def merchant_close(code: Code) -> None:
    """Close a merchant (关闭)."""
    _change_status(code, merchants_service.close_merchant, "已关闭")


@merchants_app.command("reopen")
def merchant_reopen(code: Code) -> None:
    """Reopen a suspended or closed merchant (恢复)."""
    _change_status(code, merchants_service.reopen_merchant, "已恢复")


@merchants_app.command("terminals")
def merchant_terminals(code: Code) -> None:
    """The terminals taking payments for a merchant."""
    with unit_of_work() as session:
        actor = cli_actor()
        found = merchants_service.get_merchant_by_code(session, code=code, actor=actor)
        linked = terminal_service.merchant_terminals(session, merchant_id=found.id, actor=actor)
    table = Table("终端编号", "终端名称", "场景", "状态", f"关联时间（{BEIJING}）")
    for t in linked:
        table.add_row(
            t.terminal_code, escape(t.name), t.scenario_code, t.status, beijing(t.linked_at)
        )
    console.print(table)
    console.print(f"共 {len(linked)} 台终端")


@merchants_app.command("link-terminal")
def merchant_link_terminal(
    code: Code, terminal: Annotated[str, typer.Argument(help="Terminal code (终端编号).")]
) -> None:
    """Let a registered terminal take payments for the merchant."""
    with unit_of_work(purpose="merchant terminal") as session:
        actor = cli_actor()
        found = merchants_service.get_merchant_by_code(session, code=code, actor=actor)
        terminal_service.link_terminal(
            session, merchant_id=found.id, terminal_code=terminal, actor=actor
        )
    console.print(f"终端 {escape(terminal)} 已关联商户 {found.code}")


@merchants_app.command("unlink-terminal")
def merchant_unlink_terminal(
    code: Code, terminal: Annotated[str, typer.Argument(help="Terminal code (终端编号).")]
) -> None:
    """Stop a terminal taking payments for the merchant."""
    with unit_of_work(purpose="merchant terminal") as session:
        actor = cli_actor()
        found = merchants_service.get_merchant_by_code(session, code=code, actor=actor)
        terminal_service.unlink_terminal(
            session, merchant_id=found.id, terminal_code=terminal, actor=actor
        )
    console.print(f"终端 {escape(terminal)} 已解除与商户 {found.code} 的关联")


@merchants_app.command("qr")
def merchant_qr(
    code: Code,
    amount: Annotated[
        str | None, typer.Option(help="Amount in yuan (12.30); none: static.")
    ] = None,
    bill: Annotated[str | None, typer.Option(help="Bill number (with an amount).")] = None,
) -> None:
    """Print the merchant's EMVCo QR payload (收款码)."""
    with unit_of_work() as session:
        actor = cli_actor()
        found = merchants_service.get_merchant_by_code(session, code=code, actor=actor)
        shown = qr_service.merchant_qr(
            session, merchant_id=found.id, actor=actor, amount=amount, bill_number=bill
        )
    kind = f"动态码，金额 {amount} 元" if shown.dynamic else "静态码，付款人输入金额"
    console.print(f"商户 {found.code} 收款码（{kind}）：", highlight=False)
    console.print(shown.payload, markup=False, highlight=False, soft_wrap=True)


def _register_online() -> None:
    from sscard.cli.payments_online import contributions_app, online_app

    app.add_typer(online_app, name="online")
    app.add_typer(contributions_app, name="contributions")


_register_online()
