"""Online services against a real database: my insurance, the honest placeholders, and who
accessed my data (from the audit chain)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session
from tests.integration.ecard.test_online_support import (
    TERMINAL,
    Holder,
    app_channel,
    holder,
    signer,
)

from sscard.ecard import online
from sscard.ecard.codes import service as codes_service
from sscard.iam import service as iam_service
from sscard.kit import context
from sscard.kit.context import Actor, ActorKind

__all__ = ["app_channel", "holder", "signer"]


def test_my_insurance_comes_from_the_registry(
    session: Session, holder: Callable[..., Holder]
) -> None:
    who = holder()
    mine = online.my_insurance(session, person_id=who.person_id)
    assert mine.source == "持卡人基础信息库"
    assert isinstance(mine.items, list)
    for item in mine.items:
        assert item.insurance_type and item.status and item.start_date


def test_parts_from_later_components_say_plainly_there_is_no_data() -> None:
    for topic in ("benefits", "rights", "contributions"):
        answer = online.not_yet(topic)
        assert answer.available is False and answer.topic == topic
        assert "暂无数据" in answer.message and "尚未接入" in answer.message


def test_the_access_log_shows_who_read_my_data_and_leaves_out_my_own_acts(
    session: Session, holder: Callable[..., Holder]
) -> None:
    who = holder()
    code = codes_service.issue_code(session, copy=who.copy, business=1)
    with context.acting(TERMINAL):
        codes_service.verify_code(
            session, text=code.code, business=1, scenario_code="library", actor=TERMINAL
        )
    me = Actor(kind=ActorKind.resident, id=who.person_id, name="测***")
    with context.acting(me):
        online.my_insurance(session, person_id=who.person_id)
    session.commit()
    log = online.access_log(session, person_id=who.person_id, page_size=50)
    verified = [e for e in log.items if e.action == "ecard.verify"]
    assert len(verified) == 1
    entry = verified[0]
    assert (entry.actor_kind_name, entry.actor_name, entry.action_name) == (
        "受理终端",
        "图书馆闸机",
        "扫码核验电子社保卡",
    )
    platform = iam_service.ensure_platform_institution(session)
    assert (entry.institution_code, entry.institution_name) == ("PLATFORM", platform.name)
    assert "姓名（脱敏）" in entry.field_names and "name_masked" in entry.fields
    assert all(e.actor_name != "测***" or e.actor_kind != "resident" for e in log.items)
    assert log.total == len(log.items)
    with_mine = online.access_log(session, person_id=who.person_id, include_self=True)
    assert "ecard.insurance" in {e.action for e in with_mine.items}
    assert with_mine.total > log.total
    newest_first = [e.occurred_at for e in with_mine.items]
    assert newest_first == sorted(newest_first, reverse=True)
    page = online.access_log(
        session, person_id=who.person_id, page=2, page_size=1, include_self=True
    )
    assert len(page.items) == 1 and page.items[0] == with_mine.items[1]


def test_every_action_has_a_name_a_resident_understands() -> None:
    assert online.action_name("ecard.oauth.userinfo") == "第三方应用读取授权信息"
    assert online.action_name("something.new") == "其他操作（something.new）"
