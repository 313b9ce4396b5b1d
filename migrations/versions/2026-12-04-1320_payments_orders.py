"""payments orders: merchants' orders paid by card through the card's bank, their refunds,
and the order permissions (read and manage orders, manage refunds), granted to
administrators and counter clerks; auditors read

Revision ID: r0118_payments_orders
Revises: r0115_issuance_stats
Create Date: 2026-12-04 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0118_payments_orders"
down_revision: str | Sequence[str] | None = "r0115_issuance_stats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDER = "payments_order"
REFUND = "payments_refund"
PERMISSIONS = [
    ("payments.orders.read", "查询支付订单"),
    ("payments.orders.manage", "创建、关闭支付订单，柜面刷卡支付，处理支付结果未明的订单"),
    ("payments.refunds.manage", "订单退款"),
]
GRANTS = {
    "admin": ["payments.orders.read", "payments.orders.manage", "payments.refunds.manage"],
    "clerk": ["payments.orders.read", "payments.orders.manage", "payments.refunds.manage"],
    "auditor": ["payments.orders.read"],
}
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sscard.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        ORDER,
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("order_no", sa.String(length=20), nullable=False),
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("merchant_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("merchant_order_no", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("card_id", sa.String(length=26), nullable=True),
        sa.Column("bank_code", sa.String(length=32), nullable=True),
        sa.Column("card_number_masked", sa.String(length=16), nullable=True),
        _when("expires_at", nullable=False),
        _when("paying_at"),
        _when("paid_at"),
        _when("closed_at"),
        sa.Column("failure_code", sa.String(length=40), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payments_order_amount_positive")),
        sa.CheckConstraint(
            "paid_fen >= 0 AND paid_fen <= amount_fen",
            name=op.f("ck_payments_order_paid_within_amount"),
        ),
        sa.CheckConstraint(
            "refunded_fen >= 0 AND refunded_fen <= paid_fen",
            name=op.f("ck_payments_order_refunded_within_paid"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["payments_merchant.id"],
            name=op.f("fk_payments_order_merchant_id_payments_merchant"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_order")),
        sa.UniqueConstraint("order_no", name=op.f("uq_payments_order_order_no")),
        sa.UniqueConstraint(
            "merchant_id",
            "merchant_order_no",
            name=op.f("uq_payments_order_merchant_id_merchant_order_no"),
        ),
    )
    with op.batch_alter_table(ORDER) as batch:
        batch.create_index(batch.f("ix_payments_order_card_id"), ["card_id"])
        batch.create_index(batch.f("ix_payments_order_region_code"), ["region_code"])
        batch.create_index("ix_payments_order_merchant_created", ["merchant_id", "created_at"])
        batch.create_index("ix_payments_order_status_created", ["status", "created_at"])
    op.create_table(
        REFUND,
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("refund_no", sa.String(length=40), nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        _when("created_at", nullable=False),
        _when("done_at"),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payments_refund_amount_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], [f"{ORDER}.id"], name=op.f("fk_payments_refund_order_id_payments_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_refund")),
        sa.UniqueConstraint("refund_no", name=op.f("uq_payments_refund_refund_no")),
    )
    with op.batch_alter_table(REFUND) as batch:
        batch.create_index(batch.f("ix_payments_refund_order_id"), ["order_id"])
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
    with op.batch_alter_table(REFUND) as batch:
        batch.drop_index(batch.f("ix_payments_refund_order_id"))
    op.drop_table(REFUND)
    with op.batch_alter_table(ORDER) as batch:
        batch.drop_index("ix_payments_order_status_created")
        batch.drop_index("ix_payments_order_merchant_created")
        batch.drop_index(batch.f("ix_payments_order_region_code"))
        batch.drop_index(batch.f("ix_payments_order_card_id"))
    op.drop_table(ORDER)
