"""Input and output of entity mappings and the unresolved-code queue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Kind = Literal["employer", "community", "card_type"]
KINDS: dict[str, str] = {"employer": "单位", "community": "街道/社区", "card_type": "卡类型"}
Direction = Literal["out", "in"]
CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,63}$")
CODE_RULE = "应为 1-64 位字母、数字、下划线、点或连字符，以字母或数字开头"
CSV_COLUMNS = ("system", "kind", "code", "external_code", "external_name")

CodeText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
NoteText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class EntityMappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: CodeText
    kind: Kind
    code: CodeText
    external_code: CodeText
    external_name: NoteText = ""


class ResolveIn(BaseModel):
    """The counterpart of a queued code: ours for an inward code, theirs for an outward one."""

    model_config = ConfigDict(extra="forbid")

    code: CodeText | None = None
    """Leave out to take the suggestion."""
    note: NoteText = ""
    ignore: bool = False


class EntityMappingOut(BaseModel):
    system: str
    kind: str
    kind_name: str
    code: str
    external_code: str
    external_name: str
    source: str
    updated_by: str
    updated_at: datetime


class UnresolvedOut(BaseModel):
    id: int
    system: str
    kind: str
    kind_name: str
    direction: str
    code: str
    name: str
    suggestion: str | None
    source: str
    last_source: str
    occurrences: int
    status: str
    resolved_code: str | None
    resolved_by: str | None
    note: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


class MappingImportReport(BaseModel):
    rows: int
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A code met without a counterpart, with what is known of it."""

    code: str
    name: str = ""
    suggestion: str | None = None
    count: int = 1
