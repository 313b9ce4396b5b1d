"""An acquirer (收单机构, UnionPay-like) simulator: merchants' terminals send it a scanned
resident payment code with the amount; it forwards the charge to the platform and answers
with the platform's outcome, keeping a record of each payment for its daily file.

- ``POST /pay {merchant, terminal, code, amount_fen, merchant_order_no}``: forward to the
  platform's paycode charge API as the acquirer's operator account; answer
  ``{acquirer_ref, status, order_no, detail, platform}``.
- ``GET /records``: every record (``store.Records``), for tests and the daily file.

Configuration (environment; see docs/peers.md, "acquirer"): ``PEER_DATA_DIR`` (default
``var/peers/acquirer``), ``PEER_ACQUIRER_PLATFORM_URL``, ``PEER_ACQUIRER_USERNAME`` and
``PEER_ACQUIRER_PASSWORD`` (the platform account the acquirer signs in with),
``PEER_ACQUIRER_CHARGE_PATH`` (default ``/api/v1/payments/paycodes/charge``).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from peers.acquirer.store import Records, mask_code
from peers.common import base_app

router = APIRouter(tags=["acquiring"])
CHARGE_PATH = "/api/v1/payments/paycodes/charge"
Code = Annotated[str, Field(min_length=1, max_length=64)]


class PayIn(BaseModel):
    merchant: str = Field(min_length=4, max_length=32)
    terminal: str = Field(min_length=1, max_length=32)
    code: Code
    amount_fen: int = Field(gt=0, le=10_000_000_000)
    merchant_order_no: str = Field(min_length=1, max_length=32)


@dataclass
class Platform:
    """How the acquirer reaches the platform, with its bearer token (signed in on demand)."""

    url: str
    username: str
    password: str
    charge_path: str = CHARGE_PATH
    token: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    """One connection pool for every charge (a client per call would open a connection and
    build a TLS context each time)."""

    def _sign_in(self) -> str:
        answer = self.http.post(
            f"{self.url}/api/v1/auth/token",
            data={"username": self.username, "password": self.password},
            timeout=15,
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def charge(self, body: dict[str, Any]) -> httpx.Response:
        """POST the charge, signing in first (and again once if the token has expired:
        only the first charge to find it refused signs in; the others take its new token)."""
        refused: str | None = None
        for _ in range(2):
            with self.lock:
                if self.token is None or self.token == refused:
                    self.token = self._sign_in()
                token = self.token
            answer = self.http.post(
                f"{self.url}{self.charge_path}",
                json=body,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Idempotency-Key": f"acq:{body['merchant_code']}:{body['merchant_order_no']}",
                },
                timeout=30,
            )
            if answer.status_code != 401:
                return answer
            refused = token
        return answer


@lru_cache(maxsize=1)
def records() -> Records:
    return Records(Path(os.environ.get("PEER_DATA_DIR", "var/peers/acquirer")))


@lru_cache(maxsize=1)
def platform() -> Platform:
    return Platform(
        url=os.environ.get("PEER_ACQUIRER_PLATFORM_URL", "http://127.0.0.1:8000").rstrip("/"),
        username=os.environ.get("PEER_ACQUIRER_USERNAME", ""),
        password=os.environ.get("PEER_ACQUIRER_PASSWORD", ""),
        charge_path=os.environ.get("PEER_ACQUIRER_CHARGE_PATH", CHARGE_PATH),
    )


def _outcome(answer: httpx.Response | None) -> tuple[str, str | None, str, dict[str, Any]]:
    """(status, order_no, detail, platform answer) from the platform's reply."""
    if answer is None:
        return "unknown", None, "平台无应答", {}
    try:
        body = answer.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if answer.status_code >= 500:
        return "unknown", None, str(body.get("detail") or "平台暂时无法处理"), body
    if answer.status_code >= 400:
        return "refused", None, str(body.get("detail") or body.get("error") or ""), body
    status = str(body.get("status") or "paid")
    return status, body.get("order_no"), str(body.get("detail") or ""), body


@router.post("/pay", summary="Forward a scanned payment code to the platform")
def pay(data: PayIn) -> JSONResponse:
    ref = records().new_ref()
    body = {
        "merchant_code": data.merchant,
        "terminal_code": data.terminal,
        "code": data.code,
        "amount_fen": data.amount_fen,
        "merchant_order_no": data.merchant_order_no,
    }
    try:
        answer: httpx.Response | None = platform().charge(body)
    except httpx.HTTPError:
        answer = None
    status, order_no, detail, shown = _outcome(answer)
    records().write(
        {
            "acquirer_ref": ref,
            "at": datetime.now(UTC).isoformat(),
            "merchant": data.merchant,
            "terminal": data.terminal,
            "merchant_order_no": data.merchant_order_no,
            "amount_fen": data.amount_fen,
            "code_masked": mask_code(data.code),
            "status": status,
            "order_no": order_no,
            "detail": detail,
        }
    )
    code = answer.status_code if answer is not None else 504
    reply = {"acquirer_ref": ref, "status": status, "order_no": order_no, "detail": detail}
    return JSONResponse({**reply, "platform": shown}, status_code=code)


@router.get("/records", summary="The acquirer's records (收单流水)")
def list_records() -> dict[str, Any]:
    return {"items": records().all()}


def create_app() -> FastAPI:
    """An acquirer (收单机构) simulator: forwards scanned payment codes to the platform."""
    app = base_app("acquirer")
    app.include_router(router)
    return app
