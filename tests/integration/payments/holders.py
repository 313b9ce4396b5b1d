"""Committed cardholders with a live e-card, and a merchant with a terminal, for tests that
need real transactions (claims under concurrency, PIN tries counted after a rollback)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from tests.integration.cards import signed
from tests.integration.payments.test_merchants import CITY, body
from tests.support import citizen_id, person_body

from sscard import db
from sscard.iam import service as iam_service
from sscard.iam.catalog import ChannelType, InstitutionType
from sscard.iam.schemas import ChannelCreate, InstitutionCreate
from sscard.issuance.cards import number_service
from sscard.issuance.cards.schemas import RangeIn
from sscard.kit.context import SYSTEM, Actor, ActorKind, acting
from sscard.payments.merchants import service as merchants_service
from sscard.payments.merchants import terminal_service
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos
from sscard.scenarios import service as scenarios
from sscard.scenarios.schemas import TerminalIn

ECARD_PIN = "246810"
CLERK = Actor(
    kind=ActorKind.operator,
    id="pay-clerk",
    name="卡管柜员",
    institution_code="PLATFORM",
    institution_type="hrss_bureau",
    region_code="370800",
    permissions=frozenset(
        {"registry.read", "registry.write", "issuance.read", "issuance.apply", "issuance.manage",
         "issuance.batch", "issuance.ranges", "ecard.sign"}
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Holder:
    id_number: str
    person_id: str
    card_id: str
    card_number: str
    ecard_id: str
    channel: str
    bank: str


@dataclass(frozen=True)
class Shop:
    code: str
    merchant_id: int
    terminal: str
    institution: str


def holder() -> Holder:
    """A committed person whose card is active with an e-card signed (PIN ``ECARD_PIN``)."""
    tag = secrets.token_hex(3).upper()
    with acting(SYSTEM), db.transaction() as session:
        platform = iam_service.ensure_platform_institution(session).code
        bank = f"BK{tag}"
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=bank, name="付款测试银行", type=InstitutionType.bank, region_code="370800"
            ),
        )
        channel = f"CH{tag}"
        iam_service.create_channel(
            session,
            data=ChannelCreate(
                code=channel,
                name="付款测试APP",
                type=ChannelType.hrss_app,
                owner_institution_code=platform,
            ),
        )
        number_service.add_range(
            session, data=RangeIn(region_code="370800", prefix=f"P{tag[:3]}", start=1, end=99)
        )
        scenarios.ensure_default_scenarios(session)
        id_number = citizen_id()
        registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(id_number)), actor=SYSTEM
        )
        registry_photos.put_photo(
            session, id_number=id_number, data=portraits.demo_portrait(2), actor=SYSTEM
        )
        card, ecard, _copy = signed(session, CLERK, bank, id_number, channel)
        return Holder(
            id_number, card.person_id, card.id, card.card_number or "", ecard.id, channel, bank
        )


def shop(mcc: str = "5912") -> Shop:
    """A committed active merchant in 任城区 with one linked terminal."""
    tag = secrets.token_hex(3).upper()
    with acting(SYSTEM), db.transaction() as session:
        institution = f"MI{tag}"
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=institution, name="收单机构", type=InstitutionType.merchant,
                region_code="370811",
            ),
        )  # fmt: skip
        scenarios.ensure_default_scenarios(session)
        merchant = merchants_service.create_merchant(
            session, data=body(institution, mcc=mcc), actor=CITY
        )
        terminal = f"POS{tag}"
        scenarios.register_terminal(
            session,
            data=TerminalIn(
                code=terminal, name="收银台", institution_code=institution, scenario_code="library"
            ),
        )
        terminal_service.link_terminal(
            session, merchant_id=merchant.id, terminal_code=terminal, actor=CITY
        )
        return Shop(merchant.code, merchant.id, terminal, institution)
