"""Bounds for every integer the platform accepts from outside (one place for all).

An integer a database column cannot hold must be refused as bad input (422 naming the
field), never reach the database: PostgreSQL's ``bigint`` and SQLite's ``INTEGER`` end at
2**63 - 1. Request bodies use the Pydantic types here; path and query parameters use the
FastAPI types in ``sscard.httpkit.params`` built on the same bounds.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

BIGINT_MAX = 2**63 - 1
"""The largest integer PostgreSQL's ``bigint`` (and SQLite's ``INTEGER``) can hold."""

RowId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
"""The id of a row (an employer, an import job, a binding ...): 1 to 2**63 - 1."""

Count = Annotated[int, Field(ge=0, le=BIGINT_MAX)]
"""A number of things or a sequence value: 0 to 2**63 - 1."""

INT_MAX = 2**31 - 1
"""The largest integer an ``INTEGER`` column of PostgreSQL can hold (row versions, key
versions)."""

Version = Annotated[int, Field(ge=0, le=INT_MAX)]
"""The version of a row read for an optimistic lock, or a key version: 0 to 2**31 - 1."""

BigInt = Annotated[int, Field(ge=-BIGINT_MAX - 1, le=BIGINT_MAX)]
"""Any integer a ``bigint`` column holds: for a value whose own rule (an amount above
zero and within a limit, say) the service checks and names in a clerk's words."""
