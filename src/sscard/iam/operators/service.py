"""Operator accounts: create, list, update, reset or change a password; the first admin."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import passwords, repository
from sscard.iam import service as iam_service
from sscard.iam.errors import DuplicateCode, InvalidCredentials, OperatorNotFound, WeakPassword
from sscard.iam.login import service as login_service
from sscard.iam.models import Operator
from sscard.iam.schemas import OperatorCreate, OperatorOut, OperatorUpdate


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
        locked_until=login_service.locked_until(session, username=operator.username),
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
    inst = iam_service.get_institution(session, code=data.institution_code)
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
    inst = iam_service.get_institution(session, code=institution_code) if institution_code else None
    return repository.operators(session, institution_id=inst.id if inst else None)


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
            login_service.revoke_all_tokens(session, operator=operator)
    iam_service.record_change(session, "iam.operator.update", "operator", operator.username)
    return operator


def set_password(session: Session, *, username: str, password: str) -> Operator:
    """Set a new password (administrator reset); the operator's sessions end."""
    _check_password(password)
    operator = get_operator(session, username=username)
    operator.password_hash = passwords.hash_password(password)
    operator.password_changed_at = utcnow()
    login_service.revoke_all_tokens(session, operator=operator)
    iam_service.record_change(session, "iam.operator.password_reset", "operator", username)
    return operator


def change_password(
    session: Session, *, username: str, old_password: str, new_password: str
) -> Operator:
    """An operator changes their own password, proving the old one."""
    operator = get_operator(session, username=username)
    if not passwords.verify_password(operator.password_hash, old_password):
        raise InvalidCredentials()
    return set_password(session, username=username, password=new_password)


def create_admin(session: Session, *, username: str, password: str, name: str) -> Operator:
    """An administrator at the platform's own institution (for first start and scripts)."""
    inst = iam_service.ensure_platform_institution(session)
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
