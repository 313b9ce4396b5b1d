"""The OpenAPI document tells the truth: bounded integers, the platform's error body and
the statuses each operation answers with."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pytest
from fastapi import Request
from sqlalchemy import Engine, text
from sqlalchemy.exc import DataError

from sscard.app.factory import create_app
from sscard.httpkit import errors
from sscard.kit.bounds import BIGINT_MAX

ERROR_REF = "#/components/schemas/ErrorBody"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        resolved: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        return resolved
    return schema


def _integers(
    document: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    ref = schema.get("$ref")
    if ref:
        if ref in seen:
            return
        seen = seen | {ref}
    schema = _resolve(document, schema)
    if schema.get("type") == "integer":
        yield where, schema
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _integers(document, option, where, seen)
    if "items" in schema:
        yield from _integers(document, schema["items"], f"{where}[]", seen)
    for name, prop in schema.get("properties", {}).items():
        yield from _integers(document, prop, f"{where}.{name}", seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _integers(document, extra, f"{where}{{}}", seen)


def _inputs(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                where = f"{label} {parameter['in']} {parameter['name']}"
                yield from _integers(document, parameter["schema"], where, set())
            for media in operation.get("requestBody", {}).get("content", {}).values():
                yield from _integers(document, media.get("schema", {}), f"{label} body", set())


def test_every_integer_a_route_reads_is_bounded_within_the_database_range(
    document: dict[str, Any],
) -> None:
    found = list(_inputs(document))
    assert len(found) > 40
    unbounded = [
        where
        for where, schema in found
        if "enum" not in schema
        and not (
            "minimum" in schema
            and "maximum" in schema
            and -BIGINT_MAX - 1 <= schema["minimum"] <= schema["maximum"] <= BIGINT_MAX
        )
    ]
    assert unbounded == []


def test_every_error_answer_is_declared_with_the_platforms_body(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ErrorBody"]["required"] == ["error", "detail", "fields"]
    assert set(schemas["FieldError"]["properties"]) == {"field", "reason"}
    wrong = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for code, response in responses.items():
                if code[0] in "45":
                    schema = response["content"]["application/json"]["schema"]
                    if schema != {"$ref": ERROR_REF}:
                        wrong.append((method, path, code))
            if path.startswith("/api/v1/") and not {"400", "404", "422", "500"} <= set(responses):
                wrong.append((method, path, "missing the common statuses"))
    assert wrong == []


def test_statuses_follow_authentication_bodies_and_what_a_component_raises(
    document: dict[str, Any],
) -> None:
    paths = document["paths"]
    employer = paths["/api/v1/employers/{employer_id}"]
    assert {"401", "403"} <= set(employer["get"]["responses"])
    assert "413" in employer["patch"]["responses"] and "413" not in employer["get"]["responses"]
    batch_send = paths["/api/v1/batches/{batch_no}/send"]["post"]["responses"]
    assert {"409", "502", "503"} <= set(batch_send)
    login = paths["/api/v1/ecard/sessions"]["post"]["responses"]
    assert {"423", "429"} <= set(login)
    assert "503" not in paths["/api/v1/keys"]["get"]["responses"]


def test_a_text_with_a_nul_that_reaches_postgresql_is_a_422(engine: Engine) -> None:
    """The last line of defence for bodies: the database's refusal of a NUL is bad input."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite stores a NUL in text")
    with pytest.raises(DataError) as refused, engine.connect() as connection:
        connection.execute(text("SELECT CAST(:value AS text)"), {"value": "省\x00卡管"})
    handler = errors._data_error(cast(Request, None), refused.value)
    # A thread of its own: another test may have left an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(asyncio.run, handler).result()
    assert answer.status_code == 422
    assert json.loads(bytes(answer.body))["error"] == "validation_failed"
