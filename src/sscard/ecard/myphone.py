"""Changing my phone number online (手机号变更) with the e-card session.

The new number is confirmed by a one-time code sent to the OLD number, so someone holding an
unlocked phone with the wallet open cannot move the holder's messages elsewhere. The
platform has no SMS gateway of its own: the code travels as a message in the outbox
(destination ``sms``, addressed by person, carrying only the masked old number and the
text); a gateway adapter registers that destination to deliver it. The code is stored only
as a hash of the code with the new number, lives ``CODE_MINUTES`` minutes, allows
``MAX_ATTEMPTS`` wrong tries (wrong tries count even though the request fails), and at most
``CODES_PER_HOUR`` codes are sent a person an hour. Without the old phone, or without a
number on record, the holder is told to change it at a service counter with the ID card.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.ecard import records, repository
from sscard.ecard.models import PhoneChange
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.iam import passwords
from sscard.kit import access, outbox
from sscard.kit.context import Actor
from sscard.kit.guard import get_guard
from sscard.kit.masking import mask_phone
from sscard.registry import identifiers
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonUpdate
from sscard.settings import get_settings

SMS = "sms"
"""The outbox destination of text messages to a person's phone."""
CODE_MINUTES = 5
MAX_ATTEMPTS = 5
CODES_PER_HOUR = 5
AT_COUNTER = "请携带居民身份证到社保服务窗口办理手机号变更"


@dataclass(frozen=True, slots=True)
class CodeSent:
    change_id: int
    old_phone_masked: str
    expires_at: datetime


def _refuse(field: str, reason: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem(field, reason)], reason)


def _numbers(session: Session, person_id: str, new_phone: str) -> tuple[str, str]:
    """(the old number on record, the new number normalised), or a refusal."""
    new = identifiers.normalise_mobile(new_phone)
    if not new:
        raise _refuse("new_phone", "请输入新手机号码")
    if identifiers.validate_mobile(new, field="new_phone"):
        raise _refuse("new_phone", "新手机号码应为 11 位数字，以 1 开头")
    with access.suppress_reads(session):  # my own number: nobody else read my data
        person = registry_service.get_person_by_id(session, person_id=person_id)
        old = registry_service.current_record(session, person).phone or ""
    if not old:
        raise _refuse("new_phone", f"您没有预留手机号码，{AT_COUNTER}")
    if old == new:
        raise _refuse("new_phone", "新手机号码与原号码相同")
    return old, new


def old_phone_masked(session: Session, *, person_id: str) -> str:
    """My number on record, masked ('' when there is none)."""
    with access.suppress_reads(session):
        person = registry_service.get_person_by_id(session, person_id=person_id)
        return mask_phone(registry_service.current_record(session, person).phone or "")


def _throttle(session: Session, person_id: str) -> None:
    decision = get_guard(session, namespace="wallet-phone").hit(
        f"code:{person_id}", limit=CODES_PER_HOUR, window_seconds=3600
    )
    if not decision.allowed:
        raise SSCardError(
            "验证码发送过于频繁，请稍后再试", status_code=429, code="too_many_requests"
        )


def send_code(session: Session, *, actor: Actor, new_phone: str) -> CodeSent:
    """Send a one-time code to my OLD number to confirm ``new_phone`` (through the outbox)."""
    old, new = _numbers(session, actor.id, new_phone)
    _throttle(session, actor.id)
    code = f"{secrets.randbelow(10**6):06d}"
    now = utcnow()
    change = repository.add_phone_change(
        session,
        PhoneChange(
            person_id=actor.id,
            code_hash=passwords.hash_password(f"{code}:{new}"),
            attempts=0,
            created_at=now,
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        ),
    )
    text = (
        f"【{get_settings().region_name}社保卡】验证码 {code}，用于变更社会保障卡预留手机号，"
        f"{CODE_MINUTES} 分钟内有效。如非本人操作，请勿告诉他人。"
    )
    payload = {"person_id": actor.id, "phone_masked": mask_phone(old), "text": text}
    outbox.enqueue(session, destination=SMS, payload=payload, key=f"phone-change:{change.id}")
    records.record(session, "ecard.phone.code", actor.id, {"change_id": change.id})
    return CodeSent(change.id, mask_phone(old), change.expires_at)


def _count_wrong(session: Session, change_id: int) -> None:
    def count(fresh: Session) -> None:
        found = repository.phone_change(fresh, change_id)
        if found is not None:
            found.attempts += 1

    db.after_rollback(session, count)


def confirm_change(session: Session, *, actor: Actor, new_phone: str, code: str) -> str:
    """Change my number once the code sent to the old one is typed; the new number masked."""
    if not code.strip():
        raise _refuse("code", "请输入短信验证码")
    _old, new = _numbers(session, actor.id, new_phone)
    change = repository.latest_phone_change(session, actor.id)
    if change is None or change.expires_at <= utcnow() or change.attempts >= MAX_ATTEMPTS:
        raise _refuse("code", "验证码已失效，请重新获取")
    if not passwords.verify_password(change.code_hash, f"{code.strip()}:{new}"):
        _count_wrong(session, change.id)
        raise _refuse("code", "验证码错误")
    change.used_at = utcnow()
    id_number = registry_service.id_number_of(session, person_id=actor.id, actor=actor)
    registry_service.update_person(
        session, id_number=id_number, data=PersonUpdate(phone=new), actor=actor
    )
    records.record(session, "ecard.phone.change", actor.id, {"change_id": change.id}, ("phone",))
    return mask_phone(new)
