"""Registry pages (持卡人基础信息库) for counter clerks: person search, a person's page with
an audited "show full" action, register and edit forms, employers and communities.

Each handler parses the form, calls a registry service and renders. Persons are addressed
by internal id (``/registry/persons/p/{person_id}``), never by ID number, and searches by ID
number, name or phone are POSTed, so personal data stays out of URLs and browser history.
Read :mod:`~sscard.web.registry.common` first: refusals, flashes and rendering.

- ``search``: the person search (``/registry/persons``);
- ``person``: a person's page, reveal, photo, death (``/registry/persons/p/{id}``);
- ``person_forms``: register and edit (``/registry/persons/new``, ``.../edit``);
- ``units``: employers and communities (``/registry/employers``, ``/registry/communities``);
- ``imports``: person import (人员批量导入) upload, progress and rejects (``/registry/imports``).
"""

from __future__ import annotations

from fastapi import FastAPI

from sscard.web.registry import imports, person, person_forms, search, search_export, units
from sscard.web.registry.common import PageRefused, answer_refusal


def install(app: FastAPI) -> None:
    """Mount the registry pages and the handler that answers their refusals."""
    for pages in (search, search_export, person, person_forms, units, imports):
        app.include_router(pages.router)
    app.add_exception_handler(PageRefused, answer_refusal)
