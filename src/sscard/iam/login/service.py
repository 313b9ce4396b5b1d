"""Login use cases: authenticate with lockout, issue and revoke tokens.

A failed login is recorded twice over: in the caller's transaction and, should that
transaction roll back (it does, the request fails), again after the rollback, so repeated
failures always count towards the lockout.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.iam import passwords, repository, tokens
from sscard.iam import service as iam_service
from sscard.iam.errors import AccountDisabled, AccountLocked, InvalidCredentials
from sscard.iam.models import LoginAttempt, Operator, Token
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.settings import get_settings


def locked_until(session: Session, *, username: str) -> datetime | None:
    """When a lockout for ``username`` ends, or None if the account is not locked."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_failure_window_minutes)
    failures = repository.recent_failures(session, username, utcnow() - window)
    if len(failures) < settings.login_max_failures:
        return None
    return failures[settings.login_max_failures - 1] + window


def _attempt(username: str, operator_id: int | None, ok: bool, ip: str | None) -> LoginAttempt:
    return LoginAttempt(
        username=username,
        operator_id=operator_id,
        succeeded=ok,
        client_ip=ip,
        attempted_at=utcnow(),
    )


def authenticate(
    session: Session, *, username: str, password: str, client_ip: str | None = None
) -> Operator:
    """Check a username and password, with lockout after repeated failures."""
    username = username.strip().lower()
    operator = repository.operator_by_username(session, username)
    until = locked_until(session, username=username)
    if until is not None:
        _login_refused(session, username, "locked", client_ip)
        minutes = max(1, int((until - utcnow()).total_seconds() // 60) + 1)
        raise AccountLocked(f"密码错误次数过多，账户已锁定，请 {minutes} 分钟后再试")
    # An unknown username is checked against a dummy hash: the same work, the same time.
    known_hash = operator.password_hash if operator is not None else None
    if not passwords.verify_password(known_hash, password) or operator is None:
        _login_refused(session, username, "bad_credentials", client_ip, operator)
        raise InvalidCredentials()
    if operator.status != "active":
        _login_refused(session, username, "disabled", client_ip, operator)
        raise AccountDisabled()
    session.add(_attempt(username, operator.id, True, client_ip))
    operator.last_login_at = utcnow()
    if passwords.needs_rehash(operator.password_hash):
        operator.password_hash = passwords.hash_password(password)
    iam_service.record_change(session, "iam.login", "operator", username)
    return operator


def _login_refused(
    session: Session,
    username: str,
    reason: str,
    ip: str | None,
    operator: Operator | None = None,
) -> None:
    operator_id = operator.id if operator else None

    def attempt(target: Session) -> None:
        target.add(_attempt(username, operator_id, False, ip))

    if reason != "locked":
        attempt(session)
        db.after_rollback(session, attempt)
    access.record(
        session,
        AccessRecord(
            action="iam.login",
            subject_type="operator",
            subject_id=username[:64],
            subject_display=username[:64],
            outcome="denied",
            detail={"reason": reason},
        ),
        keep_on_failure=True,
    )


def issue_token(
    session: Session, *, operator: Operator, kind: str = "api", client_ip: str | None = None
) -> tuple[str, Token]:
    """A new opaque token for ``operator``; only its hash is stored."""
    settings = get_settings()
    minutes = settings.token_ttl_minutes if kind == "api" else settings.session_ttl_minutes
    raw = tokens.new_raw_token()
    now = utcnow()
    token = Token(
        token_hash=tokens.hash_token(raw),
        operator_id=operator.id,
        kind=kind,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
        client_ip=client_ip,
    )
    session.add(token)
    session.flush()
    return raw, token


def revoke_token(session: Session, *, raw: str) -> None:
    """End a token or session (logout)."""
    token = repository.token_by_hash(session, tokens.hash_token(raw))
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()


def revoke_all_tokens(session: Session, *, operator: Operator) -> None:
    """End every token and session of ``operator`` (disabled, or password reset)."""
    repository.revoke_tokens_of(session, operator.id, at=utcnow())
