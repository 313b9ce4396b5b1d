"""Shell pages: login, logout, home. Component pages add their own routers here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from sscard.errors import SSCardError
from sscard.httpkit.deps import SESSION_COOKIE, DbSession
from sscard.iam.login import service as login_service
from sscard.web import ecard_consent as ecard_consent_pages
from sscard.web import ecard_counter as ecard_counter_pages
from sscard.web import issuance as issuance_pages
from sscard.web import pages, wallet_card, wallet_family, wallet_phone, wallet_scan
from sscard.web import payments as payments_pages
from sscard.web import registry as registry_pages
from sscard.web import terminal as terminal_pages
from sscard.web import wallet as wallet_pages
from sscard.web import wallet_unlock as wallet_unlock_pages
from sscard.web.pages import PageActor, render

router = APIRouter(include_in_schema=False)

COMPONENTS = [
    (
        "持卡人基础信息库",
        "Cardholder registry",
        "人员、单位、街道社区、照片与代码翻译",
        "/registry/persons",
    ),
    ("社会保障卡发行管理", "Card issuance", "制卡申请、批量与即时制卡、挂失解挂、交接", "/cards"),
    (
        "电子社保卡",
        "Electronic card",
        "签发、渠道副本、动态二维码、扫码登录、亲情服务",
        "/ecard/counter",
    ),
    (
        "密钥密码系统",
        "Keys and cryptography",
        "SM2/SM3/SM4、密钥库、个人信息加密",
        "/api/docs#/keys",
    ),
    (
        "资金支付结算",
        "Payment and settlement",
        "订单、商户、付款码、账务与对账",
        "/payments/merchants",
    ),
    ("应用终端与场景", "Terminals and scenarios", "视读、刷卡、扫码场景与终端", None),
    ("外部接入", "External access", "省卡管、公安、医保、银行、交通接入与代码翻译", None),
    ("开放平台", "Open platform", "开发者、应用、SM2 签名接口、渠道开通", None),
    ("统计分析与监控", "Analytics", "发卡用卡统计、监控大屏", "/metrics"),
]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, actor: PageActor) -> HTMLResponse:
    return render(request, "home.html", {"components": COMPONENTS}, actor=actor)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", {"next": pages.safe_next(next)})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    values = {"next": pages.safe_next(next), "username": username}
    try:
        pages.check_form_csrf(request, csrf_token)
        if not username.strip() or not password:
            return render(
                request, "login.html", {**values, "error": "请输入用户名和密码"}, status_code=422
            )
        client_ip = request.client.host if request.client else None
        operator = login_service.authenticate(
            session, username=username, password=password, client_ip=client_ip
        )
    except SSCardError as exc:
        return render(
            request, "login.html", {**values, "error": exc.message}, status_code=exc.status_code
        )
    raw, _ = login_service.issue_token(session, operator=operator, kind="web", client_ip=client_ip)
    response = RedirectResponse(pages.safe_next(next), status_code=303)
    pages.set_cookie(response, SESSION_COOKIE, raw)
    return response


@router.post("/logout")
def logout(
    request: Request, session: DbSession, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    pages.check_form_csrf(request, csrf_token)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        login_service.revoke_token(session, raw=raw)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def install(app: FastAPI) -> None:
    """Mount the static assets, the shell pages and the login redirect."""
    app.mount("/static", StaticFiles(directory=str(pages.HERE / "static")), name="static")
    app.include_router(router)
    registry_pages.install(app)
    app.include_router(wallet_unlock_pages.router)
    wallet_pages.install(app)
    for wallet_part in (wallet_card, wallet_family, wallet_phone, wallet_scan):
        app.include_router(wallet_part.router)
    terminal_pages.install(app)
    ecard_counter_pages.install(app)
    issuance_pages.install(app)
    ecard_consent_pages.install(app)
    payments_pages.install(app)
    app.add_exception_handler(pages.LoginRequired, pages.login_required_handler)
