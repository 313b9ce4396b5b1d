"""issuance: cards and timeline, number ranges, batches, failures, boxes, handovers, idempotent calls, activation steps; issuance permissions

Revision ID: r0106_issuance
Revises: r0105_registry
Create Date: 2026-11-25 19:03:22.891155+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

PERMISSIONS = [
    ("issuance.read", "查询卡片、制卡进度与交接记录"),
    ("issuance.apply", "受理制卡申请与补换卡"),
    ("issuance.manage", "挂失、解挂、注销、还原、密码重置与卡片交接"),
    ("issuance.batch", "批量制卡：导出批次、导入结果、处理制卡失败"),
    ("issuance.bank", "银行网点即时制卡与账户接口"),
    ("issuance.vendor", "卡商交付与交接"),
    ("issuance.ranges", "管理卡号段"),
]
GRANTS = {
    "admin": [code for code, _ in PERMISSIONS],
    "clerk": ["issuance.read", "issuance.apply", "issuance.manage"],
    "card_manager": [
        "issuance.read",
        "issuance.apply",
        "issuance.manage",
        "issuance.batch",
        "issuance.ranges",
    ],
    "bank_agent": ["issuance.read", "issuance.apply", "issuance.bank"],
    "vendor_agent": ["issuance.read", "issuance.vendor"],
}

revision: str = "r0106_issuance"
down_revision: str | Sequence[str] | None = "r0105_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "issuance_batch",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("batch_no", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("card_count", sa.Integer(), nullable=False),
        sa.Column("made_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("export_path", sa.String(length=500), nullable=True),
        sa.Column("export_digest", sa.String(length=64), nullable=True),
        sa.Column("result_digest", sa.String(length=64), nullable=True),
        sa.Column("result_next_line", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("exported_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("result_imported_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuance_batch")),
        sa.UniqueConstraint("batch_no", name=op.f("uq_issuance_batch_batch_no")),
    )
    op.create_table(
        "issuance_idempotent_call",
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "institution_code", "key", name=op.f("pk_issuance_idempotent_call")
        ),
    )
    op.create_table(
        "issuance_number_range",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("prefix", sa.String(length=4), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.Column("last_value", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuance_number_range")),
    )
    with op.batch_alter_table("issuance_number_range", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issuance_number_range_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "issuance_box",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("vendor_code", sa.String(length=32), nullable=False),
        sa.Column("card_count", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["issuance_batch.id"],
            name=op.f("fk_issuance_box_batch_id_issuance_batch"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_issuance_box")),
    )
    op.create_table(
        "issuance_card",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("status_before_cancel", sa.String(length=24), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("managing_region_code", sa.String(length=6), nullable=False),
        sa.Column("bank_code", sa.String(length=32), nullable=False),
        sa.Column("pickup_place", sa.String(length=32), nullable=True),
        sa.Column("card_number", sa.String(length=9), nullable=True),
        sa.Column("card_id_code", sa.String(length=32), nullable=True),
        sa.Column("atr", sa.String(length=64), nullable=True),
        sa.Column("bank_account_enc", sa.LargeBinary(), nullable=True),
        sa.Column("bank_account_masked", sa.String(length=32), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("box_code", sa.String(length=32), nullable=True),
        sa.Column("box_position", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=64), nullable=True),
        sa.Column("replaces_card_id", sa.String(length=26), nullable=True),
        sa.Column("replaced_by_card_id", sa.String(length=26), nullable=True),
        sa.Column("is_offsite", sa.Boolean(), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("pin_failures", sa.Integer(), nullable=False),
        sa.Column("bank_account_active", sa.Boolean(), nullable=False),
        sa.Column("transport_enabled", sa.Boolean(), nullable=False),
        sa.Column("applied_by", sa.String(length=64), nullable=False),
        sa.Column("applied_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("made_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("activated_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lost_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["issuance_batch.id"],
            name=op.f("fk_issuance_card_batch_id_issuance_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["registry_person.id"],
            name=op.f("fk_issuance_card_person_id_registry_person"),
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by_card_id"],
            ["issuance_card.id"],
            name=op.f("fk_issuance_card_replaced_by_card_id_issuance_card"),
        ),
        sa.ForeignKeyConstraint(
            ["replaces_card_id"],
            ["issuance_card.id"],
            name=op.f("fk_issuance_card_replaces_card_id_issuance_card"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuance_card")),
        sa.UniqueConstraint("card_id_code", name=op.f("uq_issuance_card_card_id_code")),
        sa.UniqueConstraint("card_number", name=op.f("uq_issuance_card_card_number")),
    )
    with op.batch_alter_table("issuance_card", schema=None) as batch_op:
        batch_op.create_index(
            "ix_issuance_card_bank_code_status", ["bank_code", "status"], unique=False
        )
        batch_op.create_index("ix_issuance_card_batch_id", ["batch_id"], unique=False)
        batch_op.create_index("ix_issuance_card_box_code", ["box_code"], unique=False)
        batch_op.create_index("ix_issuance_card_person_id", ["person_id"], unique=False)
        batch_op.create_index("ix_issuance_card_status", ["status"], unique=False)
        batch_op.create_index(
            "uq_issuance_card_live_person",
            ["person_id"],
            unique=True,
            sqlite_where=sa.text("status NOT IN ('failed', 'cancelled')"),
            postgresql_where=sa.text("status NOT IN ('failed', 'cancelled')"),
        )

    op.create_table(
        "issuance_activation_step",
        sa.Column("card_id", sa.String(length=26), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["issuance_card.id"],
            name=op.f("fk_issuance_activation_step_card_id_issuance_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("card_id", "step", name=op.f("pk_issuance_activation_step")),
    )
    op.create_table(
        "issuance_card_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("card_id", sa.String(length=26), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=64), nullable=True),
        sa.Column("institution_code", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["issuance_card.id"],
            name=op.f("fk_issuance_card_event_card_id_issuance_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuance_card_event")),
    )
    with op.batch_alter_table("issuance_card_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_issuance_card_event_card_id", ["card_id", "occurred_at"], unique=False
        )

    op.create_table(
        "issuance_failure",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("card_id", sa.String(length=26), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolution", sa.String(length=200), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["issuance_batch.id"],
            name=op.f("fk_issuance_failure_batch_id_issuance_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["issuance_card.id"],
            name=op.f("fk_issuance_failure_card_id_issuance_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuance_failure")),
    )
    with op.batch_alter_table("issuance_failure", schema=None) as batch_op:
        batch_op.create_index("ix_issuance_failure_status", ["status", "batch_id"], unique=False)

    op.create_table(
        "issuance_handover",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("card_id", sa.String(length=26), nullable=True),
        sa.Column("box_code", sa.String(length=32), nullable=True),
        sa.Column("from_place", sa.String(length=64), nullable=False),
        sa.Column("to_place", sa.String(length=64), nullable=False),
        sa.Column("handler", sa.String(length=64), nullable=False),
        sa.Column("receiver", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("handed_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["box_code"],
            ["issuance_box.code"],
            name=op.f("fk_issuance_handover_box_code_issuance_box"),
        ),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["issuance_card.id"],
            name=op.f("fk_issuance_handover_card_id_issuance_card"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuance_handover")),
    )
    with op.batch_alter_table("issuance_handover", schema=None) as batch_op:
        batch_op.create_index("ix_issuance_handover_box_code", ["box_code"], unique=False)
        batch_op.create_index("ix_issuance_handover_card_id", ["card_id"], unique=False)
    permission = sa.table("iam_permission", sa.column("code"), sa.column("description"))
    grant = sa.table("iam_role_permission", sa.column("role_code"), sa.column("permission_code"))
    op.bulk_insert(permission, [{"code": c, "description": d} for c, d in PERMISSIONS])
    op.bulk_insert(
        grant,
        [{"role_code": r, "permission_code": p} for r, perms in GRANTS.items() for p in perms],
    )


def downgrade() -> None:
    codes = sa.bindparam("codes", [c for c, _ in PERMISSIONS], expanding=True)
    op.execute(
        sa.text("DELETE FROM iam_role_permission WHERE permission_code IN :codes").bindparams(codes)
    )
    op.execute(sa.text("DELETE FROM iam_permission WHERE code IN :codes").bindparams(codes))
    with op.batch_alter_table("issuance_handover", schema=None) as batch_op:
        batch_op.drop_index("ix_issuance_handover_card_id")
        batch_op.drop_index("ix_issuance_handover_box_code")

    op.drop_table("issuance_handover")
    with op.batch_alter_table("issuance_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_issuance_failure_status")

    op.drop_table("issuance_failure")
    with op.batch_alter_table("issuance_card_event", schema=None) as batch_op:
        batch_op.drop_index("ix_issuance_card_event_card_id")

    op.drop_table("issuance_card_event")
    op.drop_table("issuance_activation_step")
    with op.batch_alter_table("issuance_card", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_issuance_card_live_person",
            sqlite_where=sa.text("status NOT IN ('failed', 'cancelled')"),
            postgresql_where=sa.text("status NOT IN ('failed', 'cancelled')"),
        )
        batch_op.drop_index("ix_issuance_card_status")
        batch_op.drop_index("ix_issuance_card_person_id")
        batch_op.drop_index("ix_issuance_card_box_code")
        batch_op.drop_index("ix_issuance_card_batch_id")
        batch_op.drop_index("ix_issuance_card_bank_code_status")

    op.drop_table("issuance_card")
    op.drop_table("issuance_box")
    with op.batch_alter_table("issuance_number_range", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issuance_number_range_region_code"))

    op.drop_table("issuance_number_range")
    op.drop_table("issuance_idempotent_call")
    op.drop_table("issuance_batch")
