"""Codes of the e-card: issuing a dynamic (or offline) code for a copy, and verifying a
scanned code once at a scenario.

Verification (:func:`verify_code`) checks the code's MAC, age and business type, the
copy's state, and claims the code once (Redis or the database), then discloses only what
the terminal's scenario may see. Every verification, accepted or refused, is audited and
recorded as a usage event. The copy states and keys come from the e-card core
(:mod:`sscard.ecard.service`); the scenario's disclosure and card numbers are cached in
:mod:`sscard.ecard.caches`.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from sscard.crypto import primitives
from sscard.crypto import service as crypto_service
from sscard.db import utcnow
from sscard.ecard import caches
from sscard.ecard import records as ecard_records
from sscard.ecard import service as ecard_service
from sscard.ecard.codes import qr
from sscard.ecard.codes.schemas import CodeOut, VerificationOut
from sscard.ecard.codes.verifier import CLOCK_SKEW, Refused, Verifier
from sscard.ecard.errors import (
    CardRevoked,
    CardSuspended,
    CodeAlreadyUsed,
    CodeExpired,
    CodeInvalid,
    ECardNotFound,
)
from sscard.ecard.models import Copy
from sscard.ecard.schemas import CopyState
from sscard.issuance.cards import service as issuance_service
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor
from sscard.kit.guard import get_guard
from sscard.registry.persons import service as registry_service
from sscard.scenarios import service as scenarios_service
from sscard.settings import get_settings

_REFUSALS: dict[str, type[Exception]] = {
    "code_invalid": CodeInvalid,
    "code_expired": CodeExpired,
    "card_suspended": CardSuspended,
    "card_revoked": CardRevoked,
}

# ---- issuing -------------------------------------------------------------------------


def _usable_copy(session: Session, copy: Copy) -> CopyState:
    state = ecard_service.copy_state(session, copy.id)
    if state is None:
        raise ECardNotFound()
    if state.status == "suspended":
        raise CardSuspended()
    if state.status == "revoked":
        raise CardRevoked()
    return state


def issue_code(session: Session, *, copy: Copy, business: int = 1) -> CodeOut:
    """A fresh dynamic code for the wallet (valid ``ecard_code_ttl_seconds``)."""
    state = _usable_copy(session, copy)
    ttl = get_settings().ecard_code_ttl_seconds
    issued = int(time.time())
    code = qr.OnlineCode(
        copy_id=copy.id,
        issued_at=issued,
        nonce=secrets.token_bytes(6),
        business=qr.Business(business),
        proxy=state.proxy,
        key_version=state.key_version,
    )
    key = ecard_service.copy_key(session, copy.id, state.key_version)
    text = qr.encode_online(code, lambda body: primitives.sm3_hmac(key, body))
    expires = datetime.fromtimestamp(issued + ttl, UTC)
    return CodeOut(
        code=text, copy_id=copy.id, business=business, expires_at=expires, ttl_seconds=ttl
    )


def offline_code(session: Session, *, copy: Copy, business: int = 1) -> str:
    """An offline code signed with the platform's SM2 key (for terminals without a network)."""
    state = _usable_copy(session, copy)
    minutes = get_settings().ecard_offline_minutes
    key = crypto_service.get_key(session, name=ecard_service.SIGN_KEY)
    version = next(v.version for v in key.versions if v.status == "active")
    code = qr.OfflineCode(
        copy_id=copy.id,
        issued_at=int(time.time()),
        valid_minutes=minutes,
        business=qr.Business(business),
        proxy=state.proxy,
        key_version=version,
    )
    signature = crypto_service.sign(
        session, name=ecard_service.SIGN_KEY, message=qr.offline_body(code)
    )
    return qr.encode_offline(code, qr.rs_from_der(signature.signature))


# ---- verification --------------------------------------------------------------------


def verifier(session: Session) -> Verifier:
    """The code check wired to the key store and the copy states of this database."""
    return Verifier(
        key_for=lambda copy_id, version: ecard_service.copy_key(session, copy_id, version),
        state_for=lambda copy_id: ecard_service.copy_state(session, copy_id),
        ttl=get_settings().ecard_code_ttl_seconds,
        clock=time.time,
    )


def _check(session: Session, text: str, business: int | None) -> tuple[qr.OnlineCode, CopyState]:
    try:
        return verifier(session).check(text, business)
    except Refused as refused:
        error = _REFUSALS[refused.reason]
        if refused.detail == "business type":
            raise CodeInvalid("二维码的业务类型与本次业务不符") from refused
        raise error() from refused


def _claim(session: Session, code: qr.OnlineCode) -> None:
    ttl = get_settings().ecard_code_ttl_seconds + CLOCK_SKEW
    if not get_guard(session, namespace="ecard").claim(code.use_key, ttl):
        raise CodeAlreadyUsed()


def verify_code(
    session: Session, *, text: str, business: int | None, scenario_code: str, actor: Actor
) -> VerificationOut:
    """Check a scanned code once and tell the terminal what its scenario may see."""
    attributes = scenario_disclosure(session, scenario_code)
    try:
        code, state = _check(session, text, business)
        if code.proxy and code.business is qr.Business.payment:
            raise CodeInvalid("亲情服务（代办）二维码不能用于支付")
        _claim(session, code)
    except (CodeInvalid, CodeExpired, CodeAlreadyUsed, CardSuspended, CardRevoked) as refused:
        _refused(session, text, scenario_code, refused.code, actor)
        raise
    holder = disclose(session, state=state, attributes=attributes)
    ecard_records.record_usage(
        session,
        ecard_id=state.ecard_id,
        copy_id=state.copy_id,
        kind="verify",
        business=int(code.business),
        scenario_code=scenario_code,
        actor_id=actor.id,
        outcome="accepted",
    )
    detail = {"scenario": scenario_code, "copy": state.copy_id}
    ecard_records.record(session, "ecard.verify", state.person_id, detail, fields=tuple(holder))
    return VerificationOut(
        valid=True,
        scenario=scenario_code,
        business=int(code.business),
        proxy=code.proxy,
        holder=holder,
        verified_at=utcnow(),
    )


def _refused(session: Session, text: str, scenario: str, outcome: str, actor: Actor) -> None:
    copy_id: int | None = None
    try:
        copy_id = qr.parse_online(text)[0].copy_id
    except qr.CodeInvalid:
        copy_id = None
    ecard_records.record_refused_usage(
        session, copy_id=copy_id, scenario_code=scenario, actor_id=actor.id, outcome=outcome
    )
    denied = AccessRecord(
        action="ecard.verify",
        outcome="denied",
        detail={"reason": outcome, "scenario": scenario},
    )
    access.record(session, denied, keep_on_failure=True)


# ---- what a scenario may see ---------------------------------------------------------


def scenario_disclosure(session: Session, code: str) -> list[str]:
    """What a scenario may see (cached for a few seconds per process)."""
    return caches.SCENARIO_DISCLOSURES.get_or_load(
        code, lambda: scenarios_service.disclosure_of(session, code=code)
    )


def _age_band(born: date) -> str:
    today = datetime.now(UTC).date()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < 18:
        return "未成年"
    return "老年（60岁及以上）" if age >= 60 else "成年"


def _card_number(session: Session, card_id: str) -> str | None:
    found = caches.CARD_NUMBERS.get(card_id)
    if found is None:
        found = issuance_service.card_by_id(session, card_id=card_id).card_number
        if found is None:
            return None
        caches.CARD_NUMBERS.put(card_id, found)
    return found


def _insurance(session: Session, person_id: str) -> list[str]:
    with access.suppress_reads(session):
        person = registry_service.get_person_by_id(session, person_id=person_id)
        view = registry_service.person_out(session, person)
    return [f"{e.insurance_type.name}:{e.status.name}" for e in view.enrolments]


def _clear(session: Session, person_id: str) -> tuple[str, str]:
    with access.suppress_reads(session):
        person = registry_service.get_person_by_id(session, person_id=person_id)
        clear = registry_service.reveal_fields(session, person)
    return clear.name, clear.id_number


def disclose(session: Session, *, state: CopyState, attributes: list[str]) -> dict[str, Any]:
    """The holder's attributes among ``attributes``, each computed only when asked for."""
    brief = ecard_records.holder_brief(session, state.person_id)
    values: dict[str, Any] = {}
    for name in attributes:
        if name == "name_masked":
            values[name] = brief.name_masked
        elif name == "id_number_masked":
            values[name] = brief.id_number_masked
        elif name == "gender":
            values[name] = registry_service.gender_name(brief.gender)
        elif name == "birth_date":
            values[name] = brief.birth_date.isoformat()
        elif name == "age_band":
            values[name] = _age_band(brief.birth_date)
        elif name == "card_number":
            values[name] = _card_number(session, state.card_id)
        elif name == "card_valid":
            values[name] = state.status == "active"
        elif name == "region":
            values[name] = registry_service.region_name(brief.residence_region_code)
        elif name == "insurance":
            values[name] = _insurance(session, state.person_id)
        elif name in ("name", "id_number"):
            values["name"], values["id_number"] = _clear(session, state.person_id)
    return {a: values[a] for a in attributes if a in values}
