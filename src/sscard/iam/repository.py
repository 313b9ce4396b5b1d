"""Every query of the IAM component."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sscard.iam.models import (
    Channel,
    Institution,
    LoginAttempt,
    Operator,
    OperatorRole,
    Permission,
    Role,
    RolePermission,
    Token,
)


def institution_by_code(session: Session, code: str) -> Institution | None:
    return session.scalars(select(Institution).where(Institution.code == code)).one_or_none()


def institutions(session: Session, *, region_prefix: str = "") -> list[Institution]:
    stmt = select(Institution).order_by(Institution.region_code, Institution.code)
    if region_prefix:
        stmt = stmt.where(Institution.region_code.startswith(region_prefix))
    return list(session.scalars(stmt))


def channel_by_code(session: Session, code: str) -> Channel | None:
    return session.scalars(select(Channel).where(Channel.code == code)).one_or_none()


def channels(session: Session) -> list[Channel]:
    return list(session.scalars(select(Channel).order_by(Channel.code)))


def operator_by_username(session: Session, username: str) -> Operator | None:
    return session.scalars(select(Operator).where(Operator.username == username)).one_or_none()


def operator_by_id(session: Session, operator_id: int) -> Operator | None:
    return session.get(Operator, operator_id)


def operators(session: Session, *, institution_id: int | None = None) -> list[Operator]:
    stmt = select(Operator).order_by(Operator.username)
    if institution_id is not None:
        stmt = stmt.where(Operator.institution_id == institution_id)
    return list(session.scalars(stmt))


def roles_of(session: Session, operator_id: int) -> list[str]:
    stmt = select(OperatorRole.role_code).where(OperatorRole.operator_id == operator_id)
    return sorted(session.scalars(stmt))


def set_roles(session: Session, operator_id: int, roles: list[str]) -> None:
    session.execute(delete(OperatorRole).where(OperatorRole.operator_id == operator_id))
    session.add_all(OperatorRole(operator_id=operator_id, role_code=r) for r in sorted(set(roles)))


def permissions_of_roles(session: Session, roles: list[str]) -> set[str]:
    if not roles:
        return set()
    stmt = select(RolePermission.permission_code).where(RolePermission.role_code.in_(roles))
    return set(session.scalars(stmt))


def all_roles(session: Session) -> list[Role]:
    return list(session.scalars(select(Role).order_by(Role.code)))


def role(session: Session, code: str) -> Role | None:
    return session.get(Role, code)


def existing_roles(session: Session, codes: list[str]) -> set[str]:
    return set(session.scalars(select(Role.code).where(Role.code.in_(codes))))


def all_permissions(session: Session) -> list[Permission]:
    return list(session.scalars(select(Permission).order_by(Permission.code)))


def permission(session: Session, code: str) -> Permission | None:
    return session.get(Permission, code)


def grant(session: Session, role_code: str, permission_code: str) -> None:
    if session.get(RolePermission, (role_code, permission_code)) is None:
        session.add(RolePermission(role_code=role_code, permission_code=permission_code))


def revoke(session: Session, role_code: str, permission_code: str) -> None:
    session.execute(
        delete(RolePermission).where(
            RolePermission.role_code == role_code,
            RolePermission.permission_code == permission_code,
        )
    )


def recent_failures(session: Session, username: str, since: datetime) -> list[datetime]:
    """Failed attempts since ``since`` and after the last success, newest first."""
    last_success = session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.username == username, LoginAttempt.succeeded.is_(True)
        )
    )
    start = max(since, last_success) if last_success else since
    stmt = (
        select(LoginAttempt.attempted_at)
        .where(
            LoginAttempt.username == username,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.attempted_at > start,
        )
        .order_by(LoginAttempt.attempted_at.desc())
    )
    return list(session.scalars(stmt))


def token_by_hash(session: Session, token_hash: str) -> Token | None:
    return session.scalars(select(Token).where(Token.token_hash == token_hash)).one_or_none()


def demo_accounts(session: Session) -> list[str]:
    stmt = select(Operator.username).where(Operator.is_demo.is_(True), Operator.status == "active")
    return list(session.scalars(stmt))


def revoke_tokens_of(session: Session, operator_id: int, *, at: datetime) -> None:
    """Revoke every live token of the operator."""
    session.execute(
        update(Token)
        .where(Token.operator_id == operator_id, Token.revoked_at.is_(None))
        .values(revoked_at=at)
    )
