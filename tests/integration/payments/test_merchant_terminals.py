import secrets

import pytest
from sqlalchemy.orm import Session
from tests.integration.payments.test_merchants import CITY, OTHER_DISTRICT, body, institution  # noqa: F401

from sscard.errors import ValidationFailed
from sscard.payments.merchants import service, terminal_service
from sscard.payments.merchants.errors import (
    MerchantNotFound,
    MerchantStatusConflict,
    TerminalLinkedElsewhere,
    TerminalNotLinked,
)
from sscard.scenarios import service as scenarios
from sscard.scenarios.schemas import TerminalIn


@pytest.fixture
def terminal(session: Session, institution: str) -> str:  # noqa: F811
    scenarios.ensure_default_scenarios(session)
    code = f"POS{secrets.token_hex(3).upper()}"
    scenarios.register_terminal(
        session,
        data=TerminalIn(
            code=code, name="药房收银台", institution_code=institution, scenario_code="library"
        ),
    )
    return code


def test_a_terminal_linked_to_a_merchant_is_listed_with_its_scenario_and_linking_twice_is_one_link(
    session: Session,
    institution: str,  # noqa: F811
    terminal: str,
) -> None:
    merchant = service.create_merchant(session, data=body(institution), actor=CITY)
    ref = {"merchant_id": merchant.id, "actor": CITY}
    linked = terminal_service.link_terminal(session, terminal_code=terminal, **ref)
    assert (linked.terminal_code, linked.name, linked.scenario_code) == (
        terminal,
        "药房收银台",
        "library",
    )
    terminal_service.link_terminal(session, terminal_code=terminal, **ref)
    listed = terminal_service.merchant_terminals(session, **ref)
    assert [t.terminal_code for t in listed] == [terminal]
    terminal_service.unlink_terminal(session, terminal_code=terminal, **ref)
    assert terminal_service.merchant_terminals(session, **ref) == []
    with pytest.raises(TerminalNotLinked):
        terminal_service.unlink_terminal(session, terminal_code=terminal, **ref)


def test_a_terminal_serves_one_merchant_and_must_be_registered(
    session: Session,
    institution: str,  # noqa: F811
    terminal: str,
) -> None:
    first = service.create_merchant(session, data=body(institution), actor=CITY)
    second = service.create_merchant(session, data=body(institution), actor=CITY)
    terminal_service.link_terminal(
        session, merchant_id=first.id, terminal_code=terminal, actor=CITY
    )
    with pytest.raises(TerminalLinkedElsewhere):
        terminal_service.link_terminal(
            session, merchant_id=second.id, terminal_code=terminal, actor=CITY
        )
    with pytest.raises(ValidationFailed) as refused:
        terminal_service.link_terminal(
            session, merchant_id=second.id, terminal_code="NO-SUCH-POS", actor=CITY
        )
    assert refused.value.fields[0].field == "terminal_code"


def test_a_closed_merchant_takes_no_terminal_and_another_district_sees_none(
    session: Session,
    institution: str,  # noqa: F811
    terminal: str,
) -> None:
    merchant = service.create_merchant(session, data=body(institution), actor=CITY)
    with pytest.raises(MerchantNotFound):
        terminal_service.merchant_terminals(session, merchant_id=merchant.id, actor=OTHER_DISTRICT)
    service.close_merchant(session, merchant_id=merchant.id, actor=CITY)
    with pytest.raises(MerchantStatusConflict, match="已关闭"):
        terminal_service.link_terminal(
            session, merchant_id=merchant.id, terminal_code=terminal, actor=CITY
        )
