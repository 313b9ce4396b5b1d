"""E-card use cases: signing, channel copies, codes, verification, sessions, revocations.

Design overview
===============
- One e-card per physical card, signed when the card is active and the holder passes
  real-name (name, ID number and card number agree), real-card (the card PIN) and
  real-person checks (``realperson``). Each channel app gets a copy with its own number;
  a copy's MAC key is derived from the key store's ``ecard-copy-root`` secret and the
  copy number, so no per-copy key is stored.
- Copies follow the card: ``CardStatusChanged`` from the issuance component suspends them
  (card lost), restores them (unlocked) or revokes them (cancelled), in the same unit of
  work, and every change is numbered in the revocation list offline terminals follow.
- Verification (:func:`verify_code`) checks the code's MAC, age and business type, the
  copy's state, and claims the code once (Redis or the database), then discloses only
  what the terminal's scenario may see. Every verification, accepted or refused, is
  audited and recorded as a usage event.
- Hot path caches (per process): derived copy keys (they never change for a version) and
  copy states for half a second, so a suspension is refused everywhere within a second.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import primitives
from sscard.crypto import service as crypto_service
from sscard.db import new_id, utcnow
from sscard.ecard import qr, realperson
from sscard.ecard.errors import (
    CardRevoked,
    CardSuspended,
    CodeAlreadyUsed,
    CodeExpired,
    CodeInvalid,
    ECardNotFound,
    EcardPinIncorrect,
    EcardPinLocked,
    ResidentSessionInvalid,
    SigningRefused,
)
from sscard.ecard.models import Copy, ECard, ResidentSession, Revocation, Usage
from sscard.ecard.schemas import (
    CodeOut,
    CopyOut,
    ECardOut,
    RevocationOut,
    RevocationPage,
    SignIn,
    VerificationOut,
)
from sscard.ecard.verifier import CLOCK_SKEW, CopyState, Refused, Verifier
from sscard.iam import passwords
from sscard.iam import service as iam_service
from sscard.issuance.cards import service as issuance_service
from sscard.kit import access, context, events
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor, ActorKind
from sscard.kit.guard import get_guard
from sscard.registry.persons import events as registry_events
from sscard.registry.persons import service as registry_service
from sscard.registry.photos import service as registry_photos
from sscard.scenarios import service as scenarios_service
from sscard.settings import get_settings

ROOT_KEY = "ecard-copy-root"
USAGE = cast(Table, Usage.__table__)
SIGN_KEY = "ecard-sign"
SESSION_PREFIX = "ser_"
STATE_SECONDS = 0.5
SUSPENDED_CARD = {"temporarily_lost", "lost"}
FOLLOWED = SUSPENDED_CARD | {"active", "cancelled"}
BEFORE_ACTIVE = {"applied", "submitted", "making", "made", "failed", "in_transit",
                 "at_distribution_point"}  # fmt: skip

# ---- keys and cached copy states -----------------------------------------------------

_keys: dict[tuple[int, int], bytes] = {}
_states: dict[int, tuple[float, CopyState | None]] = {}
_lock = threading.Lock()


def ensure_keys(session: Session) -> None:
    """The e-card root secret and the platform's signing key (created on first use)."""
    crypto_service.ensure_key(session, name=ROOT_KEY, kind="secret",
                              description="电子社保卡副本密钥根")  # fmt: skip
    crypto_service.ensure_key(session, name=SIGN_KEY, kind="sm2_sign",
                              description="电子社保卡离线码与凭证签名")  # fmt: skip


def copy_key(session: Session, copy_id: int, version: int) -> bytes:
    """The MAC key of one copy (derived once per process)."""
    found = _keys.get((copy_id, version))
    if found is None:
        derived = crypto_service.derive_key(
            session, name=ROOT_KEY, context=b"ecard-copy:%d" % copy_id, version=version
        )
        found = derived.key
        with _lock:
            _keys[(copy_id, version)] = found
    return found


def _load_state(session: Session, copy_id: int) -> CopyState | None:
    row = session.execute(
        select(Copy, ECard).join(ECard, ECard.id == Copy.ecard_id).where(Copy.id == copy_id)
    ).first()
    if row is None:
        return None
    copy, ecard = row
    status = copy.status if copy.status != "active" else ecard.status
    return CopyState(copy.id, ecard.id, ecard.person_id, ecard.card_id, copy.holder_person_id,
                     copy.proxy, status, copy.key_version)  # fmt: skip


def copy_state(session: Session, copy_id: int) -> CopyState | None:
    """A copy's state, at most half a second old."""
    now = time.monotonic()
    hit = _states.get(copy_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    state = _load_state(session, copy_id)
    with _lock:
        _states[copy_id] = (now + STATE_SECONDS, state)
    return state


def forget_states() -> None:
    """Drop every per-process cache of this module (tests, or after restoring a database)."""
    with _lock:
        _states.clear()
        _keys.clear()
        _briefs.clear()
        _card_numbers.clear()
        _scenarios.clear()


# ---- signing and copies --------------------------------------------------------------


def _refuse(message: str, field: str) -> SigningRefused:
    from sscard.errors import FieldProblem

    return SigningRefused(message, fields=[FieldProblem(field, message)])


def _real_name(session: Session, data: SignIn, card_person_id: str) -> None:
    person = registry_service.find_person(session, id_number=data.id_number)
    if person is None or person.id != card_person_id:
        raise _refuse("实名核验未通过：证件号码与卡号不符", "id_number")
    record = registry_service.current_record(session, person)
    if registry_service.canonical_name(data.name) != record.name:
        raise _refuse("实名核验未通过：姓名与证件号码不符", "name")


def _real_person(session: Session, data: SignIn, person_id: str, actor: Actor) -> None:
    import base64

    image = (
        base64.b64decode(data.real_person.image_base64) if data.real_person.image_base64 else None
    )
    photo = None
    if data.real_person.method != "counter":
        photo = registry_photos.photo_bytes(session, person_id=person_id)
    operator = actor.kind is ActorKind.operator and actor.can("ecard.sign")
    try:
        realperson.check(data.real_person.method, image=image, photo=photo, operator=operator)
    except realperson.RealPersonFailed as failed:
        raise _refuse(f"实人核验未通过：{failed}", "real_person") from failed


def _check_ecard_pin(pin: str) -> None:
    import re

    if not re.fullmatch(r"\d{6}", pin) or len(set(pin)) == 1 or pin in ("123456", "654321"):
        raise _refuse("电子社保卡密码应为 6 位数字，且不能过于简单", "ecard_pin")


def sign(session: Session, *, data: SignIn, actor: Actor) -> tuple[ECard, Copy]:
    """Sign the e-card of an active card (or add a copy if it is signed already)."""
    iam_service.get_channel(session, code=data.channel_code)
    card = issuance_service.card_by_number(session, card_number=data.card_number)
    if card is None or card.status != "active":
        raise _refuse("实卡核验未通过：社会保障卡不存在或不是正常状态", "card_number")
    _real_name(session, data, card.person_id)
    issuance_service.verify_pin(session, card=card, pin=data.card_pin.get_secret_value())
    _real_person(session, data, card.person_id, actor)
    ecard = session.scalars(select(ECard).where(ECard.card_id == card.id)).first()
    if ecard is None:
        _check_ecard_pin(data.ecard_pin.get_secret_value())
        ensure_keys(session)
        now = utcnow()
        ecard = ECard(
            id=new_id(), card_id=card.id, person_id=card.person_id, status="active",
            signed_at=now, signed_channel=data.channel_code,
            real_person_method=data.real_person.method,
            pin_hash=passwords.hash_password(data.ecard_pin.get_secret_value()),
            pin_failures=0, updated_at=now,
        )  # fmt: skip
        session.add(ecard)
        session.flush()
    _record(session, "ecard.sign", ecard.person_id, {"channel": data.channel_code})
    return ecard, add_copy(session, ecard=ecard, channel_code=data.channel_code,
                           holder_person_id=ecard.person_id)  # fmt: skip


def add_copy(
    session: Session, *, ecard: ECard, channel_code: str, holder_person_id: str,
    proxy: bool = False,
) -> Copy:  # fmt: skip
    """The copy of ``ecard`` held in ``channel_code`` by ``holder_person_id`` (idempotent)."""
    found = session.scalars(
        select(Copy).where(
            Copy.ecard_id == ecard.id, Copy.channel_code == channel_code,
            Copy.holder_person_id == holder_person_id,
        )
    ).first()  # fmt: skip
    if found is not None:
        return found
    version = crypto_service.derive_key(session, name=ROOT_KEY, context=b"ecard-version").version
    now = utcnow()
    copy = Copy(
        ecard_id=ecard.id, channel_code=channel_code, holder_person_id=holder_person_id,
        proxy=proxy, status="active" if ecard.status == "active" else ecard.status,
        key_version=version, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(copy)
    session.flush()
    return copy


def get_ecard_of_person(session: Session, *, person_id: str) -> ECard:
    """The person's current e-card (the newest not revoked), or ECardNotFound."""
    stmt = (
        select(ECard)
        .where(ECard.person_id == person_id, ECard.status != "revoked")
        .order_by(ECard.signed_at.desc())
    )
    found = session.scalars(stmt).first()
    if found is None:
        raise ECardNotFound()
    return found


def copies_of(session: Session, *, ecard_id: str) -> list[Copy]:
    return list(session.scalars(select(Copy).where(Copy.ecard_id == ecard_id).order_by(Copy.id)))


def ecard_out(session: Session, ecard: ECard) -> ECardOut:
    id_masked, name_masked = registry_service.person_display(session, person_id=ecard.person_id)
    card = issuance_service.card_by_id(session, card_id=ecard.card_id)
    return ECardOut(
        id=ecard.id, status=ecard.status, card_number=card.card_number,
        holder_name=name_masked, holder_id_number=id_masked, signed_at=ecard.signed_at,
        signed_channel=ecard.signed_channel,
        copies=[CopyOut(copy_id=c.id, channel_code=c.channel_code, status=c.status, proxy=c.proxy)
                for c in copies_of(session, ecard_id=ecard.id)],
    )  # fmt: skip


# ---- following the card --------------------------------------------------------------


def _set_status(session: Session, ecard: ECard, status: str) -> None:
    if ecard.status == status or ecard.status == "revoked":
        return
    ecard.status, ecard.updated_at = status, utcnow()
    now = utcnow()
    for copy in copies_of(session, ecard_id=ecard.id):
        if copy.status != "revoked":
            copy.status, copy.updated_at = status, now
            session.add(Revocation(copy_id=copy.id, status=status, recorded_at=now))
            with _lock:
                _states.pop(copy.id, None)
    session.flush()


def on_card_status_changed(session: Session, event: issuance_service.CardStatusChanged) -> None:
    """Copies follow the card: lost -> suspended, unlocked -> active, cancelled -> revoked."""
    if event.to_status not in FOLLOWED or event.from_status in BEFORE_ACTIVE:
        return  # making, shipping, issuing: no e-card can exist yet
    ecard = session.scalars(select(ECard).where(ECard.card_id == event.card_id)).first()
    if ecard is None:
        return
    if event.to_status in SUSPENDED_CARD:
        _set_status(session, ecard, "suspended")
    elif event.to_status == "active":
        _set_status(session, ecard, "active")
    elif event.to_status == "cancelled":
        _set_status(session, ecard, "revoked")


def on_person_deceased(session: Session, event: registry_events.PersonDeceased) -> None:
    """A deceased person's e-cards are revoked."""
    for ecard in session.scalars(select(ECard).where(ECard.person_id == event.person_id)):
        _set_status(session, ecard, "revoked")


def revocations(session: Session, *, since: int = 0, limit: int = 1000) -> RevocationPage:
    """Copy state changes after ``since``, for terminals that verify offline."""
    rows = list(
        session.scalars(
            select(Revocation).where(Revocation.seq > since).order_by(Revocation.seq).limit(limit)
        )
    )
    items = [RevocationOut(seq=r.seq, copy_id=r.copy_id, status=r.status,
                           recorded_at=r.recorded_at) for r in rows]  # fmt: skip
    return RevocationPage(items=items, next_since=rows[-1].seq if rows else since)


# ---- codes ---------------------------------------------------------------------------


def _usable_copy(session: Session, copy: Copy) -> CopyState:
    state = copy_state(session, copy.id)
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
        copy_id=copy.id, issued_at=issued, nonce=secrets.token_bytes(6),
        business=qr.Business(business), proxy=state.proxy, key_version=state.key_version,
    )  # fmt: skip
    key = copy_key(session, copy.id, state.key_version)
    text = qr.encode_online(code, lambda body: primitives.sm3_hmac(key, body))
    expires = datetime.fromtimestamp(issued + ttl, UTC)
    return CodeOut(code=text, copy_id=copy.id, business=business, expires_at=expires,
                   ttl_seconds=ttl)  # fmt: skip


def offline_code(session: Session, *, copy: Copy, business: int = 1) -> str:
    """An offline code signed with the platform's SM2 key (for terminals without a network)."""
    state = _usable_copy(session, copy)
    minutes = get_settings().ecard_offline_minutes
    key = crypto_service.get_key(session, name=SIGN_KEY)
    version = next(v.version for v in key.versions if v.status == "active")
    code = qr.OfflineCode(
        copy_id=copy.id, issued_at=int(time.time()), valid_minutes=minutes,
        business=qr.Business(business), proxy=state.proxy, key_version=version,
    )  # fmt: skip
    signature = crypto_service.sign(session, name=SIGN_KEY, message=qr.offline_body(code))
    return qr.encode_offline(code, qr.rs_from_der(signature.signature))


# ---- verification --------------------------------------------------------------------


_REFUSALS: dict[str, type[Exception]] = {
    "code_invalid": CodeInvalid,
    "code_expired": CodeExpired,
    "card_suspended": CardSuspended,
    "card_revoked": CardRevoked,
}


def verifier(session: Session) -> Verifier:
    """The code check wired to the key store and the copy states of this database."""
    return Verifier(
        key_for=lambda copy_id, version: copy_key(session, copy_id, version),
        state_for=lambda copy_id: copy_state(session, copy_id),
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
    _usage(session, state, "verify", int(code.business), scenario_code, "accepted", actor)
    _record(session, "ecard.verify", state.person_id,
            {"scenario": scenario_code, "copy": state.copy_id}, fields=tuple(holder))  # fmt: skip
    return VerificationOut(valid=True, scenario=scenario_code, business=int(code.business),
                           proxy=code.proxy, holder=holder, verified_at=utcnow())  # fmt: skip


def _refused(session: Session, text: str, scenario: str, outcome: str, actor: Actor) -> None:
    copy_id: int | None = None
    try:
        copy_id = qr.parse_online(text)[0].copy_id
    except qr.CodeInvalid:
        copy_id = None
    usage = Usage(ecard_id=None, copy_id=copy_id, kind="verify", business=None,
                  scenario_code=scenario, actor_id=actor.id, outcome=outcome,
                  occurred_at=utcnow())  # fmt: skip
    values = {c: getattr(usage, c) for c in ("copy_id", "kind", "scenario_code", "actor_id",
                                             "outcome", "occurred_at")}  # fmt: skip
    db.after_rollback(session, lambda fresh: fresh.add(Usage(**values)))
    access.record(
        session,
        AccessRecord(action="ecard.verify", outcome="denied",
                     detail={"reason": outcome, "scenario": scenario}),
        keep_on_failure=True,
    )  # fmt: skip


def _usage(
    session: Session,
    state: CopyState,
    kind: str,
    business: int | None,
    scenario: str | None,
    outcome: str,
    actor: Actor,
) -> None:
    session.connection().execute(
        insert(USAGE).values(
            ecard_id=state.ecard_id, copy_id=state.copy_id, kind=kind, business=business,
            scenario_code=scenario, actor_id=actor.id, outcome=outcome, occurred_at=utcnow(),
        )
    )  # fmt: skip


def _age_band(born: Any) -> str:
    today = datetime.now(UTC).date()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < 18:
        return "未成年"
    return "老年（60岁及以上）" if age >= 60 else "成年"


_briefs: dict[str, tuple[float, registry_service.HolderBrief]] = {}
_card_numbers: dict[str, str | None] = {}
_scenarios: dict[str, tuple[float, list[str]]] = {}
BRIEF_SECONDS = 30.0


def _brief(session: Session, person_id: str) -> registry_service.HolderBrief:
    now = time.monotonic()
    hit = _briefs.get(person_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    found = registry_service.holder_brief(session, person_id=person_id)
    with _lock:
        _briefs[person_id] = (now + BRIEF_SECONDS, found)
    return found


def _card_number(session: Session, card_id: str) -> str | None:
    if card_id not in _card_numbers:
        number = issuance_service.card_by_id(session, card_id=card_id).card_number
        if number is None:
            return None
        _card_numbers[card_id] = number
    return _card_numbers[card_id]


def scenario_disclosure(session: Session, code: str) -> list[str]:
    """What a scenario may see (cached for a few seconds per process)."""
    now = time.monotonic()
    hit = _scenarios.get(code)
    if hit is not None and hit[0] > now:
        return hit[1]
    disclosure = list(scenarios_service.get_scenario(session, code=code).disclosure)
    with _lock:
        _scenarios[code] = (now + 5.0, disclosure)
    return disclosure


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
    brief = _brief(session, state.person_id)
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


def _record(
    session: Session, action: str, person_id: str, detail: dict[str, Any],
    fields: tuple[str, ...] = (),
) -> None:  # fmt: skip
    display = _brief(session, person_id).id_number_masked
    record = AccessRecord(
        action=action, subject_type="person", subject_id=person_id, subject_display=display,
        fields=fields, detail=detail,
    )  # fmt: skip
    access.record(session, record)


# ---- e-card PIN and resident sessions ------------------------------------------------


def verify_ecard_pin(session: Session, *, ecard: ECard, pin: str) -> None:
    """Check the e-card PIN (验密): wrong PINs count and lock it."""
    limit = get_settings().ecard_max_pin_failures
    if ecard.pin_failures >= limit:
        raise EcardPinLocked()
    if passwords.verify_password(ecard.pin_hash, pin):
        ecard.pin_failures = 0
        return
    ecard_id = ecard.id

    def count(fresh: Session) -> None:
        target = fresh.get(ECard, ecard_id)
        if target is not None:
            target.pin_failures += 1

    db.after_rollback(session, count)
    left = limit - ecard.pin_failures - 1
    if left <= 0:
        raise EcardPinLocked()
    raise EcardPinIncorrect(f"电子社保卡密码错误，还可尝试 {left} 次")


def _hash(token: str) -> str:
    return primitives.sm3(token.encode()).hex()


def login(
    session: Session, *, id_number: str, pin: str, channel_code: str
) -> tuple[str, ResidentSession]:
    """A resident opens their e-card in a channel app (e-card PIN): a session token."""
    iam_service.get_channel(session, code=channel_code)
    person = registry_service.find_person(session, id_number=id_number)
    if person is None:
        raise EcardPinIncorrect("证件号码或电子社保卡密码错误")
    ecard = get_ecard_of_person(session, person_id=person.id)
    verify_ecard_pin(session, ecard=ecard, pin=pin)
    raw = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    minutes = get_settings().ecard_session_minutes
    record = ResidentSession(token_hash=_hash(raw), person_id=person.id, ecard_id=ecard.id,
                             channel_code=channel_code, created_at=now,
                             expires_at=now + timedelta(minutes=minutes))  # fmt: skip
    session.add(record)
    add_copy(session, ecard=ecard, channel_code=channel_code, holder_person_id=person.id)
    resident = Actor(
        kind=ActorKind.resident, id=person.id, name=_brief(session, person.id).name_masked
    )
    with context.acting(resident, channel=channel_code):
        _record(session, "ecard.login", person.id, {"channel": channel_code})
    session.flush()
    return raw, record


def is_resident_token(raw: str) -> bool:
    return raw.startswith(SESSION_PREFIX)


def resolve_session(session: Session, *, raw: str) -> tuple[Actor, ResidentSession]:
    """The resident behind a session token, or ResidentSessionInvalid."""
    record = session.scalars(
        select(ResidentSession).where(ResidentSession.token_hash == _hash(raw))
    ).first()
    if record is None or record.revoked_at is not None or record.expires_at <= utcnow():
        raise ResidentSessionInvalid()
    name_masked = _brief(session, record.person_id).name_masked
    actor = Actor(kind=ActorKind.resident, id=record.person_id, name=name_masked,
                  permissions=frozenset({"ecard.self"}))  # fmt: skip
    return actor, record


def logout(session: Session, *, raw: str) -> None:
    record = session.scalars(
        select(ResidentSession).where(ResidentSession.token_hash == _hash(raw))
    ).first()
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()


def own_copy(session: Session, *, resident: ResidentSession) -> Copy:
    """The copy of the resident's own e-card in the session's channel."""
    ecard = session.get(ECard, resident.ecard_id)
    if ecard is None:
        raise ECardNotFound()
    return add_copy(session, ecard=ecard, channel_code=resident.channel_code,
                    holder_person_id=resident.person_id)  # fmt: skip


def register_subscribers() -> None:
    """Copies follow their card, and a deceased person's e-cards are revoked."""
    events.subscribe(issuance_service.CardStatusChanged, on_card_status_changed)
    events.subscribe(registry_events.PersonDeceased, on_person_deceased)
