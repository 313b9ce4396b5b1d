"""E-card use cases: signing, channel copies, following the card, resident sessions.

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
- Codes and their verification live in :mod:`sscard.ecard.codes.service`; they read the
  copy states and keys this module keeps.
- Usage rows and audit records about a person are written by :mod:`sscard.ecard.records`.
- Hot path caches (per process, bounded, in :mod:`sscard.ecard.caches`): derived copy keys
  (they never change for a version) and copy states for half a second, so a suspension is
  refused everywhere within a second; masked holder details for 30 seconds.
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import primitives
from sscard.crypto import service as crypto_service
from sscard.db import new_id, utcnow
from sscard.ecard import caches, realperson, records, repository, throttle
from sscard.ecard.errors import (
    ECardNotFound,
    EcardPinIncorrect,
    EcardPinLocked,
    ResidentSessionInvalid,
    SigningRefused,
)
from sscard.ecard.models import Copy, ECard, ResidentSession
from sscard.ecard.schemas import (
    CopyOut,
    CopyState,
    ECardOut,
    ResidentSessionOut,
    RevocationOut,
    RevocationPage,
    SignIn,
)
from sscard.errors import FieldProblem
from sscard.iam import passwords
from sscard.iam import service as iam_service
from sscard.issuance.cards import service as issuance_service
from sscard.kit import access, context
from sscard.kit.context import Actor, ActorKind
from sscard.registry.persons import events as registry_events
from sscard.registry.persons import service as registry_service
from sscard.registry.photos import service as registry_photos
from sscard.settings import get_settings

ROOT_KEY = "ecard-copy-root"
SIGN_KEY = "ecard-sign"
SESSION_PREFIX = "ser_"
SUSPENDED_CARD = {"temporarily_lost", "lost"}
FOLLOWED = SUSPENDED_CARD | {"active", "cancelled"}
BEFORE_ACTIVE = {
    "applied",
    "submitted",
    "making",
    "made",
    "failed",
    "in_transit",
    "at_distribution_point",
}

# ---- keys and cached copy states -----------------------------------------------------


def ensure_keys(session: Session) -> None:
    """The e-card root secret and the platform's signing key (created on first use)."""
    crypto_service.ensure_key(
        session, name=ROOT_KEY, kind="secret", description="电子社保卡副本密钥根"
    )
    crypto_service.ensure_key(
        session, name=SIGN_KEY, kind="sm2_sign", description="电子社保卡离线码与凭证签名"
    )


def copy_key(session: Session, copy_id: int, version: int) -> bytes:
    """The MAC key of one copy (derived once per process)."""

    def derive() -> bytes:
        context_bytes = b"ecard-copy:%d" % copy_id
        return crypto_service.derive_key(
            session, name=ROOT_KEY, context=context_bytes, version=version
        ).key

    return caches.COPY_KEYS.get_or_load((copy_id, version), derive)


def _load_state(session: Session, copy_id: int) -> CopyState | None:
    found = repository.copy_with_ecard(session, copy_id)
    if found is None:
        return None
    copy, ecard = found
    status = copy.status if copy.status != "active" else ecard.status
    return CopyState(
        copy.id,
        ecard.id,
        ecard.person_id,
        ecard.card_id,
        copy.holder_person_id,
        copy.proxy,
        status,
        copy.key_version,
    )


def copy_state(session: Session, copy_id: int) -> CopyState | None:
    """A copy's state, at most half a second old."""
    return caches.COPY_STATES.get_or_load(copy_id, lambda: _load_state(session, copy_id))


def forget_states() -> None:
    """Drop every per-process cache of the e-card (tests, or after restoring a database)."""
    caches.clear()


# ---- signing and copies --------------------------------------------------------------


def _refuse(message: str, field: str) -> SigningRefused:
    return SigningRefused(message, fields=[FieldProblem(field, message)])


def _real_name(session: Session, data: SignIn, card_person_id: str) -> None:
    person = registry_service.find_person(session, id_number=data.id_number)
    if person is None or person.id != card_person_id:
        raise _refuse("实名核验未通过：证件号码与卡号不符", "id_number")
    record = registry_service.current_record(session, person)
    if registry_service.canonical_name(data.name) != record.name:
        raise _refuse("实名核验未通过：姓名与证件号码不符", "name")


def _real_person(session: Session, data: SignIn, person_id: str, actor: Actor) -> None:
    method, encoded = data.real_person.method, data.real_person.image_base64
    image = base64.b64decode(encoded) if encoded else None
    photo = None
    if method != "counter":
        photo = registry_photos.photo_bytes(session, person_id=person_id)
    operator = actor.kind is ActorKind.operator and actor.can("ecard.sign")
    try:
        realperson.check(method, image=image, photo=photo, operator=operator)
    except realperson.RealPersonFailed as failed:
        raise _refuse(f"实人核验未通过：{failed}", "real_person") from failed


def _chosen_pin(data: SignIn, missing: str) -> str:
    """The e-card PIN the holder chose, checked (``missing`` says why it is needed)."""
    pin = data.ecard_pin.get_secret_value() if data.ecard_pin is not None else ""
    if not pin:
        raise _refuse(missing, "ecard_pin")
    _check_ecard_pin(pin)
    return pin


def _check_ecard_pin(pin: str) -> None:
    if not re.fullmatch(r"\d{6}", pin) or len(set(pin)) == 1 or pin in ("123456", "654321"):
        raise _refuse("电子社保卡密码应为 6 位数字，且不能过于简单", "ecard_pin")


def _new_ecard(session: Session, data: SignIn, card_id: str, person_id: str) -> ECard:
    pin = _chosen_pin(data, "首次签发电子社保卡，请持卡人设置电子社保卡密码")
    ensure_keys(session)
    now = utcnow()
    ecard = ECard(
        id=new_id(),
        card_id=card_id,
        person_id=person_id,
        status="active",
        signed_at=now,
        signed_channel=data.channel_code,
        real_person_method=data.real_person.method,
        pin_hash=passwords.hash_password(pin),
        pin_failures=0,
        updated_at=now,
    )
    return repository.add_ecard(session, ecard)


def sign(session: Session, *, data: SignIn, actor: Actor) -> tuple[ECard, Copy]:
    """Sign the e-card of an active card (or add a copy if it is signed already: the
    e-card keeps its PIN, which only the first signing sets)."""
    iam_service.get_channel(session, code=data.channel_code)
    card = issuance_service.card_by_number(session, card_number=data.card_number)
    if card is None or card.status != "active":
        raise _refuse("实卡核验未通过：社会保障卡不存在或不是正常状态", "card_number")
    _real_name(session, data, card.person_id)
    issuance_service.verify_pin(session, card=card, pin=data.card_pin.get_secret_value())
    _real_person(session, data, card.person_id, actor)
    ecard = repository.ecard_of_card(session, card.id)
    if ecard is None:
        ecard = _new_ecard(session, data, card.id, card.person_id)
    records.record(session, "ecard.sign", ecard.person_id, {"channel": data.channel_code})
    copy = add_copy(
        session, ecard=ecard, channel_code=data.channel_code, holder_person_id=ecard.person_id
    )
    return ecard, copy


def add_copy(
    session: Session,
    *,
    ecard: ECard,
    channel_code: str,
    holder_person_id: str,
    proxy: bool = False,
) -> Copy:
    """The copy of ``ecard`` held in ``channel_code`` by ``holder_person_id`` (idempotent)."""
    found = repository.copy_of(session, ecard.id, channel_code, holder_person_id)
    if found is not None:
        return found
    version = crypto_service.derive_key(session, name=ROOT_KEY, context=b"ecard-version").version
    now = utcnow()
    copy = Copy(
        ecard_id=ecard.id,
        channel_code=channel_code,
        holder_person_id=holder_person_id,
        proxy=proxy,
        status="active" if ecard.status == "active" else ecard.status,
        key_version=version,
        created_at=now,
        updated_at=now,
    )
    return repository.add_copy(session, copy)


def ecard_of_card(session: Session, *, card_id: str) -> ECard | None:
    """The e-card signed for the card ``card_id``, or None before its first signing."""
    return repository.ecard_of_card(session, card_id)


def get_ecard(session: Session, *, ecard_id: str) -> ECard | None:
    """The e-card ``ecard_id`` whatever its state, or None."""
    return repository.ecard(session, ecard_id)


def get_ecard_of_person(session: Session, *, person_id: str) -> ECard:
    """The person's current e-card (the newest not revoked), or ECardNotFound."""
    found = repository.current_ecard_of_person(session, person_id)
    if found is None:
        raise ECardNotFound()
    return found


def get_copy(session: Session, *, copy_id: int) -> Copy | None:
    """The copy ``copy_id``, or None."""
    return repository.copy(session, copy_id)


def copies_of(session: Session, *, ecard_id: str) -> list[Copy]:
    """The e-card's copies, oldest first."""
    return repository.copies_of(session, ecard_id)


def ecard_out(session: Session, ecard: ECard) -> ECardOut:
    """The e-card as its holder and a clerk see it (masked), with its copies."""
    id_masked, name_masked = registry_service.person_display(session, person_id=ecard.person_id)
    card = issuance_service.card_by_id(session, card_id=ecard.card_id)
    copies = [
        CopyOut(copy_id=c.id, channel_code=c.channel_code, status=c.status, proxy=c.proxy)
        for c in copies_of(session, ecard_id=ecard.id)
    ]
    return ECardOut(
        id=ecard.id,
        status=ecard.status,
        card_number=card.card_number,
        holder_name=name_masked,
        holder_id_number=id_masked,
        signed_at=ecard.signed_at,
        signed_channel=ecard.signed_channel,
        copies=copies,
    )


# ---- following the card --------------------------------------------------------------


def set_copy_status(session: Session, *, copy: Copy, status: str) -> None:
    """Change one copy's state and number the change for offline terminals."""
    now = utcnow()
    copy.status, copy.updated_at = status, now
    repository.add_revocation(session, copy_id=copy.id, status=status, at=now)
    caches.COPY_STATES.pop(copy.id)
    session.flush()


def _set_status(session: Session, ecard: ECard, status: str) -> None:
    if ecard.status == status or ecard.status == "revoked":
        return
    ecard.status, ecard.updated_at = status, utcnow()
    for copy in copies_of(session, ecard_id=ecard.id):
        if copy.status != "revoked":
            set_copy_status(session, copy=copy, status=status)
    session.flush()


def revoke_proxy_copies(session: Session, *, member_person_id: str, holder_person_id: str) -> None:
    """Revoke the proxy copies of the member's e-cards that ``holder_person_id`` holds."""
    for copy in repository.live_proxy_copies(session, member_person_id, holder_person_id):
        set_copy_status(session, copy=copy, status="revoked")
    session.flush()


def on_card_status_changed(session: Session, event: issuance_service.CardStatusChanged) -> None:
    """Copies follow the card: lost -> suspended, unlocked -> active, cancelled -> revoked."""
    if event.to_status not in FOLLOWED or event.from_status in BEFORE_ACTIVE:
        return  # making, shipping, issuing: no e-card can exist yet
    ecard = repository.ecard_of_card(session, event.card_id)
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
    for ecard in repository.ecards_of_person(session, event.person_id):
        _set_status(session, ecard, "revoked")


def revocations(session: Session, *, since: int = 0, limit: int = 1000) -> RevocationPage:
    """Copy state changes after ``since``, for terminals that verify offline."""
    rows = repository.revocations_after(session, since, limit)
    items = [
        RevocationOut(seq=r.seq, copy_id=r.copy_id, status=r.status, recorded_at=r.recorded_at)
        for r in rows
    ]
    return RevocationPage(items=items, next_since=rows[-1].seq if rows else since)


# ---- e-card PIN and resident sessions ------------------------------------------------


LOGIN_REFUSED = "证件号码或电子社保卡密码错误"
"""The one answer to every failed PIN login: unknown number, no e-card, wrong PIN."""


def verify_ecard_pin(session: Session, *, ecard: ECard, pin: str) -> None:
    """Check the e-card PIN (验密): wrong PINs count and lock it. A locked e-card is named
    only to whoever typed its right PIN; everyone else gets the one refusal."""
    limit = get_settings().ecard_max_pin_failures
    right = passwords.verify_password(ecard.pin_hash, pin)
    if ecard.pin_failures >= limit:
        if right:
            raise EcardPinLocked()
        raise EcardPinIncorrect(LOGIN_REFUSED)
    if right:
        ecard.pin_failures = 0
        return
    ecard_id = ecard.id

    def count(fresh: Session) -> None:
        target = repository.ecard(fresh, ecard_id)
        if target is not None:
            target.pin_failures += 1

    db.after_rollback(session, count)
    raise EcardPinIncorrect(LOGIN_REFUSED)


def person_by_pin(session: Session, *, id_number: str, pin: str) -> tuple[str, ECard]:
    """(the person, their e-card) whose e-card PIN this is. Tries are throttled per source
    and per ID number (``throttle``); every failure gets the same answer and costs the same
    work (an unknown number is checked against a dummy hash); wrong PINs count."""
    ensure_keys(session)
    tries = throttle.check(session, id_number=id_number)
    person = registry_service.find_person(session, id_number=id_number)
    ecard = None
    if person is not None:
        ecard = repository.current_ecard_of_person(session, person.id)
    try:
        if person is None or ecard is None:
            passwords.verify_password(None, pin)
            raise EcardPinIncorrect(LOGIN_REFUSED)
        verify_ecard_pin(session, ecard=ecard, pin=pin)
    except (EcardPinIncorrect, EcardPinLocked):
        throttle.failed(session, tries)
        raise
    return person.id, ecard


def reset_pin(session: Session, *, data: SignIn, actor: Actor) -> ECard:
    """Unlock the e-card with a new PIN after the checks of signing (real card with its
    PIN, real name, real person): the holder's way out of a lock."""
    card = issuance_service.card_by_number(session, card_number=data.card_number)
    if card is None or card.status != "active":
        raise _refuse("实卡核验未通过：社会保障卡不存在或不是正常状态", "card_number")
    _real_name(session, data, card.person_id)
    issuance_service.verify_pin(session, card=card, pin=data.card_pin.get_secret_value())
    _real_person(session, data, card.person_id, actor)
    ecard = repository.ecard_of_card(session, card.id)
    if ecard is None or ecard.status == "revoked":
        raise ECardNotFound()
    pin = _chosen_pin(data, "请设置新的电子社保卡密码")
    ecard.pin_hash = passwords.hash_password(pin)
    ecard.pin_failures, ecard.updated_at = 0, utcnow()
    records.record(session, "ecard.pin_reset", ecard.person_id, {"channel": data.channel_code})
    session.flush()
    return ecard


def _hash(token: str) -> str:
    return primitives.sm3(token.encode()).hex()


def login(
    session: Session, *, id_number: str, pin: str, channel_code: str
) -> tuple[str, ResidentSessionOut]:
    """A resident opens their e-card in a channel app (e-card PIN): a session token."""
    iam_service.get_channel(session, code=channel_code)
    with access.suppress_reads(session):  # my own login: nobody else read my data
        person_id, ecard = person_by_pin(session, id_number=id_number, pin=pin)
        name = records.holder_brief(session, person_id).name_masked
    raw = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    minutes = get_settings().ecard_session_minutes
    resident = ResidentSession(
        token_hash=_hash(raw),
        person_id=person_id,
        ecard_id=ecard.id,
        channel_code=channel_code,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    repository.add_session(session, resident)
    add_copy(session, ecard=ecard, channel_code=channel_code, holder_person_id=person_id)
    with context.acting(
        Actor(kind=ActorKind.resident, id=person_id, name=name), channel=channel_code
    ):
        records.record(session, "ecard.login", person_id, {"channel": channel_code})
    session.flush()
    return raw, ResidentSessionOut.model_validate(resident)


def is_resident_token(raw: str) -> bool:
    """Whether a bearer token is a resident's session token (by its prefix)."""
    return raw.startswith(SESSION_PREFIX)


def resolve_session(session: Session, *, raw: str) -> tuple[Actor, ResidentSessionOut]:
    """The resident behind a session token, or ResidentSessionInvalid."""
    found = repository.session_by_token(session, _hash(raw))
    if found is None or found.revoked_at is not None or found.expires_at <= utcnow():
        raise ResidentSessionInvalid()
    actor = Actor(
        kind=ActorKind.resident,
        id=found.person_id,
        name=records.holder_brief(session, found.person_id).name_masked,
        permissions=frozenset({"ecard.self"}),
    )
    return actor, ResidentSessionOut.model_validate(found)


def logout(session: Session, *, raw: str) -> None:
    """End a session: its token stops working at once."""
    found = repository.session_by_token(session, _hash(raw))
    if found is not None and found.revoked_at is None:
        found.revoked_at = utcnow()


def own_copy(session: Session, *, resident: ResidentSessionOut) -> Copy:
    """The copy of the resident's own e-card in the session's channel."""
    ecard = repository.ecard(session, resident.ecard_id)
    if ecard is None:
        raise ECardNotFound()
    return add_copy(
        session,
        ecard=ecard,
        channel_code=resident.channel_code,
        holder_person_id=resident.person_id,
    )
