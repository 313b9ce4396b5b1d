"""The merchant console (商户管理): the list, the sign-up form, a merchant's page with its
edit form and status actions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sscard.errors import SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import row_id
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.iam import service as iam_service
from sscard.kit.context import Actor
from sscard.payments.merchants import qr_service, terminal_service
from sscard.payments.merchants import service as merchants_service
from sscard.payments.merchants.errors import MerchantNotFound
from sscard.payments.merchants.schemas import (
    STATUS_NAMES,
    MerchantCreate,
    MerchantOut,
    MerchantStatus,
    MerchantTerminalOut,
    MerchantUpdate,
    StatusFilter,
)
from sscard.web import pages
from sscard.web.payments.common import Manager, Reader, form_problems, redirect, refusing
from sscard.web.payments.common import page as render_page
from sscard.web.registry.common import page_number
from sscard.web.wallet import qr_svg

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/payments", include_in_schema=False)

PAGE_SIZE = 20
LABELS = {
    "code": "商户编号",
    "name": "商户名称",
    "mcc": "商户类别",
    "institution_code": "所属机构",
    "region_code": "地区代码",
    "settlement_bank": "结算银行",
    "settlement_account": "结算账号",
    "fee_rate_bp": "费率（基点）",
}
"""The form's inputs and their labels."""
CHANGEABLE = ("name", "mcc", "region_code", "settlement_bank", "settlement_account", "fee_rate_bp")
STATUS_FILTERS = {"all": "全部", **{s.value: name for s, name in STATUS_NAMES.items()}}
ACTIONS = {"suspend": "暂停受理", "close": "关闭", "reopen": "恢复受理"}


def _merchant(session: DbSession, raw_id: str, actor: Actor) -> MerchantOut:
    wanted = row_id(raw_id)
    if wanted is None:
        raise MerchantNotFound(f"商户 {raw_id[:20]} 不存在")
    found = merchants_service.get_merchant(session, merchant_id=wanted, actor=actor)
    return merchants_service.merchant_out(found)


@router.get("/merchants", response_class=HTMLResponse)
def merchant_list(
    request: Request,
    actor: Reader,
    session: DbSession,
    status: str = "all",
    mcc: str = "",
    name: str = "",
    page: str = "1",
) -> HTMLResponse:
    """Merchants of the operator's region, by status (all by default), category and name."""
    wanted = StatusFilter(status) if status in STATUS_FILTERS else StatusFilter.all
    number = page_number(page)
    found, total = merchants_service.list_merchants(
        session,
        actor=actor,
        status=wanted,
        mcc=mcc.strip()[:4] or None,
        name=name.strip()[:100] or None,
        page=number,
        page_size=PAGE_SIZE,
    )
    query = {"status": wanted.value, "mcc": mcc, "name": name}
    values = {
        "section": "merchants",
        "merchants": [merchants_service.merchant_out(m) for m in found],
        "total": total,
        "page": number,
        "page_size": PAGE_SIZE,
        "query": {k: v for k, v in query.items() if v},
        "status": wanted.value,
        "mcc": mcc,
        "name": name,
        "status_filters": STATUS_FILTERS,
        "mccs": dict(merchants_service.mcc_choices()),
    }
    return render_page(request, "merchants", values, actor=actor)


def _form(
    request: Request,
    session: DbSession,
    actor: Actor,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    institutions = {i.code: i.name for i in iam_service.list_institutions(session, actor=actor)}
    context_values = {
        "section": "new" if values.get("merchant") is None else "merchants",
        "merchant": None,
        "labels": LABELS,
        "mccs": dict(merchants_service.mcc_choices()),
        "institutions": institutions,
        "actions": ACTIONS,
        "allowed_actions": _allowed_actions(values.get("merchant")),
        "terminals": _terminals(session, values.get("merchant"), actor),
        "terminal_code": "",
        **values,
    }
    return render_page(
        request, "merchant_form", context_values, actor=actor, status_code=status_code
    )


@router.get("/merchants/new", response_class=HTMLResponse)
def merchant_new(request: Request, actor: Manager, session: DbSession) -> HTMLResponse:
    """The sign-up form."""
    return _form(request, session, actor, {"values": {"fee_rate_bp": "0"}})


@router.post("/merchants/new", response_class=HTMLResponse)
def merchant_create(
    request: Request, actor: Manager, session: DbSession, form: pages.FormFields
) -> Response:
    """Sign up a merchant; each refused input is named next to it, the rest kept as typed."""

    def again(exc: SSCardError) -> HTMLResponse:
        values = {"values": form, **form_problems(exc, LABELS)}
        return _form(request, session, actor, values, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        typed = {k: form.get(k, "").strip() for k in LABELS}
        typed["region_code"] = typed["region_code"] or None  # type: ignore[assignment]
        data = pages.parsed(MerchantCreate, typed)
        merchant = merchants_service.create_merchant(session, data=data, actor=actor)
    return redirect(f"/payments/merchants/{merchant.id}", "created")


@router.get("/merchants/{merchant_id}", response_class=HTMLResponse)
def merchant_detail(
    request: Request, merchant_id: str, actor: Reader, session: DbSession, amount: str = ""
) -> HTMLResponse:
    """A merchant: its details as a form (for those who may change them), its status and,
    while active, its collection code (static, or for ``amount`` yuan)."""
    with refusing(request):
        merchant = _merchant(session, merchant_id, actor)
    values: dict[str, Any] = {
        "merchant": merchant,
        "values": merchant.model_dump(exclude={"settlement_account"}),
        "qr_amount": amount[:16],
    }
    status_code = 200
    if merchant.status is MerchantStatus.active:
        try:
            shown = qr_service.merchant_qr(
                session, merchant_id=merchant.id, actor=actor, amount=amount.strip()[:16] or None
            )
            values["qr_svg"] = qr_svg(shown.payload)
            values["qr"] = shown
        except ValidationFailed as exc:
            values["qr_error"] = exc.fields[0].reason
            status_code = exc.status_code
    return _form(request, session, actor, values, status_code=status_code)


def _terminals(
    session: DbSession, merchant: MerchantOut | None, actor: Actor
) -> list[MerchantTerminalOut]:
    if merchant is None:
        return []
    return terminal_service.merchant_terminals(session, merchant_id=merchant.id, actor=actor)


def _allowed_actions(merchant: MerchantOut | None) -> list[str]:
    if merchant is None:
        return []
    return [
        action
        for action, (sources, _target, _name) in merchants_service.TRANSITIONS.items()
        if merchant.status in sources
    ]


@router.post("/merchants/{merchant_id}", response_class=HTMLResponse)
def merchant_update(
    request: Request, merchant_id: str, actor: Manager, session: DbSession, form: pages.FormFields
) -> Response:
    """Change a merchant; an empty settlement account leaves the stored one as it is."""
    with refusing(request):
        merchant = _merchant(session, merchant_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        values = {"merchant": merchant, "values": form, **form_problems(exc, LABELS)}
        return _form(request, session, actor, values, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        typed = {k: form.get(k, "").strip() for k in CHANGEABLE}
        data = pages.parsed(MerchantUpdate, {k: v for k, v in typed.items() if v})
        merchants_service.update_merchant(session, merchant_id=merchant.id, data=data, actor=actor)
    return redirect(f"/payments/merchants/{merchant.id}", "updated")


@router.post("/merchants/{merchant_id}/terminals", response_class=HTMLResponse)
def terminal_link(
    request: Request, merchant_id: str, actor: Manager, session: DbSession, form: pages.FormFields
) -> Response:
    """Link a registered terminal to the merchant; a refusal is named next to the input."""
    with refusing(request):
        merchant = _merchant(session, merchant_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        values = {
            "merchant": merchant,
            "values": merchant.model_dump(exclude={"settlement_account"}),
            "terminal_code": form.get("terminal_code", ""),
            **form_problems(exc, {**LABELS, "terminal_code": "终端编号"}),
        }
        return _form(request, session, actor, values, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        terminal_service.link_terminal(
            session,
            merchant_id=merchant.id,
            terminal_code=form.get("terminal_code", "").strip()[:32],
            actor=actor,
        )
    return redirect(f"/payments/merchants/{merchant.id}", "terminal-linked")


@router.post(
    "/merchants/{merchant_id}/terminals/{terminal_code}/unlink", response_class=HTMLResponse
)
def terminal_unlink(
    request: Request,
    merchant_id: str,
    terminal_code: str,
    actor: Manager,
    session: DbSession,
    form: pages.FormFields,
) -> Response:
    """Stop a terminal taking payments for the merchant."""
    with refusing(request):
        pages.check_form_csrf(request, form.get("csrf_token"))
        merchant = _merchant(session, merchant_id, actor)
        terminal_service.unlink_terminal(
            session, merchant_id=merchant.id, terminal_code=terminal_code[:32], actor=actor
        )
    return redirect(f"/payments/merchants/{merchant.id}", "terminal-unlinked")


@router.post("/merchants/{merchant_id}/{action}", response_class=HTMLResponse)
def merchant_status(
    request: Request,
    merchant_id: str,
    action: str,
    actor: Manager,
    session: DbSession,
    form: pages.FormFields,
) -> Response:
    """Suspend, close or reopen a merchant."""
    changes = {
        "suspend": merchants_service.suspend_merchant,
        "close": merchants_service.close_merchant,
        "reopen": merchants_service.reopen_merchant,
    }
    with refusing(request):
        pages.check_form_csrf(request, form.get("csrf_token"))
        found = _merchant(session, merchant_id, actor)
        change = changes.get(action)
        if change is None:
            raise MerchantNotFound(f"没有“{action[:20]}”这项商户操作")
        change(session, merchant_id=found.id, actor=actor)
    return redirect(f"/payments/merchants/{found.id}", action)
