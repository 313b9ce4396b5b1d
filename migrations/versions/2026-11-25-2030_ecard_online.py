"""e-card online: authorisation clients, codes and tokens; scan-login tickets

Revision ID: r0110_ecard_online
Revises: r0111_audit_chains
Create Date: 2026-11-25 20:30:00

No permissions are added: registering clients and recording an elder's consent at a counter
use ``ecard.manage`` (管理电子社保卡、亲情服务与授权), which r0109_ecard created.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0110_ecard_online"
down_revision: str | Sequence[str] | None = "r0111_audit_chains"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def _at(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sscard.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "ecard_oauth_client",
        _id(),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("channel_code", sa.String(length=32), nullable=True),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecard_oauth_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_ecard_oauth_client_client_id")),
    )
    op.create_table(
        "ecard_oauth_code",
        _id(),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("ecard_id", sa.String(length=26), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("code_challenge", sa.String(length=64), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["ecard_id"],
            ["ecard_card.id"],
            name=op.f("fk_ecard_oauth_code_ecard_id_ecard_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecard_oauth_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_ecard_oauth_code_code_hash")),
    )
    op.create_table(
        "ecard_oauth_token",
        _id(),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("ecard_id", sa.String(length=26), nullable=False),
        sa.Column("code_id", sa.BigInteger(), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["ecard_id"],
            ["ecard_card.id"],
            name=op.f("fk_ecard_oauth_token_ecard_id_ecard_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecard_oauth_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_ecard_oauth_token_token_hash")),
    )
    with op.batch_alter_table("ecard_oauth_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ecard_oauth_token_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ecard_oauth_token_code_id"), ["code_id"], unique=False)

    op.create_table(
        "ecard_login_ticket",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.String(length=26), nullable=True),
        sa.Column("ecard_id", sa.String(length=26), nullable=True),
        sa.Column("channel_code", sa.String(length=32), nullable=True),
        _at("created_at"),
        _at("expires_at"),
        _at("confirmed_at", nullable=True),
        _at("used_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecard_login_ticket")),
    )
    with op.batch_alter_table("ecard_login_ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ecard_login_ticket_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ecard_login_ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ecard_login_ticket_expires_at")
    op.drop_table("ecard_login_ticket")
    with op.batch_alter_table("ecard_oauth_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ecard_oauth_token_code_id"))
        batch_op.drop_index(batch_op.f("ix_ecard_oauth_token_person_id"))
    op.drop_table("ecard_oauth_token")
    op.drop_table("ecard_oauth_code")
    op.drop_table("ecard_oauth_client")
