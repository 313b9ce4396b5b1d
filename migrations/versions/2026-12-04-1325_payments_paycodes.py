"""payments paycodes: the server records of residents' payment codes (付款码) and the card
charges made by payment code and merchant QR (the per-day limit counts them)

Revision ID: r0119_payments_paycodes
Revises: r0118_payments_orders
Create Date: 2026-12-04 13:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0119_payments_paycodes"
down_revision: str | Sequence[str] | None = "r0118_payments_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODES = "payments_paycode"
CHARGES = "payments_card_charge"
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        CODES,
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("tick", sa.BigInteger(), nullable=False),
        sa.Column("product", sa.String(length=2), nullable=False),
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("ecard_id", sa.String(length=26), nullable=False),
        sa.Column("card_id", sa.String(length=26), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("no_pin_limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_paycode")),
    )
    with op.batch_alter_table(CODES) as batch:
        batch.create_index("ix_payments_paycode_slot_tick", ["slot", "tick"])
        batch.create_index(batch.f("ix_payments_paycode_person_id"), ["person_id"])
    op.create_table(
        CHARGES,
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("card_id", sa.String(length=26), nullable=False),
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("merchant_code", sa.String(length=32), nullable=False),
        sa.Column("merchant_order_no", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paycode_id", ID, nullable=True),
        sa.Column("order_no", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paycode_id"],
            [f"{CODES}.id"],
            name=op.f("fk_payments_card_charge_paycode_id_payments_paycode"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_card_charge")),
        sa.UniqueConstraint(
            "merchant_code",
            "merchant_order_no",
            name=op.f("uq_payments_card_charge_merchant_code_merchant_order_no"),
        ),
    )
    with op.batch_alter_table(CHARGES) as batch:
        batch.create_index("ix_payments_card_charge_card_created", ["card_id", "created_at"])
        batch.create_index("ix_payments_card_charge_order_no", ["order_no"])


def downgrade() -> None:
    with op.batch_alter_table(CHARGES) as batch:
        batch.drop_index("ix_payments_card_charge_order_no")
        batch.drop_index("ix_payments_card_charge_card_created")
    op.drop_table(CHARGES)
    with op.batch_alter_table(CODES) as batch:
        batch.drop_index(batch.f("ix_payments_paycode_person_id"))
        batch.drop_index("ix_payments_paycode_slot_tick")
    op.drop_table(CODES)
