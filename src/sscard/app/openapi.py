"""The OpenAPI document tells the truth about errors.

Every 4xx and 5xx answer of the platform has one body (``ErrorBody``:
``{"error", "detail", "fields": [{"field", "reason"}]}``), not FastAPI's default
``HTTPValidationError``. Each operation declares the statuses it can answer with:

- 400, 404, 422 and 500 everywhere (a body that cannot be parsed, an unknown id, a field
  at fault, an internal error);
- 401 and 403 where the route asks for an actor, 413 where it reads a body;
- the statuses of the errors its component can raise, and those of the components it calls
  (derived from the ``SSCardError`` subclasses each component defines and the components its
  modules import), such as 409, 410, 423, 429, 502 and 503.

Routes keep what they declare themselves (a 200 for "nothing to do", a 409 description);
only the body of their error answers is set to ``ErrorBody``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from functools import cache
from types import ModuleType
from typing import Any, get_args

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from sscard.errors import SSCardError
from sscard.httpkit import deps
from sscard.httpkit.errors import ErrorBody
from sscard.kit.bounds import BIGINT_MAX

COMPONENTS = (
    "iam",
    "audit",
    "crypto",
    "exchange",
    "registry",
    "issuance",
    "scenarios",
    "ecard",
    "payments",
)
ALWAYS = (400, 404, 422, 500)
AUTHENTICATED = (401, 403)
WITH_BODY = (413,)
DESCRIPTIONS = {
    400: "请求内容无法解析",
    401: "未登录或令牌无效",
    403: "没有权限",
    404: "不存在，或不在可见范围内",
    409: "与当前状态冲突",
    410: "已失效",
    413: "请求内容过大",
    422: "字段有误（fields 逐项说明）",
    423: "已锁定或已挂失",
    429: "操作过于频繁",
    500: "服务器内部错误",
    502: "对端系统拒绝",
    503: "对端系统或数据库暂不可用",
}
ERROR_REF = "#/components/schemas/ErrorBody"
_DEFAULT_SCHEMAS = ("HTTPValidationError", "ValidationError")
_AUTHENTICATE = get_args(deps.CurrentActor)[1].dependency
"""The dependency behind ``CurrentActor``: a route that has it answers 401 and 403."""


def _subclasses(cls: type[SSCardError]) -> Iterator[type[SSCardError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _component(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "sscard" and parts[1] in COMPONENTS else None


def _modules(component: str) -> list[ModuleType]:
    prefix = f"sscard.{component}"
    return [
        module
        for name, module in list(sys.modules.items())
        if module is not None and (name == prefix or name.startswith(prefix + "."))
    ]


@cache
def _calls(component: str) -> frozenset[str]:
    """The component and every component its modules import, transitively."""
    seen, todo = {component}, [component]
    while todo:
        for module in _modules(todo.pop()):
            for value in vars(module).values():
                name = getattr(value, "__module__", None) or getattr(value, "__name__", "")
                other = _component(str(name))
                if other is not None and other not in seen:
                    seen.add(other)
                    todo.append(other)
    return frozenset(seen)


@cache
def _raised(component: str) -> frozenset[int]:
    """The statuses of the errors the component (and what it calls) defines."""
    reach = _calls(component)
    return frozenset(
        int(error.status_code)
        for error in _subclasses(SSCardError)
        if _component(error.__module__) in reach
    )


def _walk(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _walk(sub)


def statuses(route: RouteContext) -> set[int]:
    """The error statuses ``route`` can answer with."""
    found = set(ALWAYS)
    if any(call is _AUTHENTICATE for call in _walk(route.dependant)):
        found |= set(AUTHENTICATED)
    if route.body_field is not None:
        found |= set(WITH_BODY)
    component = _component(route.endpoint.__module__)
    if component is not None:
        found |= _raised(component)
    return {status for status in found if status >= 400}


def _error_response(existing: dict[str, Any] | None, status: int) -> dict[str, Any]:
    response = dict(existing or {})
    if response.get("description") in (None, "", "Validation Error"):
        response["description"] = DESCRIPTIONS.get(status, "错误")
    content = response.get("content") or {}
    schema = (content.get("application/json") or {}).get("schema") or {}
    if not schema or schema.get("$ref", "").rsplit("/", 1)[-1] in _DEFAULT_SCHEMAS:
        response["content"] = {"application/json": {"schema": {"$ref": ERROR_REF}}}
    return response


def _integral_bounds(node: Any) -> None:
    """FastAPI passes the document through models whose bounds are floats: an integer's
    ``maximum`` of 2**63 - 1 comes out as 9.223372036854776e18 (2**63). Give integer schemas
    their bounds back as integers (within the database's range)."""
    if isinstance(node, list):
        for item in node:
            _integral_bounds(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "integer":
        for key in ("minimum", "maximum"):
            value = node.get(key)
            if isinstance(value, float) and value.is_integer():
                node[key] = max(-BIGINT_MAX - 1, min(BIGINT_MAX, int(value)))
    for value in node.values():
        _integral_bounds(value)


def _declare(schema: dict[str, Any], app: FastAPI) -> None:
    routes = {
        (route.path_format, method.lower()): route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        for method in route.methods or ()
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            route = routes.get((path, method))
            if route is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses(route)):
                responses[str(status)] = _error_response(responses.get(str(status)), status)
            for code, response in list(responses.items()):
                if code[:1] in ("4", "5"):
                    responses[code] = _error_response(response, int(code))
            operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(body.pop("$defs", {}))
    components["ErrorBody"] = body
    for name in _DEFAULT_SCHEMAS:
        components.pop(name, None)
    _integral_bounds(schema)


def install(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document declare the platform's error body and statuses."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _declare(build(), app)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
