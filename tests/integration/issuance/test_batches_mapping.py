"""Entity mappings between systems (单位、街道/社区、卡类型) and the unresolved-code queue."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy.orm import Session

from sscard.errors import ValidationFailed
from sscard.exchange.errors import MappingConflict
from sscard.exchange.mapping import service as exchange_service
from sscard.kit.context import Actor, ActorKind

CLERK = Actor(
    kind=ActorKind.operator, id="mapping-clerk", name="对照专员", permissions=frozenset({"*"})
)


def _code(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4).upper()}"


def _set(session: Session, kind: str, ours: str, theirs: str) -> None:
    exchange_service.set_entity_mapping(
        session,
        data=exchange_service.EntityMappingIn.model_validate(
            {"system": "province", "kind": kind, "code": ours, "external_code": theirs}
        ),
        actor=CLERK,
    )


def test_a_mapping_reads_both_ways_and_an_external_code_belongs_to_one_of_ours(
    session: Session,
) -> None:
    ours, theirs = _code("91370811"), _code("SD")
    _set(session, "employer", ours, theirs)
    assert exchange_service.entity_codes_out(
        session, system="province", kind="employer", codes=[ours, "unknown"]
    ) == {ours: theirs}
    assert exchange_service.entity_codes_in(
        session, system="province", kind="employer", codes=[theirs]
    ) == {theirs: ours}
    with pytest.raises(MappingConflict) as taken:
        _set(session, "employer", _code("91370811"), theirs)
    assert "已对应本系统代码" in taken.value.message
    _set(session, "employer", ours, _code("SD"))
    assert (
        exchange_service.entity_codes_in(
            session, system="province", kind="employer", codes=[theirs]
        )
        == {}
    )


def test_codes_met_again_are_counted_and_a_mapping_closes_every_entry_it_answers(
    session: Session,
) -> None:
    ours, theirs = _code("370811"), _code("SQ")
    for source in ("batch:1", "batch:2"):
        exchange_service.note_unresolved(
            session,
            system="province",
            kind="community",
            direction="out",
            source=source,
            found=[exchange_service.Unresolved(ours, "古槐社区", None, 3)],
        )
    exchange_service.note_unresolved(
        session,
        system="province",
        kind="community",
        direction="in",
        source="result:2",
        found=[exchange_service.Unresolved(theirs, "", ours, 1)],
    )
    queued = {
        u.direction: u
        for u in exchange_service.list_unresolved(session, kind="community")
        if u.code in (ours, theirs)
    }
    assert queued["out"].occurrences == 6 and queued["out"].source == "batch:1"
    assert queued["out"].last_source == "batch:2"
    answered = exchange_service.resolve_unresolved(
        session,
        unresolved_id=queued["in"].id,
        data=exchange_service.ResolveIn(note="核对"),
        actor=CLERK,
    )
    assert answered.status == "resolved" and answered.resolved_code == ours
    still_open = [
        u
        for u in exchange_service.list_unresolved(session, kind="community")
        if u.code in (ours, theirs)
    ]
    assert still_open == []


def test_an_entry_without_a_suggestion_needs_a_code_or_is_ignored(session: Session) -> None:
    code = _code("9")
    exchange_service.note_unresolved(
        session,
        system="province",
        kind="card_type",
        direction="out",
        source="batch:3",
        found=[exchange_service.Unresolved(code)],
    )
    entry = next(u for u in exchange_service.list_unresolved(session) if u.code == code)
    with pytest.raises(ValidationFailed):
        exchange_service.resolve_unresolved(
            session, unresolved_id=entry.id, data=exchange_service.ResolveIn(), actor=CLERK
        )
    ignored = exchange_service.resolve_unresolved(
        session,
        unresolved_id=entry.id,
        data=exchange_service.ResolveIn(ignore=True),
        actor=CLERK,
    )
    assert ignored.status == "ignored"


def test_a_mapping_file_is_applied_whole_or_not_at_all(session: Session) -> None:
    a, b = _code("91370811"), _code("91370811")
    good = f"system,kind,code,external_code,external_name\nprovince,employer,{a},SD-{a},甲公司\n"
    report = exchange_service.import_entity_mappings(
        session,
        data=(good + f"province,employer,{b},SD-{b},乙公司\n").encode("gb18030"),
        actor=CLERK,
        source="file:units.csv",
    )
    assert (report.created, report.updated) == (2, 0)
    bad = good + f"province,colour,{b},X\nmars,employer,{b},Y\n"
    with pytest.raises(ValidationFailed) as refused:
        exchange_service.import_entity_mappings(
            session, data=bad.encode(), actor=CLERK, source="file:bad.csv"
        )
    assert {p.field for p in refused.value.fields} >= {"line 3.kind", "line 4.system"}
    again = exchange_service.import_entity_mappings(
        session, data=good.encode(), actor=CLERK, source="file:units.csv"
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
