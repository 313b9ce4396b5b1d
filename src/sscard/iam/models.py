"""IAM tables: who the platform's institutions, channels and operators are, and what they may do."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sscard.db import Base, BigIntPK


class Institution(Base):
    __tablename__ = "iam_institution"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(32))
    """One of ``InstitutionType``: hrss_bureau, service_hall, bank, card_vendor ..."""
    region_code: Mapped[str] = mapped_column(String(6))
    """GB/T 2260 code of the area the institution serves; scopes what its operators see."""
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("iam_institution.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]

    parent: Mapped[Institution | None] = relationship(remote_side=[id], lazy="joined")


class Channel(Base):
    __tablename__ = "iam_channel"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(32))
    owner_institution_id: Mapped[int] = mapped_column(ForeignKey("iam_institution.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]

    owner: Mapped[Institution] = relationship(lazy="joined")


class Permission(Base):
    __tablename__ = "iam_permission"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(200))


class Role(Base):
    __tablename__ = "iam_role"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200), default="")


class RolePermission(Base):
    __tablename__ = "iam_role_permission"

    role_code: Mapped[str] = mapped_column(
        ForeignKey("iam_role.code", ondelete="CASCADE"), primary_key=True
    )
    permission_code: Mapped[str] = mapped_column(
        ForeignKey("iam_permission.code", ondelete="CASCADE"), primary_key=True
    )


class Operator(Base):
    __tablename__ = "iam_operator"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    institution_id: Mapped[int] = mapped_column(ForeignKey("iam_institution.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    """active or disabled; a lockout is computed from recent failed logins."""
    password_hash: Mapped[str] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    institution: Mapped[Institution] = relationship(lazy="joined")


class OperatorRole(Base):
    __tablename__ = "iam_operator_role"

    operator_id: Mapped[int] = mapped_column(
        ForeignKey("iam_operator.id", ondelete="CASCADE"), primary_key=True
    )
    role_code: Mapped[str] = mapped_column(ForeignKey("iam_role.code"), primary_key=True)


class LoginAttempt(Base):
    """Every login attempt; the lockout counts failures since the last success."""

    __tablename__ = "iam_login_attempt"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("iam_operator.id", ondelete="CASCADE")
    )
    succeeded: Mapped[bool] = mapped_column(Boolean)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    attempted_at: Mapped[datetime]

    __table_args__ = (Index("ix_iam_login_attempt_username_at", "username", "attempted_at"),)


class Token(Base):
    """An opaque bearer token (API) or web session; only its SM3 hash is stored."""

    __tablename__ = "iam_token"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    operator_id: Mapped[int] = mapped_column(ForeignKey("iam_operator.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    """api (bearer) or web (session cookie)."""
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    client_ip: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index("ix_iam_token_operator_id", "operator_id"),
    )
