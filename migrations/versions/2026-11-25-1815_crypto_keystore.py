"""crypto key store: master key record, named keys and versions, re-encryption checkpoints

Revision ID: r0101_crypto
Revises: r0000_base
Create Date: 2026-11-25 18:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0101_crypto"
down_revision: str | Sequence[str] | None = "r0000_base"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sscard.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "crypto_master_key",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("check_value", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crypto_master_key")),
    )
    op.create_table(
        "crypto_key",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crypto_key")),
        sa.UniqueConstraint("name", name=op.f("uq_crypto_key_name")),
    )
    op.create_table(
        "crypto_key_version",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("key_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("wrapped_material", sa.LargeBinary(), nullable=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("activated_at", TS, nullable=True),
        sa.Column("retired_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'retired', 'revoked')",
            name=op.f("ck_crypto_key_version_status"),
        ),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["crypto_key.id"],
            name=op.f("fk_crypto_key_version_key_id_crypto_key"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crypto_key_version")),
        sa.UniqueConstraint("key_id", "version", name=op.f("uq_crypto_key_version_key_id_version")),
    )
    op.create_index(
        "uq_crypto_key_version_active",
        "crypto_key_version",
        ["key_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "crypto_reencrypt_checkpoint",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("data_key_version", sa.Integer(), nullable=False),
        sa.Column("index_key_version", sa.Integer(), nullable=True),
        sa.Column("last_pk", sa.String(length=64), nullable=True),
        sa.Column("rows_scanned", sa.BigInteger(), nullable=False),
        sa.Column("rows_updated", sa.BigInteger(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crypto_reencrypt_checkpoint")),
        sa.UniqueConstraint("table_name", name=op.f("uq_crypto_reencrypt_checkpoint_table_name")),
    )


def downgrade() -> None:
    op.drop_table("crypto_reencrypt_checkpoint")
    op.drop_index("uq_crypto_key_version_active", table_name="crypto_key_version")
    op.drop_table("crypto_key_version")
    op.drop_table("crypto_key")
    op.drop_table("crypto_master_key")
