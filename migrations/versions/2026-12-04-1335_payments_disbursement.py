"""payments disbursement: benefit batches, the payment files sent to the banks and the
lines paid, with the disbursement permissions (read and manage), granted to administrators
and counter clerks

Revision ID: r0121_payments_disbursement
Revises: r0120_payments_medical
Create Date: 2026-12-04 13:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0121_payments_disbursement"
down_revision: str | Sequence[str] | None = "r0120_payments_medical"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH, FILE, LINE = (
    "payments_disbursement_batch",
    "payments_disbursement_file",
    "payments_disbursement_line",
)
PERMISSIONS = [
    ("payments.disbursement.read", "查询待遇发放批次与明细"),
    ("payments.disbursement.manage", "导入、发送待遇发放文件，处理发放失败"),
]
GRANTS = {
    "admin": ["payments.disbursement.read", "payments.disbursement.manage"],
    "clerk": ["payments.disbursement.read", "payments.disbursement.manage"],
}


def _id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def _ref(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sscard.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        BATCH,
        _id(),
        sa.Column("batch_no", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=False),
        sa.Column("source_sm3", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{BATCH}")),
        sa.UniqueConstraint("batch_no", name=op.f(f"uq_{BATCH}_batch_no")),
    )
    with op.batch_alter_table(BATCH) as batch:
        batch.create_index(batch.f(f"ix_{BATCH}_status"), ["status"])
        batch.create_index(batch.f(f"ix_{BATCH}_region_code"), ["region_code"])
    op.create_table(
        FILE,
        _id(),
        sa.Column("file_no", sa.String(length=64), nullable=False),
        _ref("batch_id"),
        sa.Column("bank_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("sent_at", True),
        _time("returned_at", True),
        sa.ForeignKeyConstraint(
            ["batch_id"], [f"{BATCH}.id"], name=op.f(f"fk_{FILE}_batch_id_{BATCH}")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{FILE}")),
        sa.UniqueConstraint("file_no", name=op.f(f"uq_{FILE}_file_no")),
    )
    with op.batch_alter_table(FILE) as batch:
        batch.create_index(batch.f(f"ix_{FILE}_batch_id"), ["batch_id"])
    op.create_table(
        LINE,
        _id(),
        _ref("batch_id"),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("id_number_masked", sa.String(length=32), nullable=False),
        sa.Column("name_masked", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("card_id", sa.String(length=26), nullable=False),
        sa.Column("card_number", sa.String(length=9), nullable=False),
        sa.Column("bank_code", sa.String(length=32), nullable=False),
        sa.Column("bank_account_masked", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fail_code", sa.String(length=32), nullable=True),
        sa.Column("fail_reason", sa.String(length=200), nullable=True),
        _ref("retry_of_id", True),
        _ref("file_id", True),
        sa.Column("note", sa.String(length=200), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.CheckConstraint("amount_fen > 0", name=op.f(f"ck_{LINE}_amount_positive")),
        sa.ForeignKeyConstraint(
            ["batch_id"], [f"{BATCH}.id"], name=op.f(f"fk_{LINE}_batch_id_{BATCH}")
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], [f"{FILE}.id"], name=op.f(f"fk_{LINE}_file_id_{FILE}")
        ),
        sa.ForeignKeyConstraint(
            ["retry_of_id"], [f"{LINE}.id"], name=op.f(f"fk_{LINE}_retry_of_id_{LINE}")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{LINE}")),
        sa.UniqueConstraint("retry_of_id", name=op.f(f"uq_{LINE}_retry_of_id")),
    )
    with op.batch_alter_table(LINE) as batch:
        batch.create_index(batch.f(f"ix_{LINE}_batch_id"), ["batch_id"])
        batch.create_index(batch.f(f"ix_{LINE}_person_id"), ["person_id"])
        batch.create_index(batch.f(f"ix_{LINE}_status"), ["status"])
        batch.create_index(batch.f(f"ix_{LINE}_file_id"), ["file_id"])
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
    with op.batch_alter_table(LINE) as batch:
        for column in ("file_id", "status", "person_id", "batch_id"):
            batch.drop_index(batch.f(f"ix_{LINE}_{column}"))
    op.drop_table(LINE)
    with op.batch_alter_table(FILE) as batch:
        batch.drop_index(batch.f(f"ix_{FILE}_batch_id"))
    op.drop_table(FILE)
    with op.batch_alter_table(BATCH) as batch:
        batch.drop_index(batch.f(f"ix_{BATCH}_region_code"))
        batch.drop_index(batch.f(f"ix_{BATCH}_status"))
    op.drop_table(BATCH)
