"""Translating with every table of one system held in memory (a dict lookup per value)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sscard.errors import FieldProblem
from sscard.exchange.errors import CodeSetNotFound, CodeSetNotMapped, CodeUnmapped
from sscard.exchange.translation.rules import Direction, shown

MAX_SHOWN_PROBLEMS = 20


@dataclass(frozen=True, slots=True)
class SetInfo:
    """One code set: its key, Chinese name, and our codes with their names."""

    key: str
    name: str
    codes: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class SystemTables:
    """Every table of one external system."""

    key: str
    name: str
    fields: Mapping[str, str]
    """Code set key -> the system's field name for it."""
    codes: Mapping[str, Mapping[str, str]]
    """Code set key -> our code -> the system's code."""


@dataclass(frozen=True, slots=True)
class Table:
    """One system's table for one set, readable both ways."""

    system: str
    system_name: str
    code_set: str
    code_set_name: str
    external_field: str
    outward: Mapping[str, str]
    inward: Mapping[str, str]
    known: frozenset[str]
    """All our codes of the set, mapped or not (for clearer messages)."""

    def to_external(self, value: str) -> str:
        """The system's code for our ``value``."""
        try:
            return self.outward[value]
        except KeyError:
            raise self.unmapped(value, "out") from None

    def to_internal(self, value: str) -> str:
        """Our code for the system's ``value``."""
        try:
            return self.inward[value]
        except KeyError:
            raise self.unmapped(value, "in") from None

    def unmapped(self, value: str, direction: Direction) -> CodeUnmapped:
        """The error for a value that has no counterpart, naming system, set and value."""
        message = self.unmapped_reason(value, direction)
        return CodeUnmapped(message, fields=[FieldProblem("value", message)])

    def unmapped_reason(self, value: str, direction: Direction) -> str:
        set_name, system_name = self.code_set_name, self.system_name
        if direction == "in":
            return f"{system_name}的“{set_name}”代码 {shown(value)} 没有对应的本系统代码"
        if value not in self.known:
            return f"本系统的“{set_name}”没有代码 {shown(value)}，无法翻译为{system_name}的代码"
        return f"{system_name}的“{set_name}”没有与本系统代码 {shown(value)} 对应的代码"


class Translator:
    """Every table of one external system, loaded once; each lookup is a dict lookup.

    Build it with the service's ``translator(session, system=...)`` and keep it for a
    whole file. ``revision`` identifies the state of the tables it was built from.
    """

    __slots__ = ("_by_field", "_out", "_sets", "_tables", "revision", "system", "system_name")

    def __init__(
        self, tables: SystemTables, code_sets: Mapping[str, SetInfo], *, revision: str = ""
    ) -> None:
        self.system = tables.key
        self.system_name = tables.name
        self.revision = revision
        self._sets = dict(code_sets)
        self._tables: dict[str, Table] = {}
        for key, external_field in tables.fields.items():
            info = code_sets[key]
            outward = dict(tables.codes.get(key, {}))
            self._tables[key] = Table(
                system=tables.key,
                system_name=tables.name,
                code_set=key,
                code_set_name=info.name,
                external_field=external_field,
                outward=outward,
                inward={theirs: ours for ours, theirs in outward.items()},
                known=frozenset(info.codes),
            )
        self._out = {key: table.outward for key, table in self._tables.items()}
        self._by_field = {table.external_field: table for table in self._tables.values()}

    @property
    def code_sets(self) -> list[str]:
        """Keys of the sets this system has a table for."""
        return sorted(self._tables)

    def table(self, code_set: str) -> Table:
        """The system's table for ``code_set``: CodeSetNotFound or CodeSetNotMapped if none."""
        found = self._tables.get(code_set)
        if found is not None:
            return found
        info = self._sets.get(code_set)
        if info is None:
            raise CodeSetNotFound(f"代码集 {shown(code_set)} 不存在")
        raise CodeSetNotMapped(f"{self.system_name}没有“{info.name}”的代码对照表")

    def external_field(self, code_set: str) -> str:
        """The system's field name for ``code_set`` (``AAC004``, ``SEX``)."""
        return self.table(code_set).external_field

    def to_external(self, code_set: str, value: str) -> str:
        """The system's code for our ``value`` of ``code_set``."""
        try:
            return self._out[code_set][value]
        except KeyError:
            raise self.table(code_set).unmapped(value, "out") from None

    def to_internal(self, code_set: str, value: str) -> str:
        """Our code for the system's ``value`` of ``code_set``."""
        return self.table(code_set).to_internal(value)

    def translate(self, code_set: str, value: str, direction: Direction = "out") -> str:
        """One value, either way."""
        if direction == "out":
            return self.to_external(code_set, value)
        return self.to_internal(code_set, value)

    def translate_many(
        self, code_set: str, values: Iterable[str], direction: Direction = "out"
    ) -> list[str]:
        """Every value, in order; CodeUnmapped names every value that has no counterpart."""
        table = self.table(code_set)
        lookup = table.outward if direction == "out" else table.inward
        result: list[str] = []
        missing: dict[str, int] = {}
        for index, value in enumerate(values):
            found = lookup.get(value)
            if found is None:
                missing.setdefault(value, index)
                found = ""
            result.append(found)
        if missing:
            raise _many_unmapped(table, missing, direction)
        return result

    def to_external_record(self, values: Mapping[str, str]) -> dict[str, str]:
        """``{"gender": "1", ...}`` (code set -> our code) as ``{"AAC004": "1", ...}``."""
        return {
            self.table(code_set).external_field: self.to_external(code_set, value)
            for code_set, value in values.items()
        }

    def to_internal_record(self, row: Mapping[str, str]) -> dict[str, str]:
        """The coded fields of an external row (field -> their code) as code set -> our code.

        Fields the system has no table for (names, ID numbers ...) are left out.
        """
        return {
            table.code_set: table.to_internal(value)
            for name, value in row.items()
            if (table := self._by_field.get(name)) is not None
        }


def _many_unmapped(table: Table, missing: Mapping[str, int], direction: Direction) -> CodeUnmapped:
    problems = [
        FieldProblem(f"values[{index}]", table.unmapped_reason(value, direction))
        for value, index in list(missing.items())[:MAX_SHOWN_PROBLEMS]
    ]
    message = problems[0].reason
    if len(missing) > 1:
        message += f"（共 {len(missing)} 个不同的值无法翻译）"
    return CodeUnmapped(message, fields=problems)
