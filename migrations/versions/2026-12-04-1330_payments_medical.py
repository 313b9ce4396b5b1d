"""payments medical: medical settlements (就医结算) and chronic-disease qualifications
(门诊慢特病资格); the medical permissions, granted to administrators and counter clerks,
and a role for the settlement desks of hospitals and pharmacies (定点医药机构经办)

Revision ID: r0120_payments_medical
Revises: r0123_payments_online
Create Date: 2026-12-04 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0120_payments_medical"
down_revision: str | Sequence[str] | None = "r0123_payments_online"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SETTLEMENT = "payments_medical_settlement"
CHRONIC = "payments_chronic_qualification"
PERMISSIONS = [
    ("payments.medical.read", "查询就医结算与慢特病资格"),
    ("payments.medical.settle", "就医结算、试算与退费"),
    ("payments.medical.chronic", "审核登记与撤销门诊慢特病资格"),
]
ROLES = [("medical_agent", "医药机构经办", "定点医院、药店的医保结算窗口")]
GRANTS = {
    "admin": [code for code, _ in PERMISSIONS],
    "clerk": [code for code, _ in PERMISSIONS],
    "medical_agent": ["payments.medical.read", "payments.medical.settle"],
}
BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sscard.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        SETTLEMENT,
        sa.Column("id", BIGINT_ID, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("card_id", sa.String(length=26), nullable=False),
        sa.Column("bank_code", sa.String(length=32), nullable=False),
        sa.Column("merchant_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("visit_kind", sa.String(length=16), nullable=False),
        sa.Column("offsite", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("insurance_type", sa.String(length=16), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("pool_fen", sa.BigInteger(), nullable=False),
        sa.Column("personal_fen", sa.BigInteger(), nullable=False),
        sa.Column("cash_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("peer_settlement_id", sa.String(length=32), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("refund_reason", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        _when("created_at"),
        _when("settled_at", True),
        _when("refunded_at", True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_medical_settlement")),
        sa.UniqueConstraint("number", name=op.f("uq_payments_medical_settlement_number")),
    )
    with op.batch_alter_table(SETTLEMENT) as batch:
        for column in ("person_id", "card_id", "merchant_code", "region_code", "status"):
            batch.create_index(batch.f(f"ix_{SETTLEMENT}_{column}"), [column])
    op.create_table(
        CHRONIC,
        sa.Column("id", BIGINT_ID, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("disease_code", sa.String(length=16), nullable=False),
        sa.Column("disease_name", sa.String(length=50), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        _when("created_at"),
        _when("revoked_at", True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_chronic_qualification")),
        sa.UniqueConstraint("number", name=op.f("uq_payments_chronic_qualification_number")),
    )
    with op.batch_alter_table(CHRONIC) as batch:
        for column in ("person_id", "region_code"):
            batch.create_index(batch.f(f"ix_{CHRONIC}_{column}"), [column])
    role = sa.table("iam_role", sa.column("code"), sa.column("name"), sa.column("description"))
    permission = sa.table("iam_permission", sa.column("code"), sa.column("description"))
    grant = sa.table("iam_role_permission", sa.column("role_code"), sa.column("permission_code"))
    op.bulk_insert(role, [{"code": c, "name": n, "description": d} for c, n, d in ROLES])
    op.bulk_insert(permission, [{"code": c, "description": d} for c, d in PERMISSIONS])
    op.bulk_insert(
        grant,
        [{"role_code": r, "permission_code": p} for r, perms in GRANTS.items() for p in perms],
    )


def _delete(table: str, column: str, codes: list[str]) -> None:
    op.execute(
        sa.text(f"DELETE FROM {table} WHERE {column} IN :codes").bindparams(  # noqa: S608
            sa.bindparam("codes", codes, expanding=True)
        )
    )


def downgrade() -> None:
    codes = [c for c, _ in PERMISSIONS]
    _delete("iam_role_permission", "permission_code", codes)
    _delete("iam_role_permission", "role_code", [c for c, _, _ in ROLES])
    _delete("iam_permission", "code", codes)
    _delete("iam_role", "code", [c for c, _, _ in ROLES])
    with op.batch_alter_table(CHRONIC) as batch:
        for column in ("person_id", "region_code"):
            batch.drop_index(batch.f(f"ix_{CHRONIC}_{column}"))
    op.drop_table(CHRONIC)
    with op.batch_alter_table(SETTLEMENT) as batch:
        for column in ("person_id", "card_id", "merchant_code", "region_code", "status"):
            batch.drop_index(batch.f(f"ix_{SETTLEMENT}_{column}"))
    op.drop_table(SETTLEMENT)
