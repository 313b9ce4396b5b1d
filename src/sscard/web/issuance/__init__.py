"""Card issuance pages (社会保障卡发行管理) for counter clerks and card managers: the
application form, card lookup with the status timeline, loss / unlock / cancel / restore /
replacement / PIN reset / activation each behind a confirmation step, batches with their
progress and card-making failures, statistics, handover by scanning a box code, and the
process guide.

Each handler parses the form, calls the issuance service and renders. Cards are addressed
by internal id (``/cards/c/{card_id}``) and applicants by the registry's internal id; ID
numbers and card numbers typed by a clerk are POSTed, so they stay out of URLs and browser
history. Every page is sent with ``Cache-Control: no-store``. A refused request raises
:class:`~sscard.web.registry.PageRefused` carrying the page to show, so the request's unit
of work rolls back exactly as it does for the API. A confirmation carries the card's
version: if someone changed the card in between, the clerk is told so (409) instead of
acting on what they no longer see.
"""

from __future__ import annotations

from typing import cast

from fastapi import FastAPI, Request
from fastapi.responses import Response

from sscard.web.issuance import (
    applications,
    batch_work,
    batches,
    cards,
    exports,
    failures,
    handover,
)
from sscard.web.registry.common import PageRefused


async def _refused(_request: Request, exc: Exception) -> Response:
    return cast(PageRefused, exc).response


def install(app: FastAPI) -> None:
    """Mount the issuance pages and the handler that answers their refusals."""
    for module in (cards, applications, batch_work, batches, failures, handover, exports):
        app.include_router(module.router)
    app.add_exception_handler(PageRefused, _refused)
