"""Shell pages: login, logout, home. Component pages add their own routers here."""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from sscard.errors import SSCardError
from sscard.httpkit.deps import SESSION_COOKIE, DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.iam.login import service as login_service
from sscard.kit.context import Actor
from sscard.web import ecard_consent as ecard_consent_pages
from sscard.web import ecard_counter as ecard_counter_pages
from sscard.web import issuance as issuance_pages
from sscard.web import (
    pages,
    wallet_card,
    wallet_contributions,
    wallet_family,
    wallet_pay,
    wallet_phone,
    wallet_scan,
)
from sscard.web import payments as payments_pages
from sscard.web import registry as registry_pages
from sscard.web import terminal as terminal_pages
from sscard.web import wallet as wallet_pages
from sscard.web import wallet_unlock as wallet_unlock_pages
from sscard.web.pages import PageActor, render

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)


class Link(NamedTuple):
    """A page on the home page: its label, address and the permission it needs (None: any
    signed-in operator; residents' and terminals' pages open without an operator login)."""

    label: str
    href: str
    permission: str | None = None


class Tile(NamedTuple):
    zh: str
    en: str
    desc: str
    links: tuple[Link, ...]


COMPONENTS = (
    Tile(
        "持卡人基础信息库",
        "Cardholder registry",
        "人员、单位、街道社区、照片与批量导入",
        (
            Link("人员查询", "/registry/persons", "registry.read"),
            Link("单位", "/registry/employers", "registry.read"),
            Link("批量导入", "/registry/imports", "registry.import"),
        ),
    ),
    Tile(
        "社会保障卡发行管理",
        "Card issuance",
        "制卡申请、批量与即时制卡、挂失解挂、交接",
        (
            Link("卡片业务", "/cards", "issuance.read"),
            Link("卡片交接", "/cards/handover", "issuance.manage"),
            Link("制卡批次", "/cards/batches", "issuance.batch"),
            Link("待制卡申请", "/cards/pending", "issuance.batch"),
        ),
    ),
    Tile(
        "电子社保卡",
        "Electronic card",
        "签发、渠道副本、动态二维码、扫码登录、亲情服务",
        (
            Link("柜面签发", "/ecard/counter", "ecard.sign"),
            Link("居民电子社保卡（手机）", "/wallet"),
            Link("亮证核验", "/ecard/credential"),
            Link("扫码登录演示门户", "/portal-demo"),
        ),
    ),
    Tile(
        "密钥密码系统",
        "Keys and cryptography",
        "SM2/SM3/SM4、密钥库、个人信息加密",
        (Link("密钥接口说明", "/api/docs#/keys", "keys.read"),),
    ),
    Tile(
        "资金支付结算",
        "Payment and settlement",
        "商户、订单与退款、收款码、付款码、待遇发放与复式记账总账",
        (
            Link("商户管理", "/payments/merchants", "payments.merchants.read"),
            Link("支付订单", "/payments/orders", "payments.orders.read"),
            Link("待遇发放", "/payments/disbursements", "payments.disbursement.read"),
        ),
    ),
    Tile(
        "应用终端与场景",
        "Terminals and scenarios",
        "视读、刷卡、扫码场景与终端核验",
        (Link("终端核验", "/terminal", "ecard.verify"),),
    ),
    Tile(
        "外部接入",
        "External access",
        "省卡管、公安、医保、银行、交通接入与代码翻译",
        (Link("接口说明", "/api/docs"),),
    ),
    Tile("开放平台", "Open platform", "开发者、应用、SM2 签名接口、渠道开通", ()),
    Tile(
        "统计分析与监控",
        "Analytics",
        "制卡进度、持卡与制卡失败统计",
        (Link("发卡统计", "/cards/stats", "issuance.stats"),),
    ),
)


def _tiles(actor: Actor) -> list[dict[str, Any]]:
    """The home page's tiles with the links the actor may open (the others named, greyed)."""
    return [
        {
            "tile": tile,
            "open": [ln for ln in tile.links if ln.permission is None or actor.can(ln.permission)],
            "closed": [ln for ln in tile.links if ln.permission and not actor.can(ln.permission)],
        }
        for tile in COMPONENTS
    ]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, actor: PageActor) -> HTMLResponse:
    return render(request, "home.html", {"tiles": _tiles(actor)}, actor=actor)


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
    for wallet_part in (
        wallet_card,
        wallet_contributions,
        wallet_family,
        wallet_phone,
        wallet_scan,
        wallet_pay,
    ):
        app.include_router(wallet_part.router)
    terminal_pages.install(app)
    ecard_counter_pages.install(app)
    issuance_pages.install(app)
    ecard_consent_pages.install(app)
    payments_pages.install(app)
    app.add_exception_handler(pages.LoginRequired, pages.login_required_handler)
