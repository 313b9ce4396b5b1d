"""payments merchants: the merchant table (settlement account sealed), the terminals linked
to merchants, and the merchant permissions, granted to administrators (read and manage)
and counter clerks (read and manage within their region)

Revision ID: r0117_payments_merchants
Revises: r0116_payments_ledger
Create Date: 2026-12-04 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0117_payments_merchants"
down_revision: str | Sequence[str] | None = "r0116_payments_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "payments_merchant"
PERMISSIONS = [
    ("payments.merchants.read", "查询商户"),
    ("payments.merchants.manage", "商户入网、修改、暂停、关闭与恢复"),
]
GRANTS = {
    "admin": ["payments.merchants.read", "payments.merchants.manage"],
    "clerk": ["payments.merchants.read", "payments.merchants.manage"],
}


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("mcc", sa.String(length=4), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("settlement_bank", sa.String(length=100), nullable=False),
        sa.Column("settlement_account_enc", sa.LargeBinary(), nullable=False),
        sa.Column("settlement_account_masked", sa.String(length=40), nullable=False),
        sa.Column("fee_rate_bp", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_merchant")),
        sa.UniqueConstraint("code", name=op.f("uq_payments_merchant_code")),
    )
    with op.batch_alter_table(TABLE) as batch:
        batch.create_index(
            batch.f("ix_payments_merchant_institution_code"), ["institution_code"], unique=False
        )
        batch.create_index(batch.f("ix_payments_merchant_region_code"), ["region_code"])
        batch.create_index(batch.f("ix_payments_merchant_status"), ["status"])
    op.create_table(
        "payments_merchant_terminal",
        sa.Column("terminal_code", sa.String(length=32), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("linked_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            [f"{TABLE}.id"],
            name=op.f("fk_payments_merchant_terminal_merchant_id_payments_merchant"),
        ),
        sa.PrimaryKeyConstraint("terminal_code", name=op.f("pk_payments_merchant_terminal")),
    )
    with op.batch_alter_table("payments_merchant_terminal") as batch:
        batch.create_index(batch.f("ix_payments_merchant_terminal_merchant_id"), ["merchant_id"])
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
    with op.batch_alter_table("payments_merchant_terminal") as batch:
        batch.drop_index(batch.f("ix_payments_merchant_terminal_merchant_id"))
    op.drop_table("payments_merchant_terminal")
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_index(batch.f("ix_payments_merchant_status"))
        batch.drop_index(batch.f("ix_payments_merchant_region_code"))
        batch.drop_index(batch.f("ix_payments_merchant_institution_code"))
    op.drop_table(TABLE)
