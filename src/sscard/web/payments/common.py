"""What every payments page shares: rendering with the flash, refusals, permissions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sscard import db
from sscard.errors import NotFound, PermissionDenied, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.iam import service as iam_service
from sscard.kit import context
from sscard.kit.context import Actor, ActorKind
from sscard.kit.masking import mask_text
from sscard.web import pages
from sscard.web.pages import PageActor, render
from sscard.web.registry.common import PageRefused

FLASH_COOKIE = "sscard_pay_flash"
FLASHES = {
    "created": "商户已登记",
    "updated": "商户信息已修改",
    "suspend": "商户已暂停受理",
    "close": "商户已关闭",
    "reopen": "商户已恢复受理",
    "terminal-linked": "终端已关联",
    "terminal-unlinked": "终端已解除关联",
    "medical-refunded": "已退费：统筹、个人账户和现金三部分已全部退回",
    "chronic-approved": "慢特病资格已登记并报送医保系统",
    "chronic-revoked": "慢特病资格已撤销",
    "order-closed": "订单已关闭",
    "order-resolved": "已向银行查询支付结果",
    "refunded": "退款已提交，结果见下方退款记录",
    "disbursement-imported": "发放文件已导入，全部明细校验通过",
    "line-resolved": "已人工处理，资金已退回待遇发放资金",
    "line-retried": "已安排重新发放，随下次发送一并发出",
    "diff-resolved": "差错已处理",
    "diff-awaiting": "调账金额超过限额，已提交复核，等待另一位操作员确认",
    "diff-approved": "复核通过，调账已入账",
    "recon-imported": "对账文件已导入并与我方账务核对完毕",
    "recon-imported-before": "这份对账文件此前已导入过，本次未重复导入；以下是首次导入的核对结果",
}
"""Messages shown once after a redirect; the cookie carries only the key."""
REFUSAL_TITLES = {403: "没有权限", 404: "未找到", 409: "无法完成操作"}
PERMISSION_NAMES = {
    "payments.merchants.read": "查询商户",
    "payments.merchants.manage": "商户入网与管理",
    "payments.medical.read": "查询就医结算与慢特病资格",
    "payments.medical.settle": "就医结算、试算与退费",
    "payments.medical.chronic": "审核登记与撤销门诊慢特病资格",
    "payments.orders.read": "查询支付订单",
    "payments.orders.manage": "支付订单管理",
    "payments.refunds.manage": "订单退款",
    "payments.disbursement.read": "查询待遇发放",
    "payments.disbursement.manage": "办理待遇发放",
    "payments.recon.read": "查看对账结果与差错",
    "payments.recon.manage": "处理对账差错",
    "payments.recon.approve": "复核差错调账",
    "payments.settlement.read": "查看清算与结算报表",
}


def _current_actor() -> Actor | None:
    actor = context.current().actor
    return actor if actor.kind is ActorKind.operator else None


def page(
    request: Request,
    name: str,
    values: dict[str, Any],
    *,
    actor: Actor | None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``payments/<name>.html``, never cached, with the flash message if one waits."""
    flash = FLASHES.get(request.cookies.get(FLASH_COOKIE, ""))
    response = render(
        request,
        f"payments/{name}.html",
        {"flash": flash, "errors": {}, "values": {}, "alert": None, "others": [], **values},
        status_code=status_code,
        actor=actor,
    )
    response.headers["Cache-Control"] = "no-store"
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, flash: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    pages.set_cookie(response, FLASH_COOKIE, flash)
    return response


def refusal(request: Request, exc: SSCardError) -> HTMLResponse:
    values = {
        "title": REFUSAL_TITLES.get(exc.status_code, "无法完成操作"),
        "message": mask_text(exc.message),
        "code": exc.code,
        "permission": PERMISSION_NAMES.get(getattr(exc, "permission", ""), ""),
    }
    return page(request, "refused", values, actor=_current_actor(), status_code=exc.status_code)


def form_problems(exc: SSCardError, labels: dict[str, str]) -> dict[str, Any]:
    """Field messages for the form's inputs; the rest and the message go on top."""
    errors: dict[str, list[str]] = {}
    for problem in exc.fields:
        errors.setdefault(problem.field, []).append(problem.reason)
    others = [
        f"{labels.get(p.field, p.field)}：{p.reason}" for p in exc.fields if p.field not in labels
    ]
    if isinstance(exc, ValidationFailed):
        alert = f"有 {len(exc.fields)} 处需要修改，请按标红的提示更正后再提交"
    else:
        alert = mask_text(exc.message)
    return {"errors": errors, "others": others, "alert": alert}


@contextmanager
def refusing(
    request: Request, form: Callable[[SSCardError], HTMLResponse] | None = None
) -> Iterator[None]:
    """Turn a platform error into PageRefused: the form again (``form``) or a refusal page."""
    try:
        yield
    except SSCardError as exc:
        back = not isinstance(exc, NotFound) and (
            not isinstance(exc, PermissionDenied) or exc.code == "csrf_failed"
        )
        if form is not None and back:
            raise PageRefused(form(exc)) from exc
        raise PageRefused(refusal(request, exc)) from exc


def _allowed(permission: str) -> Callable[..., Actor]:
    """A dependency: the logged-in operator if they hold ``permission``, else a refusal page."""

    def dependency(request: Request, actor: PageActor, session: DbSession) -> Actor:
        try:
            iam_service.authorize(actor, permission)
        except PermissionDenied as exc:
            iam_service.record_denied(session, permission=permission)
            raise PageRefused(refusal(request, exc)) from exc
        return actor

    dependency.__name__ = f"page_requires_{permission.replace('.', '_')}"
    return dependency


Reader = Annotated[Actor, Depends(_allowed("payments.merchants.read"))]
Manager = Annotated[Actor, Depends(_allowed("payments.merchants.manage"))]
MedicalReader = Annotated[Actor, Depends(_allowed("payments.medical.read"))]
OrderReader = Annotated[Actor, Depends(_allowed("payments.orders.read"))]
OrderManager = Annotated[Actor, Depends(_allowed("payments.orders.manage"))]
DisbursementReader = Annotated[Actor, Depends(_allowed("payments.disbursement.read"))]
DisbursementManager = Annotated[Actor, Depends(_allowed("payments.disbursement.manage"))]
ReconReader = Annotated[Actor, Depends(_allowed("payments.recon.read"))]
ReconManager = Annotated[Actor, Depends(_allowed("payments.recon.manage"))]
ReconApprover = Annotated[Actor, Depends(_allowed("payments.recon.approve"))]
SettlementReader = Annotated[Actor, Depends(_allowed("payments.settlement.read"))]


def apart(permission: str) -> Callable[[Request], Actor]:
    """The logged-in operator if they hold ``permission``, checked in a transaction of its
    own: for the actions whose service calls the bank or the medical system and runs its own
    transactions (none may wait behind the request's)."""

    def dependency(request: Request) -> Actor:
        denied: PermissionDenied | None = None
        with db.transaction() as session:
            actor = pages.page_actor_in(request, session)
            try:
                iam_service.authorize(actor, permission)
            except PermissionDenied as exc:
                iam_service.record_denied(session, permission=permission)
                denied = exc
        if denied is not None:
            raise PageRefused(refusal(request, denied))
        return actor

    dependency.__name__ = f"page_requires_{permission.replace('.', '_')}_apart"
    return dependency
