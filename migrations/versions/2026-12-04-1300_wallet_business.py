"""wallet business: one-time codes that confirm a holder's phone change (手机号变更)

Revision ID: r0114_wallet_business
Revises: r0112_employer_contact
Create Date: 2026-12-04 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0114_wallet_business"
down_revision: str | Sequence[str] | None = "r0112_employer_contact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sscard.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "ecard_phone_change",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecard_phone_change")),
    )
    with op.batch_alter_table("ecard_phone_change") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ecard_phone_change_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ecard_phone_change") as batch_op:
        batch_op.drop_index(batch_op.f("ix_ecard_phone_change_person_id"))
    op.drop_table("ecard_phone_change")
