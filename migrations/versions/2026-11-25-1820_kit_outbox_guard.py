"""kit: outbox messages, single-use claims and rate windows

Revision ID: r0102_kit
Revises: r0101_crypto
Create Date: 2026-11-25 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "r0102_kit"
down_revision: str | Sequence[str] | None = "r0101_crypto"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PAYLOAD = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "kit_outbox_message",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("payload", PAYLOAD, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at"),
        _at("lease_until", nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        _at("created_at"),
        _at("delivered_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'in_flight', 'delivered', 'dead')",
            name=op.f("ck_kit_outbox_message_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kit_outbox_message")),
        sa.UniqueConstraint(
            "destination",
            "idempotency_key",
            name=op.f("uq_kit_outbox_message_destination_idempotency_key"),
        ),
    )
    op.create_index(
        "ix_kit_outbox_message_due", "kit_outbox_message", ["status", "next_attempt_at"]
    )
    op.create_index("ix_kit_outbox_message_lease", "kit_outbox_message", ["status", "lease_until"])

    op.create_table(
        "kit_claim",
        sa.Column("key", sa.String(length=255), nullable=False),
        _at("claimed_at"),
        _at("expires_at"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kit_claim")),
    )
    op.create_index("ix_kit_claim_expires_at", "kit_claim", ["expires_at"])

    op.create_table(
        "kit_rate_window",
        sa.Column("key", sa.String(length=255), nullable=False),
        _at("window_started_at"),
        sa.Column("hits", sa.Integer(), nullable=False),
        _at("expires_at"),
        sa.PrimaryKeyConstraint("key", "window_started_at", name=op.f("pk_kit_rate_window")),
    )
    op.create_index("ix_kit_rate_window_expires_at", "kit_rate_window", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_kit_rate_window_expires_at", table_name="kit_rate_window")
    op.drop_table("kit_rate_window")
    op.drop_index("ix_kit_claim_expires_at", table_name="kit_claim")
    op.drop_table("kit_claim")
    op.drop_index("ix_kit_outbox_message_lease", table_name="kit_outbox_message")
    op.drop_index("ix_kit_outbox_message_due", table_name="kit_outbox_message")
    op.drop_table("kit_outbox_message")
