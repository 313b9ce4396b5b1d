"""Input and output of code translation; inputs forbid unknown fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from sscard.exchange.translation import rules
from sscard.exchange.translation.rules import Direction


def _rule(check: Callable[[str], str | None]) -> AfterValidator:
    def validate(value: str) -> str:
        reason = check(value)
        if reason:
            raise ValueError(reason)
        return value

    return AfterValidator(validate)


Stripped = Annotated[str, StringConstraints(strip_whitespace=True)]
CodeName = Annotated[Stripped, _rule(lambda v: rules.name_problem(v, max_length=100))]
Title = Annotated[Stripped, _rule(lambda v: rules.name_problem(v, max_length=64))]
ExternalFieldName = Annotated[Stripped, _rule(rules.field_problem)]
ExternalCode = Annotated[Stripped, _rule(rules.external_code_problem)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodeNamePut(Input):
    """The Chinese name of one of our codes (男, 汉族)."""

    name: CodeName


class TitlePut(Input):
    """The Chinese name of a code set or an external system (性别, 医保系统)."""

    name: Title


class MappingPut(Input):
    """The system's code for one of our codes; ``external_field`` names the system's field
    for the whole set and may be left out once the set has one."""

    external_code: ExternalCode
    external_field: ExternalFieldName | None = None


class CodeOut(BaseModel):
    code: str
    name: str


class CodeSetOut(BaseModel):
    key: str
    name: str
    size: int
    """How many codes the set has."""


class CodeSetDetail(BaseModel):
    key: str
    name: str
    codes: list[CodeOut]


class SystemTableOut(BaseModel):
    code_set: str
    code_set_name: str
    external_field: str
    mappings: int


class SystemOut(BaseModel):
    key: str
    name: str
    tables: list[SystemTableOut]


class MappingOut(BaseModel):
    system: str
    code_set: str
    external_field: str
    code: str
    name: str
    """Our name of the code (男, 汉族)."""
    external_code: str


class TranslationOut(BaseModel):
    system: str
    code_set: str
    external_field: str
    direction: Direction
    value: str
    result: str


class ImportReport(BaseModel):
    """What an import changed (or, with ``dry_run``, would change)."""

    rows: int
    created: int
    updated: int
    unchanged: int
    notes: list[str]
    """New or renamed sets, systems and field names."""
    dry_run: bool


class LoadReport(BaseModel):
    """What loading the shipped defaults added; ``kept`` rows differ locally and were left."""

    code_sets: ImportReport
    mappings: ImportReport
    kept: int
