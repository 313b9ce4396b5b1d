"""A cooperating bank (合作银行) simulator: accounts, card-making files, branches."""

from __future__ import annotations

from fastapi import FastAPI

from peers.bank import accounts, batch, dailyfile, disbursement, payments, paypage
from peers.common import base_app


def create_app() -> FastAPI:
    """A cooperating bank (合作银行) simulator: accounts, card-making files, branches."""
    app = base_app("bank")
    for module in (
        batch,
        accounts,
        payments,
        paypage,
        disbursement,
        dailyfile,
    ):
        app.include_router(module.router)
    return app
