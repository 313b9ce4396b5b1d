"""One error body for everything: ``{"error", "detail", "fields"}``."""

from __future__ import annotations

import logging
import re
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from sscard.errors import FieldProblem, SSCardError
from sscard.kit.masking import mask_text

log = logging.getLogger("sscard.api")


class FieldError(BaseModel):
    """One wrong field and why, in words a counter clerk understands."""

    field: str = Field(description="the field: ``name``, ``enrolments.0.start_date``, ``page``")
    reason: str = Field(description="why it is refused (Chinese)")


class ErrorBody(BaseModel):
    """The one error body of every 4xx and 5xx answer of the platform."""

    error: str = Field(description="a stable code: ``validation_failed``, ``card_not_found``")
    detail: str = Field(description="what went wrong, for people (Chinese, personal data masked)")
    fields: list[FieldError] = Field(description="the fields at fault (empty when none)")


class BodyTooLarge(Exception):
    """A request body passed its limit while it was being read (raised by the middleware)."""


_REASONS: dict[str, str] = {
    "missing": "必填",
    "extra_forbidden": "不允许的字段",
    "string_pattern_mismatch": "格式不正确",
    "string_type": "应为文本",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "float_parsing": "应为数字",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式应为 ISO 8601",
    "datetime_from_date_parsing": "时间格式应为 ISO 8601",
    "json_invalid": "JSON 格式错误",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "model_type": "应为 JSON 对象",
    "too_short": "数量过少",
    "too_long": "数量过多",
    "uuid_parsing": "格式不正确",
}


def _reason(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "string_too_short":
        return f"长度不能少于 {ctx.get('min_length')} 个字符"
    if kind == "string_too_long":
        return f"长度不能超过 {ctx.get('max_length')} 个字符"
    if kind == "enum":
        return f"取值应为 {ctx.get('expected')} 之一"
    if kind in ("literal_error",):
        return f"取值应为 {ctx.get('expected')}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于 {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于 {ctx.get('le', ctx.get('lt'))}"
    if kind == "value_error":
        return mask_text(str(ctx.get("error") or err.get("msg", "")))
    return _REASONS.get(kind) or mask_text(str(err.get("msg", "格式不正确")))


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


def body(code: str, detail: str, fields: list[FieldProblem] | None = None) -> dict[str, Any]:
    return {
        "error": code,
        "detail": detail,
        "fields": [{"field": f.field, "reason": f.reason} for f in fields or []],
    }


def validation_problems(exc: RequestValidationError) -> list[FieldProblem]:
    return [FieldProblem(_field_name(tuple(e["loc"])), _reason(e)) for e in exc.errors()]


async def _sscard_error(_request: Request, exc: Exception) -> JSONResponse:
    exc = cast(SSCardError, exc)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse(
        body(exc.code, mask_text(exc.message), exc.fields),
        status_code=exc.status_code,
        headers=headers,
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, exc)
    problems = validation_problems(exc)
    detail = "；".join(f"{p.field}: {p.reason}" for p in problems)
    return JSONResponse(body("validation_failed", detail, problems), status_code=422)


_HTTP_CODES = {
    404: ("not_found", "请求的地址不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    401: ("not_authenticated", "请先登录"),
    403: ("permission_denied", "没有权限"),
    413: ("request_too_large", "请求内容过大"),
    400: ("bad_request", "请求内容无法解析"),
}


def _route_table(app: Any) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "sscard_route_methods", None
    )
    if table is None:
        table = [
            (compile_path(route.path_format)[0], frozenset(route.methods))
            for route in iter_route_contexts(app.routes)
            if route.path_format and route.methods
        ]
        app.state.sscard_route_methods = table
    return table


def allowed_methods(request: Request) -> str:
    """Every method some route answers at the request's path (the ``Allow`` header of a
    405): Starlette names only the first route that matched the path."""
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for pattern, route_methods in _route_table(request.app):
        if pattern.match(path):
            methods |= route_methods
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, exc)
    if isinstance(exc.__cause__, BodyTooLarge):
        return await _too_large(request, exc)
    code, detail = _HTTP_CODES.get(exc.status_code, ("http_error", str(exc.detail)))
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
    return JSONResponse(body(code, detail), status_code=exc.status_code, headers=headers or None)


async def _too_large(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse(body("request_too_large", "请求内容过大"), status_code=413)


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """The database refused a value. A text holding a NUL character (PostgreSQL takes none)
    is bad input that reached the database in a body: 422. Anything else is our fault."""
    if "NUL (0x00)" in str(exc):
        reason = "文本不能包含空字符（0x00）"
        return JSONResponse(body("validation_failed", reason), status_code=422)
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(body("internal_error", "服务器内部错误，请稍后重试"), status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(SSCardError, _sscard_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected)
