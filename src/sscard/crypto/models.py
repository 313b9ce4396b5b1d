"""Tables of the key store: master key record, named keys, their versions, re-encryption runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sscard.db import Base, BigIntPK, utcnow


class KeyKind(StrEnum):
    sm2_sign = "sm2_sign"
    """SM2 key pair for signatures (e-card signing, API responses, files)."""
    sm2_encrypt = "sm2_encrypt"
    """SM2 key pair for public-key encryption (partners send us wrapped keys)."""
    sm4_data = "sm4_data"
    """SM4 data-encryption key for personal fields (SM4-GCM)."""
    hmac_index = "hmac_index"
    """HMAC-SM3 key for blind indexes."""
    secret = "secret"  # noqa: S105  (a kind of key, not a password)
    """Root secret from which per-object keys are derived (HMAC-SM3 KDF)."""
    sm2_partner_public = "sm2_partner_public"
    """A partner's SM2 public key: verify their signatures, encrypt to them. No private part."""


SM2_KINDS = frozenset({KeyKind.sm2_sign, KeyKind.sm2_encrypt, KeyKind.sm2_partner_public})


class VersionStatus(StrEnum):
    active = "active"
    retired = "retired"
    revoked = "revoked"


class MasterKeyRecord(Base):
    """The check value of the master key this database's keys are wrapped with (one row)."""

    __tablename__ = "crypto_master_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    check_value: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CryptoKey(Base):
    __tablename__ = "crypto_key"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(200), default="")
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    """Created by the demo seed; the production check refuses to start while one exists."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[CryptoKeyVersion]] = relationship(
        back_populates="key", order_by="CryptoKeyVersion.version", cascade="all, delete-orphan"
    )


class CryptoKeyVersion(Base):
    __tablename__ = "crypto_key_version"
    __table_args__ = (
        UniqueConstraint("key_id", "version"),
        CheckConstraint("status IN ('active', 'retired', 'revoked')", name="status"),
        Index(
            "uq_crypto_key_version_active",
            "key_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("crypto_key.id", ondelete="CASCADE"),
    )
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    """active: used for new signatures and ciphertexts (exactly one per key); retired: still
    verifies and decrypts; revoked: unusable."""
    wrapped_material: Mapped[bytes | None] = mapped_column(LargeBinary)
    """SM4-GCM under the master key, AAD binding key name, kind and version; None for a
    partner's public key."""
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    """x || y (64 bytes) for SM2 kinds."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    key: Mapped[CryptoKey] = relationship(back_populates="versions")


class ReencryptCheckpoint(Base):
    """Where a re-encryption run of one table stands, so an interrupted run resumes."""

    __tablename__ = "crypto_reencrypt_checkpoint"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64), unique=True)
    data_key_version: Mapped[int] = mapped_column(Integer)
    index_key_version: Mapped[int | None] = mapped_column(Integer)
    last_pk: Mapped[str | None] = mapped_column(String(64))
    rows_scanned: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_updated: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
