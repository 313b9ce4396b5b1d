"""batches: entity mappings and the unresolved-code queue; result-import columns of batches

Revision ID: r0107_batches
Revises: r0109_ecard
Create Date: 2026-11-25 19:45:00

The province's card-type codes ship as the one default entity mapping (our card types 2
and 3, the card generations); employer and community mappings are data the deployment
builds, through the unresolved-code queue that batch exports and imports fill.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0107_batches"
down_revision: str | Sequence[str] | None = "r0109_ecard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CARD_TYPES = [("2", "2", "第二代社会保障卡"), ("3", "3", "第三代社会保障卡")]


def upgrade() -> None:
    mapping = op.create_table(
        "exchange_entity_mapping",
        sa.Column("system_key", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("external_code", sa.String(length=64), nullable=False),
        sa.Column("external_name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["system_key"],
            ["exchange_system.key"],
            name=op.f("fk_exchange_entity_mapping_system_key_exchange_system"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "system_key", "kind", "code", name=op.f("pk_exchange_entity_mapping")
        ),
        sa.UniqueConstraint(
            "system_key",
            "kind",
            "external_code",
            name=op.f("uq_exchange_entity_mapping_system_key_kind_external_code"),
        ),
    )
    op.create_table(
        "exchange_unresolved_code",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("system_key", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("suggestion", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("last_source", sa.String(length=100), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_code", sa.String(length=64), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("first_seen_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["system_key"],
            ["exchange_system.key"],
            name=op.f("fk_exchange_unresolved_code_system_key_exchange_system"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_unresolved_code")),
    )
    with op.batch_alter_table("exchange_unresolved_code", schema=None) as batch_op:
        batch_op.create_index(
            "uq_exchange_unresolved_code_open",
            ["system_key", "kind", "direction", "code"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.create_index(
            "ix_exchange_unresolved_code_status", ["status", "system_key", "kind"], unique=False
        )
    with op.batch_alter_table("issuance_batch", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rejected_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("result_rows", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("error", sa.String(length=500), nullable=True))
    _seed_card_types(mapping)


def _seed_card_types(mapping: sa.Table) -> None:
    systems = sa.table("exchange_system", sa.column("key"))
    found = op.get_bind().execute(sa.select(systems.c.key).where(systems.c.key == "province"))
    if found.first() is None:
        return
    now = datetime.now(UTC)
    op.bulk_insert(
        mapping,
        [
            {"system_key": "province", "kind": "card_type", "code": ours,
             "external_code": theirs, "external_name": name, "source": "default",
             "updated_by": "migration", "updated_at": now}
            for ours, theirs, name in CARD_TYPES
        ],
    )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("issuance_batch", schema=None) as batch_op:
        batch_op.drop_column("error")
        batch_op.drop_column("result_rows")
        batch_op.drop_column("rejected_count")
    with op.batch_alter_table("exchange_unresolved_code", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_unresolved_code_status")
        batch_op.drop_index(
            "uq_exchange_unresolved_code_open",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
    op.drop_table("exchange_unresolved_code")
    op.drop_table("exchange_entity_mapping")
