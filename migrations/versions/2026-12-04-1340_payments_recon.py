"""payments clearing and reconciliation: clearing days and their lines (per merchant, per
bank), imported daily files and the differences found in them; the permissions
``payments.recon.read|manage|approve`` and ``payments.settlement.read``. Administrators get
all of them; counter clerks read, import and resolve (a second operator with approve
confirms large adjustments); auditors read; analysts read settlement reports.

Revision ID: r0122_payments_recon
Revises: r0121_payments_disbursement
Create Date: 2026-12-04 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0122_payments_recon"
down_revision: str | Sequence[str] | None = "r0121_payments_disbursement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERMISSIONS = [
    ("payments.recon.read", "查看对账结果与差错"),
    ("payments.recon.manage", "导入对账文件、执行清算、处理差错"),
    ("payments.recon.approve", "复核超过限额的差错调账（第二人）"),
    ("payments.settlement.read", "查看清算与结算报表"),
]
GRANTS = {
    "admin": [c for c, _ in PERMISSIONS],
    "clerk": ["payments.recon.read", "payments.recon.manage", "payments.settlement.read"],
    "auditor": ["payments.recon.read", "payments.settlement.read"],
    "analyst": ["payments.settlement.read"],
}
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sscard.db.UTCDateTime(timezone=True)


def _money(*names: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(n, sa.BigInteger(), nullable=False) for n in names]


def upgrade() -> None:
    op.create_table(
        "payments_clearing_day",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cutoff", sa.String(5), nullable=False),
        sa.Column("pay_count", sa.Integer(), nullable=False),
        *_money("pay_fen"),
        sa.Column("refund_count", sa.Integer(), nullable=False),
        *_money("refund_fen", "fee_fen", "settled_fen"),
        sa.Column("file_name", sa.String(80), nullable=False),
        sa.Column("file_sm3", sa.String(64), nullable=False),
        sa.Column("run_by", sa.String(80), nullable=False),
        sa.Column("run_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_clearing_day")),
        sa.UniqueConstraint("day", name=op.f("uq_payments_clearing_day_day")),
    )
    op.create_table(
        "payments_clearing_line",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("party_kind", sa.String(16), nullable=False),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("pay_count", sa.Integer(), nullable=False),
        *_money("pay_fen"),
        sa.Column("refund_count", sa.Integer(), nullable=False),
        *_money("refund_fen", "fee_fen", "net_fen"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_clearing_line")),
        sa.UniqueConstraint(
            "day",
            "party_kind",
            "party",
            name=op.f("uq_payments_clearing_line_day_party_kind_party"),
        ),
    )
    op.create_index(op.f("ix_payments_clearing_line_day"), "payments_clearing_line", ["day"])
    op.create_table(
        "payments_recon_import",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("file_sm3", sa.String(64), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        *_money("debit_fen", "credit_fen"),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(80), nullable=False),
        sa.Column("imported_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_recon_import")),
        sa.UniqueConstraint(
            "day", "source", "party", name=op.f("uq_payments_recon_import_day_source_party")
        ),
    )
    op.create_table(
        "payments_recon_difference",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("merchant_code", sa.String(32), nullable=True),
        sa.Column("bank_code", sa.String(64), nullable=True),
        sa.Column("ours_fen", sa.BigInteger(), nullable=True),
        sa.Column("theirs_fen", sa.BigInteger(), nullable=True),
        sa.Column("ours_status", sa.String(16), nullable=True),
        sa.Column("theirs_status", sa.String(16), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("action", sa.String(16), nullable=True),
        sa.Column("adjust_fen", sa.BigInteger(), nullable=True),
        sa.Column("debit_account", sa.String(96), nullable=True),
        sa.Column("credit_account", sa.String(96), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("transfer_ref", sa.String(64), nullable=True),
        sa.Column("resolved_by", sa.String(80), nullable=True),
        sa.Column("resolved_at", TIME, nullable=True),
        sa.Column("approved_by", sa.String(80), nullable=True),
        sa.Column("approved_at", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_recon_difference")),
        sa.UniqueConstraint(
            "day",
            "source",
            "party",
            "ref",
            name=op.f("uq_payments_recon_difference_day_source_party_ref"),
        ),
    )
    op.create_index(
        "ix_payments_recon_difference_day_state", "payments_recon_difference", ["day", "state"]
    )
    op.create_index(
        op.f("ix_payments_recon_difference_merchant_code"),
        "payments_recon_difference",
        ["merchant_code"],
    )
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
    op.drop_index(op.f("ix_payments_recon_difference_merchant_code"), "payments_recon_difference")
    op.drop_index("ix_payments_recon_difference_day_state", "payments_recon_difference")
    op.drop_table("payments_recon_difference")
    op.drop_table("payments_recon_import")
    op.drop_index(op.f("ix_payments_clearing_line_day"), "payments_clearing_line")
    op.drop_table("payments_clearing_line")
    op.drop_table("payments_clearing_day")
