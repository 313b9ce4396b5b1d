"""payments online: the payments sent to a bank's pay page and the bank notices received
(网银支付), the contributions (人社缴费) with their report to the social insurance system,
and the permissions payments.online.manage and payments.contributions.read

Revision ID: r0123_payments_online
Revises: r0119_payments_paycodes
Create Date: 2026-12-04 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0123_payments_online"
down_revision: str | Sequence[str] | None = "r0119_payments_paycodes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PERMISSIONS = [
    ("payments.online.manage", "网银支付：发起订单支付与查询银行结果"),
    ("payments.contributions.read", "查询人社缴费记录与上报结果"),
]
GRANTS = {
    "admin": ["payments.online.manage", "payments.contributions.read"],
    "clerk": ["payments.online.manage", "payments.contributions.read"],
    "auditor": ["payments.contributions.read"],
}


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sscard.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "payments_online_payment",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("order_no", sa.String(length=20), nullable=False),
        sa.Column("bank_code", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bank_ref", sa.String(length=32), nullable=True),
        _when("started_at"),
        _when("paid_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_online_payment")),
        sa.UniqueConstraint("order_no", name=op.f("uq_payments_online_payment_order_no")),
    )
    with op.batch_alter_table("payments_online_payment") as batch:
        batch.create_index(batch.f("ix_payments_online_payment_status"), ["status"])
    op.create_table(
        "payments_online_notice",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.String(length=64), nullable=False),
        sa.Column("order_no", sa.String(length=20), nullable=False),
        sa.Column("bank_code", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        _when("received_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_online_notice")),
        sa.UniqueConstraint("notice_id", name=op.f("uq_payments_online_notice_notice_id")),
    )
    with op.batch_alter_table("payments_online_notice") as batch:
        batch.create_index(batch.f("ix_payments_online_notice_order_no"), ["order_no"])
    op.create_table(
        "payments_contribution",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("grade_fen", sa.BigInteger(), nullable=False),
        sa.Column("order_no", sa.String(length=20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("report_detail", sa.String(length=200), nullable=False),
        _when("created_at"),
        _when("paid_at", nullable=True),
        _when("reported_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_contribution")),
        sa.UniqueConstraint("order_no", name=op.f("uq_payments_contribution_order_no")),
        sa.UniqueConstraint(
            "person_id", "year", name=op.f("uq_payments_contribution_person_id_year")
        ),
    )
    with op.batch_alter_table("payments_contribution") as batch:
        batch.create_index(batch.f("ix_payments_contribution_person_id"), ["person_id"])
        batch.create_index(batch.f("ix_payments_contribution_region_code"), ["region_code"])
        batch.create_index(batch.f("ix_payments_contribution_status"), ["status"])
    permission = sa.table("iam_permission", sa.column("code"), sa.column("description"))
    grant = sa.table("iam_role_permission", sa.column("role_code"), sa.column("permission_code"))
    op.bulk_insert(permission, [{"code": c, "description": d} for c, d in PERMISSIONS])
    op.bulk_insert(
        grant,
        [{"role_code": r, "permission_code": p} for r, perms in GRANTS.items() for p in perms],
    )


def downgrade() -> None:
    codes = [c for c, _ in PERMISSIONS]
    for table in ("iam_role_permission", "iam_permission"):
        column = "permission_code" if table == "iam_role_permission" else "code"
        op.execute(
            sa.text(f"DELETE FROM {table} WHERE {column} IN :codes").bindparams(  # noqa: S608
                sa.bindparam("codes", codes, expanding=True)
            )
        )
    with op.batch_alter_table("payments_contribution") as batch:
        batch.drop_index(batch.f("ix_payments_contribution_status"))
        batch.drop_index(batch.f("ix_payments_contribution_region_code"))
        batch.drop_index(batch.f("ix_payments_contribution_person_id"))
    op.drop_table("payments_contribution")
    with op.batch_alter_table("payments_online_notice") as batch:
        batch.drop_index(batch.f("ix_payments_online_notice_order_no"))
    op.drop_table("payments_online_notice")
    with op.batch_alter_table("payments_online_payment") as batch:
        batch.drop_index(batch.f("ix_payments_online_payment_status"))
    op.drop_table("payments_online_payment")
