"""The shipped seed files carry the registry's code sets and the default translation tables."""

from __future__ import annotations

from sscard.exchange.translation import service
from sscard.exchange.translation.csvfiles import (
    CODE_SET_COLUMNS,
    CODE_SET_REQUIRED,
    MAPPING_COLUMNS,
    MAPPING_REQUIRED,
    read_rows,
)
from sscard.registry.codes import CODE_SETS, INDICATORS, TRANSLATIONS


def test_the_seed_code_sets_are_the_registrys_code_sets() -> None:
    rows = read_rows(
        service.default_code_sets(), columns=CODE_SET_COLUMNS, required=CODE_SET_REQUIRED
    )
    seeded = {(r["code_set"], r["code"]): (r["name"], r["code_set_name"]) for r in rows}
    expected = {
        (s.key, code): (name, s.title)
        for s in CODE_SETS.values()
        for code, name in s.entries.items()
    }
    assert seeded == expected


def test_the_seed_tables_are_the_default_translations_under_indicator_names() -> None:
    rows = read_rows(service.default_mappings(), columns=MAPPING_COLUMNS, required=MAPPING_REQUIRED)
    seeded = {
        (r["system"], r["code_set"], r["code"]): (r["external_field"], r["external_code"])
        for r in rows
    }
    expected = {
        (system, key, ours): (table.field, theirs)
        for system, tables in TRANSLATIONS.items()
        for key, table in tables.items()
        for ours, theirs in table.codes.items()
    }
    assert seeded == expected
    province_fields = {r["external_field"] for r in rows if r["system"] == "province"}
    assert {"AAC004", "AAC005", "AAC058"} <= province_fields & set(INDICATORS)
    assert {r["system_name"] for r in rows} == {"省卡管系统", "医保系统"}
