"""IAM use cases: institutions, channels, operators, roles, login and tokens.

Permissions are checked in one place, :func:`authorize`; every request carries an
:class:`~sscard.kit.context.Actor` with the institution's region, from which components
derive their scope (:func:`region_scope`).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import primitives
from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import catalog, passwords, repository
from sscard.iam.errors import (
    AccountDisabled,
    AccountLocked,
    ChannelNotFound,
    DuplicateCode,
    InstitutionNotFound,
    InvalidCredentials,
    MissingPermission,
    OperatorNotFound,
    RoleNotFound,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
    WeakPassword,
)
from sscard.iam.models import Channel, Institution, LoginAttempt, Operator, Permission, Token
from sscard.iam.schemas import (
    ChannelCreate,
    ChannelOut,
    InstitutionCreate,
    InstitutionOut,
    OperatorCreate,
    OperatorOut,
    OperatorUpdate,
    RoleOut,
)
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor, ActorKind
from sscard.settings import get_settings

TOKEN_PREFIX = "sst_"  # noqa: S105 - a visible prefix, not a secret
PLATFORM_INSTITUTION = "PLATFORM"


# ---- authorisation -------------------------------------------------------------------


def authorize(actor: Actor, permission: str) -> None:
    """Raise :class:`MissingPermission` unless ``actor`` holds ``permission``."""
    if "*" in actor.permissions or permission in actor.permissions:
        return
    raise MissingPermission(permission)


def region_scope(actor: Actor) -> str:
    """The region-code prefix the actor may act in ('' = everywhere)."""
    if actor.kind is ActorKind.system or actor.region_code is None:
        return ""
    return catalog.region_prefix(actor.region_code)


def actor_for(session: Session, operator: Operator) -> Actor:
    """The actor an operator acts as: roles, permissions and institution scope."""
    roles = repository.roles_of(session, operator.id)
    inst = operator.institution
    return Actor(
        kind=ActorKind.operator,
        id=operator.username,
        name=operator.name,
        institution_id=inst.id,
        institution_code=inst.code,
        institution_type=inst.type,
        region_code=inst.region_code,
        roles=frozenset(roles),
        permissions=frozenset(repository.permissions_of_roles(session, roles)),
    )


# ---- institutions and channels -------------------------------------------------------


def institution_out(inst: Institution) -> InstitutionOut:
    return InstitutionOut(
        id=inst.id,
        code=inst.code,
        name=inst.name,
        type=inst.type,
        type_name=catalog.INSTITUTION_TYPE_NAMES[catalog.InstitutionType(inst.type)],
        region_code=inst.region_code,
        parent_code=inst.parent.code if inst.parent else None,
        status=inst.status,
    )


def get_institution(session: Session, *, code: str) -> Institution:
    """The institution with ``code``, or InstitutionNotFound."""
    inst = repository.institution_by_code(session, code)
    if inst is None:
        raise InstitutionNotFound(f"机构 {code} 不存在")
    return inst


def create_institution(
    session: Session, *, data: InstitutionCreate, demo: bool = False
) -> Institution:
    """Register an institution (人社局, 网点, 银行, 卡商 ...)."""
    if repository.institution_by_code(session, data.code) is not None:
        raise DuplicateCode(
            f"机构代码 {data.code} 已存在",
            fields=[FieldProblem("code", "机构代码已存在")],
        )
    parent = get_institution(session, code=data.parent_code) if data.parent_code else None
    inst = Institution(
        code=data.code,
        name=data.name,
        type=data.type.value,
        region_code=data.region_code,
        parent=parent,
        status="active",
        is_demo=demo,
        created_at=utcnow(),
    )
    session.add(inst)
    session.flush()
    _record(session, "iam.institution.create", "institution", inst.code, inst.code)
    return inst


def list_institutions(session: Session, *, actor: Actor) -> list[Institution]:
    """Institutions within the actor's region."""
    return repository.institutions(session, region_prefix=region_scope(actor))


def channel_out(channel: Channel) -> ChannelOut:
    return ChannelOut(
        id=channel.id,
        code=channel.code,
        name=channel.name,
        type=channel.type,
        type_name=catalog.CHANNEL_TYPE_NAMES[catalog.ChannelType(channel.type)],
        owner_institution_code=channel.owner.code,
        status=channel.status,
    )


def create_channel(session: Session, *, data: ChannelCreate, demo: bool = False) -> Channel:
    """Register a service channel (人社APP, 银行APP, 小程序, 大厅 ...)."""
    if repository.channel_by_code(session, data.code) is not None:
        raise DuplicateCode(
            f"渠道代码 {data.code} 已存在", fields=[FieldProblem("code", "渠道代码已存在")]
        )
    owner = get_institution(session, code=data.owner_institution_code)
    channel = Channel(
        code=data.code,
        name=data.name,
        type=data.type.value,
        owner=owner,
        status="active",
        is_demo=demo,
        created_at=utcnow(),
    )
    session.add(channel)
    session.flush()
    _record(session, "iam.channel.create", "channel", channel.code, channel.code)
    return channel


def get_channel(session: Session, *, code: str) -> Channel:
    """The channel with ``code``, or ChannelNotFound."""
    channel = repository.channel_by_code(session, code)
    if channel is None:
        raise ChannelNotFound(f"渠道 {code} 不存在")
    return channel


def list_channels(session: Session) -> list[Channel]:
    """Every channel."""
    return repository.channels(session)


def set_channel_status(session: Session, *, code: str, status: str) -> Channel:
    """Suspend or reopen a channel."""
    channel = get_channel(session, code=code)
    channel.status = status
    _record(session, f"iam.channel.{status}", "channel", channel.code, channel.code)
    return channel


# ---- operators -----------------------------------------------------------------------


def _check_password(password: str) -> None:
    reasons = passwords.problems(password)
    if reasons:
        raise WeakPassword(
            "；".join(reasons), fields=[FieldProblem("password", r) for r in reasons]
        )


def _check_roles(session: Session, roles: list[str]) -> None:
    unknown = sorted(set(roles) - repository.existing_roles(session, roles))
    if unknown:
        raise ValidationFailed([FieldProblem("roles", f"角色 {code} 不存在") for code in unknown])


def operator_out(session: Session, operator: Operator) -> OperatorOut:
    return OperatorOut(
        id=operator.id,
        username=operator.username,
        name=operator.name,
        institution_code=operator.institution.code,
        institution_name=operator.institution.name,
        roles=repository.roles_of(session, operator.id),
        status=operator.status,
        locked_until=locked_until(session, username=operator.username),
        last_login_at=operator.last_login_at,
        created_at=operator.created_at,
    )


def create_operator(session: Session, *, data: OperatorCreate, demo: bool = False) -> Operator:
    """Create an operator account with roles at an institution."""
    if repository.operator_by_username(session, data.username) is not None:
        raise DuplicateCode(
            f"用户名 {data.username} 已存在", fields=[FieldProblem("username", "用户名已存在")]
        )
    _check_password(data.password.get_secret_value())
    _check_roles(session, data.roles)
    inst = get_institution(session, code=data.institution_code)
    now = utcnow()
    operator = Operator(
        username=data.username,
        name=data.name,
        institution=inst,
        status="active",
        password_hash=passwords.hash_password(data.password.get_secret_value()),
        is_demo=demo,
        created_at=now,
        password_changed_at=now,
    )
    session.add(operator)
    session.flush()
    repository.set_roles(session, operator.id, data.roles)
    return operator


def get_operator(session: Session, *, username: str) -> Operator:
    """The operator with ``username``, or OperatorNotFound."""
    operator = repository.operator_by_username(session, username)
    if operator is None:
        raise OperatorNotFound(f"操作员 {username} 不存在")
    return operator


def list_operators(session: Session, *, institution_code: str | None = None) -> list[Operator]:
    """Operators, optionally of one institution."""
    inst_id = get_institution(session, code=institution_code).id if institution_code else None
    return repository.operators(session, institution_id=inst_id)


def update_operator(session: Session, *, username: str, data: OperatorUpdate) -> Operator:
    """Change an operator's name, roles or status."""
    operator = get_operator(session, username=username)
    if data.name is not None:
        operator.name = data.name
    if data.roles is not None:
        _check_roles(session, data.roles)
        repository.set_roles(session, operator.id, data.roles)
    if data.status is not None:
        operator.status = data.status
        if data.status == "disabled":
            _revoke_all_tokens(session, operator)
    _record(session, "iam.operator.update", "operator", operator.username, operator.username)
    return operator


def set_password(session: Session, *, username: str, password: str) -> Operator:
    """Set a new password (administrator reset); the operator's sessions end."""
    _check_password(password)
    operator = get_operator(session, username=username)
    operator.password_hash = passwords.hash_password(password)
    operator.password_changed_at = utcnow()
    _revoke_all_tokens(session, operator)
    _record(session, "iam.operator.password_reset", "operator", username, username)
    return operator


def change_password(
    session: Session, *, username: str, old_password: str, new_password: str
) -> Operator:
    """An operator changes their own password, proving the old one."""
    operator = get_operator(session, username=username)
    if not passwords.verify_password(operator.password_hash, old_password):
        raise InvalidCredentials()
    return set_password(session, username=username, password=new_password)


def ensure_platform_institution(session: Session) -> Institution:
    """The operating centre of this platform, created on first use."""
    inst = repository.institution_by_code(session, PLATFORM_INSTITUTION)
    if inst is not None:
        return inst
    settings = get_settings()
    data = InstitutionCreate(
        code=PLATFORM_INSTITUTION,
        name=f"{settings.region_name}社会保障卡服务中心",
        type=catalog.InstitutionType.hrss_bureau,
        region_code=settings.region_code,
    )
    return create_institution(session, data=data)


def create_admin(session: Session, *, username: str, password: str, name: str) -> Operator:
    """An administrator at the platform's own institution (for first start and scripts)."""
    inst = ensure_platform_institution(session)
    data = OperatorCreate.model_validate(
        {
            "username": username,
            "name": name,
            "institution_code": inst.code,
            "roles": ["admin"],
            "password": password,
        }
    )
    return create_operator(session, data=data)


# ---- roles ---------------------------------------------------------------------------


def list_roles(session: Session) -> list[RoleOut]:
    """Roles with their permissions."""
    return [
        RoleOut(
            code=r.code,
            name=r.name,
            description=r.description,
            permissions=sorted(repository.permissions_of_roles(session, [r.code])),
        )
        for r in repository.all_roles(session)
    ]


def grant_permission(session: Session, *, role: str, permission: str, grant: bool) -> None:
    """Give a role a permission, or take it away."""
    if repository.role(session, role) is None:
        raise RoleNotFound(f"角色 {role} 不存在")
    if repository.permission(session, permission) is None:
        raise ValidationFailed([FieldProblem("permission", f"权限 {permission} 不存在")])
    (repository.grant if grant else repository.revoke)(session, role, permission)
    _record(session, "iam.role.grant" if grant else "iam.role.revoke", "role", role, role)


# ---- login and tokens ----------------------------------------------------------------


def locked_until(session: Session, *, username: str) -> datetime | None:
    """When a lockout for ``username`` ends, or None if the account is not locked."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_failure_window_minutes)
    failures = repository.recent_failures(session, username, utcnow() - window)
    if len(failures) < settings.login_max_failures:
        return None
    return failures[settings.login_max_failures - 1] + window


def _note_attempt(
    session: Session, *, username: str, operator: Operator | None, ok: bool, ip: str | None
) -> None:
    attempt = LoginAttempt(
        username=username,
        operator_id=operator.id if operator else None,
        succeeded=ok,
        client_ip=ip,
        attempted_at=utcnow(),
    )
    session.add(attempt)


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
    if operator is None or not passwords.verify_password(operator.password_hash, password):
        _login_refused(session, username, "bad_credentials", client_ip, operator)
        raise InvalidCredentials()
    if operator.status != "active":
        _login_refused(session, username, "disabled", client_ip, operator)
        raise AccountDisabled()
    _note_attempt(session, username=username, operator=operator, ok=True, ip=client_ip)
    operator.last_login_at = utcnow()
    if passwords.needs_rehash(operator.password_hash):
        operator.password_hash = passwords.hash_password(password)
    _record(session, "iam.login", "operator", username, username)
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
        target.add(
            LoginAttempt(
                username=username,
                operator_id=operator_id,
                succeeded=False,
                client_ip=ip,
                attempted_at=utcnow(),
            )
        )

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


def _hash_token(raw: str) -> str:
    return primitives.sm3(raw.encode()).hex()


def issue_token(
    session: Session, *, operator: Operator, kind: str = "api", client_ip: str | None = None
) -> tuple[str, Token]:
    """A new opaque token for ``operator``; only its hash is stored."""
    settings = get_settings()
    minutes = settings.token_ttl_minutes if kind == "api" else settings.session_ttl_minutes
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = Token(
        token_hash=_hash_token(raw),
        operator_id=operator.id,
        kind=kind,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
        client_ip=client_ip,
    )
    session.add(token)
    session.flush()
    return raw, token


def resolve_token(session: Session, *, raw: str, kind: str | None = None) -> Actor:
    """The actor behind a bearer token or session, or a clear 401 error."""
    token = repository.token_by_hash(session, _hash_token(raw)) if raw else None
    if token is None or (kind is not None and token.kind != kind):
        raise TokenInvalid("登录凭证无效，请重新登录")
    now = utcnow()
    if token.revoked_at is not None:
        raise TokenRevoked()
    if token.expires_at <= now:
        raise TokenExpired()
    operator = repository.operator_by_id(session, token.operator_id)
    if operator is None or operator.status != "active":
        raise AccountDisabled()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
    return actor_for(session, operator)


def revoke_token(session: Session, *, raw: str) -> None:
    """End a token or session (logout)."""
    token = repository.token_by_hash(session, _hash_token(raw))
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()


def _revoke_all_tokens(session: Session, operator: Operator) -> None:
    session.execute(
        update(Token)
        .where(Token.operator_id == operator.id, Token.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def demo_accounts(session: Session) -> list[str]:
    """Usernames of active demo accounts (production refuses to start with any)."""
    return repository.demo_accounts(session)


def _record(
    session: Session, action: str, subject_type: str, subject_id: str, display: str
) -> None:
    access.record(
        session,
        AccessRecord(
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            subject_display=display,
        ),
    )


def record_denied(session: Session, *, permission: str) -> None:
    """Keep a refused access in the audit log even though the request fails."""
    access.record(
        session,
        AccessRecord(
            action="iam.permission_denied", outcome="denied", detail={"permission": permission}
        ),
        keep_on_failure=True,
    )


def list_permissions(session: Session) -> list[Permission]:
    """Every permission the platform knows."""
    return repository.all_permissions(session)
