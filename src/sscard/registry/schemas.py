"""Types every registry schema shares: the input base, bounded text, a code with its name."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from sscard.registry import codes, regions

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NamedCode(BaseModel):
    code: str
    name: str | None


def named(code_set: codes.CodeSet, code: str) -> NamedCode:
    """A code with its name in ``code_set`` (None when unknown)."""
    return NamedCode(code=code, name=codes.name_of(code_set, code))


def region_named(code: str) -> NamedCode:
    """A region code with its full name (山东省济宁市任城区), or None when unknown."""
    found = regions.region(code)
    return NamedCode(code=code, name=found.full_name if found else None)
