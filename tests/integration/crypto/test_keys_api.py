"""``GET /keys`` and ``GET /keys/{name}/public.pem``: public keys only, never secrets."""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from sscard.crypto import api, keyring, pem
from sscard.crypto import service as crypto
from sscard.crypto.models import KeyKind
from sscard.httpkit import deps
from sscard.httpkit import errors as api_errors
from sscard.kit.context import SYSTEM


class Client:
    """Requests straight into the ASGI app, no server."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(self, path: str) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sscard") as c:
                return await c.get(path)

        # A thread of its own: another test may have left an event loop running in this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, call()).result()


@pytest.fixture
def client(session: Session) -> Iterator[Client]:
    app = FastAPI()
    api_errors.install(app)
    app.include_router(api.router)
    keys_read = typing.get_args(api.KeysRead)[1].dependency

    def test_session() -> Iterator[Session]:
        yield session

    app.dependency_overrides[typing.get_args(deps.DbSession)[1].dependency] = test_session
    app.dependency_overrides[keys_read] = lambda: SYSTEM
    yield Client(app)


def test_the_key_list_shows_versions_and_public_keys_but_no_secret(
    client: Client, session: Session
) -> None:
    crypto.create_key(session, name="api-list-sign", kind=KeyKind.sm2_sign)
    crypto.rotate_key(session, name="api-list-sign")
    crypto.create_key(session, name="pii-data-api", kind=KeyKind.sm4_data)
    secret = keyring.keyring.active(session, "pii-data-api").require_secret()
    response = client.get("/keys")
    assert response.status_code == 200
    listed = {k["name"]: k for k in response.json()}
    sign = listed["api-list-sign"]
    assert sign["active_version"] == 2
    assert [(v["version"], v["status"]) for v in sign["versions"]] == [
        (1, "retired"),
        (2, "active"),
    ]
    assert sign["versions"][1]["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert listed["pii-data-api"]["versions"][0]["public_key_pem"] is None
    assert secret.hex() not in response.text and "wrapped" not in response.text


def test_a_public_key_is_served_as_pem(client: Client, session: Session) -> None:
    crypto.create_key(session, name="api-list-sign", kind=KeyKind.sm2_sign)
    response = client.get("/keys/api-list-sign/public.pem")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-pem-file")
    assert pem.load_public_key(response.text) == crypto.public_key(session, name="api-list-sign")


def test_an_unknown_key_is_a_404_with_a_stable_code(client: Client) -> None:
    response = client.get("/keys/nothing-here/public.pem")
    assert response.status_code == 404
    assert response.json()["error"] == "key_not_found"
