"""Payment and settlement pages (资金支付结算): the merchant console (商户管理) with a list
filtered by status, category and name, and one form to sign up or change a merchant that
keeps what was typed when it is refused. A merchant's page is its form, with its status,
its times in Beijing time and the status actions (suspend, close, reopen), each a POST.
The medical settlement pages (就医结算) list settlements, show one with its three-way split
and refund it after a confirmation; the chronic-disease page approves qualifications.
Reconciliation (对账) lists a day's differences, resolves and approves them; the settlement
report (结算报表) shows cleared days with a chart drawn on the server.

A refused request raises :class:`~sscard.web.registry.common.PageRefused` carrying the page
to show, so the request's unit of work rolls back exactly as it does for the API.
"""

from __future__ import annotations

from fastapi import FastAPI

from sscard.web.payments import disbursement, medical, merchants, orders, recon, settlement


def install(app: FastAPI) -> None:
    """Mount the payments pages (their refusals are answered by the registry's handler)."""
    app.include_router(merchants.router)
    app.include_router(medical.router)
    app.include_router(orders.router)
    app.include_router(disbursement.router)
    app.include_router(recon.router)
    app.include_router(settlement.router)
