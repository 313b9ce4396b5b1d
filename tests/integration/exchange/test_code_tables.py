"""Code sets and translation tables in the database, as the migration ships them and as
operators change them; every test's work is rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, delete, event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard.errors import ValidationFailed
from sscard.exchange.errors import (
    CodeNotFound,
    CodeSetNotFound,
    CodeUnmapped,
    ImportRejected,
    MappingConflict,
    MappingNotFound,
    SystemNotFound,
)
from sscard.exchange.translation import service
from sscard.exchange.translation.models import Code, CodeSet, ExternalField, ExternalSystem, Mapping


@contextmanager
def counted_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def clear_tables(session: Session) -> None:
    for model in (Mapping, ExternalField, ExternalSystem, Code, CodeSet):
        session.execute(delete(model))
    session.flush()


def revisions(session: Session) -> dict[str, str]:
    rows = session.execute(select(ExternalSystem.key, ExternalSystem.revision))
    return {row[0]: row[1] for row in rows}


def test_the_migration_ships_the_code_sets_and_the_province_and_medical_tables(
    session: Session,
) -> None:
    keys = [s.key for s in service.list_code_sets(session)]
    assert {"gender", "ethnicity", "document_type", "insurance_type"} <= set(keys)
    assert {"insurance_status", "person_status"} <= set(keys)
    gender = service.get_code_set(session, key="gender")
    assert (gender.name, [c.code for c in gender.codes]) == ("性别", ["0", "1", "2", "9"])
    systems = {s.key: s for s in service.list_systems(session)}
    assert systems["province"].name == "省卡管系统"
    assert {t.code_set: t.external_field for t in systems["province"].tables}["gender"] == "AAC004"
    assert service.load_defaults(session).mappings.created == 0


def test_gender_is_translated_both_ways_for_the_province_and_the_medical_insurance_system(
    session: Session,
) -> None:
    assert service.translate(session, system="province", code_set="gender", value="1") == "1"
    assert service.external_field(session, system="province", code_set="gender") == "AAC004"
    assert (
        service.translate(session, system="medical_insurance", code_set="gender", value="2") == "F"
    )
    back = service.translate(
        session, system="medical_insurance", code_set="gender", value="U", direction="in"
    )
    assert back == "0"
    assert service.external_field(session, system="medical_insurance", code_set="gender") == "SEX"
    assert service.translate_many(
        session, system="medical_insurance", code_set="gender", values=["1", "2", "0"]
    ) == ["M", "F", "U"]


def test_an_unmapped_value_unknown_system_and_unknown_set_are_clear_errors(
    session: Session,
) -> None:
    with pytest.raises(CodeUnmapped) as caught:
        service.translate(session, system="medical_insurance", code_set="gender", value="9")
    assert caught.value.message == "医保系统的“性别”没有与本系统代码 9 对应的代码"
    with pytest.raises(SystemNotFound, match="外部系统 bank 不存在"):
        service.translate(session, system="bank", code_set="gender", value="1")
    with pytest.raises(CodeSetNotFound, match="代码集 colour 不存在"):
        service.translate(session, system="province", code_set="colour", value="1")


def test_an_external_code_is_refused_for_a_second_of_our_codes(session: Session) -> None:
    with pytest.raises(MappingConflict, match="代码 U 已对应本系统代码 0"):
        service.set_mapping(
            session, system="medical_insurance", code_set="gender", code="9", external_code="U"
        )
    row = {"system_key": "medical_insurance", "code_set_key": "gender"}
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(Mapping).values(**row, code="9", external_code="U"))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(Mapping).values(**row, code="1", external_code="N"))


def test_a_mapping_set_and_deleted_takes_effect_at_once(session: Session) -> None:
    out = service.set_mapping(
        session, system="medical_insurance", code_set="gender", code="9", external_code="N"
    )
    assert (out.external_field, out.name) == ("SEX", "未说明的性别")
    assert (
        service.translate(session, system="medical_insurance", code_set="gender", value="9") == "N"
    )
    service.delete_mapping(session, system="medical_insurance", code_set="gender", code="9")
    with pytest.raises(CodeUnmapped):
        service.translate(session, system="medical_insurance", code_set="gender", value="9")
    with pytest.raises(MappingNotFound):
        service.delete_mapping(session, system="medical_insurance", code_set="gender", code="9")
    with pytest.raises(CodeNotFound, match="“性别”没有代码 7"):
        service.set_mapping(
            session, system="medical_insurance", code_set="gender", code="7", external_code="Q"
        )


def test_a_new_table_needs_a_field_name_and_a_field_name_serves_one_set(session: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.set_mapping(
            session,
            system="medical_insurance",
            code_set="document_type",
            code="01",
            external_code="1",
        )
    assert caught.value.fields[0].field == "external_field"
    with pytest.raises(MappingConflict, match="字段名 SEX 已用于代码集 gender"):
        service.set_mapping(
            session,
            system="medical_insurance",
            code_set="document_type",
            code="01",
            external_code="1",
            external_field="SEX",
        )
    made = service.set_mapping(
        session,
        system="medical_insurance",
        code_set="document_type",
        code="01",
        external_code="1",
        external_field="ZJLX",
    )
    assert made.external_field == "ZJLX"


def test_a_rolled_back_change_never_survives_in_the_cached_translator(session: Session) -> None:
    assert (
        service.translate(session, system="medical_insurance", code_set="gender", value="1") == "M"
    )
    nested = session.begin_nested()
    service.set_mapping(
        session, system="medical_insurance", code_set="gender", code="1", external_code="1"
    )
    assert (
        service.translate(session, system="medical_insurance", code_set="gender", value="1") == "1"
    )
    nested.rollback()
    assert (
        service.translate(session, system="medical_insurance", code_set="gender", value="1") == "M"
    )


def test_the_translator_makes_no_query_per_value(session: Session, engine: Engine) -> None:
    translator = service.translator(session, system="province")
    values = ["0", "1", "2", "9"] * 2_500
    with counted_statements(engine) as statements:
        out = [translator.to_external("gender", v) for v in values]
        back = translator.translate_many("gender", out, "in")
        ethnic = [translator.to_external("ethnicity", f"{n % 56 + 1:02d}") for n in range(10_000)]
    assert statements == []
    assert back == values and ethnic[0] == "01"
    with counted_statements(engine) as statements:
        for value in ("1", "2", "0"):
            service.translate(session, system="province", code_set="gender", value=value)
    assert len(statements) == 3  # one look at the stored revision each, no table reads


def test_exported_files_imported_into_empty_tables_give_the_same_data(session: Session) -> None:
    sets, tables = service.export_code_sets(session), service.export_mappings(session)
    assert sets.startswith(b"\xef\xbb\xbf") and tables.startswith(b"\xef\xbb\xbf")
    clear_tables(session)
    assert service.list_code_sets(session) == []
    report = service.import_code_sets(session, data=sets)
    assert report.created == report.rows and "新建代码集 gender（性别）" in report.notes
    assert service.import_mappings(session, data=tables).created == 141
    assert service.export_code_sets(session) == sets
    assert service.export_mappings(session) == tables
    assert (
        service.translate(session, system="medical_insurance", code_set="gender", value="2") == "F"
    )


def test_importing_the_same_files_again_changes_nothing(session: Session) -> None:
    sets, tables = service.export_code_sets(session), service.export_mappings(session)
    before = revisions(session)
    again = service.import_code_sets(session, data=sets)
    assert (again.created, again.updated, again.unchanged, again.notes) == (0, 0, again.rows, [])
    mapped = service.import_mappings(session, data=tables)
    assert (mapped.created, mapped.updated, mapped.unchanged) == (0, 0, mapped.rows)
    assert revisions(session) == before


def test_a_file_with_one_bad_row_changes_nothing_and_names_the_line(session: Session) -> None:
    before = service.export_mappings(session)
    data = (
        b"system,code_set,external_field,code,external_code\r\n"
        b"medical_insurance,gender,SEX,9,N\r\n"
        b"medical_insurance,ethnicity,NATION,01,HA\r\n"
        b"medical_insurance,ethnicity,NATION,99,XX\r\n"
    )
    with pytest.raises(ImportRejected) as caught:
        service.import_mappings(session, data=data)
    assert caught.value.status_code == 422 and caught.value.code == "import_rejected"
    assert [p.field for p in caught.value.fields] == ["line 4.code"]
    assert "第 4 行 code：“民族”没有代码 99" in caught.value.message
    assert service.export_mappings(session) == before


def test_codes_swap_their_external_codes_in_one_import(session: Session) -> None:
    data = (
        b"system,code_set,external_field,code,external_code\n"
        b"medical_insurance,gender,SEX,1,F\n"
        b"medical_insurance,gender,SEX,2,M\n"
    )
    report = service.import_mappings(session, data=data)
    assert (report.updated, report.created) == (2, 0)
    assert (
        service.translate(session, system="medical_insurance", code_set="gender", value="1") == "F"
    )


def test_a_gb18030_file_from_a_chinese_spreadsheet_is_read(session: Session) -> None:
    data = (
        "code_set,code,name,code_set_name\r\ncard_status,1,正常,卡状态\r\ncard_status,2,挂失,卡状态\r\n"
    ).encode("gb18030")
    report = service.import_code_sets(session, data=data)
    assert report.created == 2
    found = service.get_code_set(session, key="card_status")
    assert (found.name, [c.name for c in found.codes]) == ("卡状态", ["正常", "挂失"])
    mappings = (
        "system,code_set,external_field,code,external_code,system_name\r\n"
        "public_security,card_status,KZT,1,正常,公安系统\r\n"
    ).encode("gb18030")
    service.import_mappings(session, data=mappings)
    back = service.translate(
        session, system="public_security", code_set="card_status", value="正常", direction="in"
    )
    assert back == "1"


def test_a_checked_file_is_reported_but_not_applied(session: Session) -> None:
    data = b"code_set,code,name\ngender,9,\xe6\x9c\xaa\xe8\xaf\xb4\xe6\x98\x8e\n"
    report = service.import_code_sets(session, data=data, dry_run=True)
    assert (report.updated, report.dry_run) == (1, True)
    assert service.get_code_set(session, key="gender").codes[-1].name == "未说明的性别"


def test_loading_defaults_restores_what_is_missing_and_keeps_local_edits(session: Session) -> None:
    service.delete_mapping(session, system="province", code_set="gender", code="9")
    service.set_mapping(
        session, system="medical_insurance", code_set="gender", code="0", external_code="N"
    )
    service.upsert_code(session, code_set="gender", code="1", name="男性")
    report = service.load_defaults(session)
    assert (report.mappings.created, report.kept) == (1, 2)
    assert service.translate(session, system="province", code_set="gender", value="9") == "9"
    assert (
        service.translate(session, system="medical_insurance", code_set="gender", value="0") == "N"
    )
    assert service.get_code_set(session, key="gender").codes[1].name == "男性"


def test_sets_codes_and_systems_are_created_and_renamed(session: Session) -> None:
    service.upsert_code_set(session, key="card_status", name="卡状态")
    service.upsert_code(session, code_set="card_status", code="1", name="正常")
    assert service.get_code_set(session, key="card_status").codes[0].name == "正常"
    made = service.upsert_system(session, key="bank", name="合作银行")
    assert (made.name, made.tables) == ("合作银行", [])
    assert service.upsert_system(session, key="bank", name="合作银行系统").name == "合作银行系统"
    with pytest.raises(ValidationFailed, match="小写字母"):
        service.upsert_code_set(session, key="Card Status", name="卡状态")
    with pytest.raises(CodeSetNotFound):
        service.upsert_code(session, code_set="colour", code="1", name="红")
