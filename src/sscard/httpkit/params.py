"""Path and query integers, bounded once for every route.

A route never declares a bare ``int`` parameter: it uses one of these, so a value past
what the database holds (2**63 - 1) or a negative page or limit is a 422 naming the
parameter, not a 500 from the database driver::

    def get_employer(employer_id: Id, ...): ...
    def jobs(employer_id: IdFilter = None, limit: Limit = 50): ...
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from sscard.kit.bounds import BIGINT_MAX

Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
"""A row id in the path (``/employers/{employer_id}``)."""

IdFilter = Annotated[int | None, Query(ge=1, le=BIGINT_MAX)]
"""A row id in the query that narrows a list (``?employer_id=``)."""

Since = Annotated[int, Query(ge=0, le=BIGINT_MAX)]
"""A sequence value to continue after (``?since=``)."""

Offset = Annotated[int, Query(ge=0, le=BIGINT_MAX)]
"""How many rows of a list to skip."""

Page = Annotated[int, Query(ge=1, le=100_000)]
"""A page number, from 1."""

PageSize = Annotated[int, Query(ge=1, le=200)]
"""Rows on a page."""

Limit = Annotated[int, Query(ge=1, le=1000)]
"""At most this many rows."""

LongLimit = Annotated[int, Query(ge=1, le=5000)]
"""At most this many rows, for machine clients that page through large lists."""


def row_id(text: str) -> int | None:
    """A row id typed into a page (a form field, a path segment the page reads as text):
    the number if it is one the database can hold (1 to 2**63 - 1), else None."""
    text = text.strip()
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 1 <= value <= BIGINT_MAX else None
