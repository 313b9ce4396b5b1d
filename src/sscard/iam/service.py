"""IAM use cases other components call: authorisation, actors, institutions, channels, roles.

Permissions are checked in one place, :func:`authorize`; every request carries an
:class:`~sscard.kit.context.Actor` (made by :func:`resolve_token`) with the institution's
region, from which components derive their scope (:func:`region_scope`).

Operator accounts live in :mod:`sscard.iam.operators.service`, login and tokens in
:mod:`sscard.iam.login.service`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import catalog, repository, tokens
from sscard.iam.errors import (
    AccountDisabled,
    ChannelNotFound,
    DuplicateCode,
    InstitutionNotFound,
    MissingPermission,
    RoleNotFound,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
)
from sscard.iam.models import Channel, Institution, Operator, Permission
from sscard.iam.schemas import (
    ChannelCreate,
    ChannelOut,
    InstitutionCreate,
    InstitutionOut,
    RoleOut,
)
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor, ActorKind
from sscard.settings import get_settings

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
    record_change(session, "iam.institution.create", "institution", inst.code)
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
    record_change(session, "iam.channel.create", "channel", channel.code)
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
    record_change(session, f"iam.channel.{status}", "channel", channel.code)
    return channel


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
    record_change(session, "iam.role.grant" if grant else "iam.role.revoke", "role", role)


def list_permissions(session: Session) -> list[Permission]:
    """Every permission the platform knows."""
    return repository.all_permissions(session)


# ---- actors from tokens, audit --------------------------------------------------------------


def resolve_token(session: Session, *, raw: str, kind: str | None = None) -> Actor:
    """The actor behind a bearer token or session, or a clear 401 error."""
    token = repository.token_by_hash(session, tokens.hash_token(raw)) if raw else None
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


def demo_accounts(session: Session) -> list[str]:
    """Usernames of active demo accounts (production refuses to start with any)."""
    return repository.demo_accounts(session)


def record_change(session: Session, action: str, subject_type: str, subject_id: str) -> None:
    """Write an IAM change (or a login) to the audit log."""
    access.record(
        session,
        AccessRecord(
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            subject_display=subject_id,
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
