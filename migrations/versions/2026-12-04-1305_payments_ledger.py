"""payments ledger: accounts and transfers, with the invariants kept by the database

Triggers on both databases (PL/pgSQL functions on PostgreSQL, SQL triggers on SQLite):
- every inserted transfer is applied to its two accounts' totals in the same statement, so
  the totals can only move with a transfer; the accounts' CHECK constraints then refuse an
  overdraw (under concurrency too: the UPDATE takes the account's row lock and checks the
  row it writes);
- a post or void must match its pending transfer (same accounts, a post not above it, a
  void equal to it) and both accounts must have the same currency;
- transfers are immutable: UPDATE and DELETE are refused (and TRUNCATE on PostgreSQL).
The permission ``payments.ledger.read`` is granted to the admin and auditor roles.

Revision ID: r0116_payments_ledger
Revises: r0114_wallet_business
Create Date: 2026-12-04 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0116_payments_ledger"
down_revision: str | Sequence[str] | None = "r0114_wallet_business"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sscard.db.UTCDateTime(timezone=True)
ACCOUNT = "payments_ledger_account"
TRANSFER = "payments_ledger_transfer"

PERMISSIONS = [("payments.ledger.read", "查看资金总账（账户余额与转账）")]
GRANTS = {"admin": ["payments.ledger.read"], "auditor": ["payments.ledger.read"]}

# The effect of a transfer on its accounts (rules.effect): posted and post_pending post
# their amount; pending reserves it; post_pending and void_pending release the pending
# transfer's whole amount.
POSTED = "CASE WHEN NEW.kind IN ('posted', 'post_pending') THEN NEW.amount ELSE 0 END"
PENDING = f"""CASE NEW.kind WHEN 'posted' THEN 0 WHEN 'pending' THEN NEW.amount
    ELSE -(SELECT p.amount FROM {TRANSFER} p WHERE p.id = NEW.pending_id) END"""  # noqa: S608
APPLY = f"""
    UPDATE {ACCOUNT} SET debits_posted = debits_posted + {POSTED},
        debits_pending = debits_pending + {PENDING}
    WHERE id = NEW.debit_account_id;
    UPDATE {ACCOUNT} SET credits_posted = credits_posted + {POSTED},
        credits_pending = credits_pending + {PENDING}
    WHERE id = NEW.credit_account_id;
"""  # noqa: S608
# True when the transfer is wrong in a way the CHECK constraints cannot see.
MISMATCH = f"""
    (SELECT d.currency FROM {ACCOUNT} d WHERE d.id = NEW.debit_account_id)
        IS DISTINCT FROM (SELECT c.currency FROM {ACCOUNT} c WHERE c.id = NEW.credit_account_id)
    OR (NEW.pending_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM {TRANSFER} p WHERE p.id = NEW.pending_id AND p.kind = 'pending'
            AND p.debit_account_id = NEW.debit_account_id
            AND p.credit_account_id = NEW.credit_account_id
            AND ((NEW.kind = 'post_pending' AND NEW.amount <= p.amount)
                OR (NEW.kind = 'void_pending' AND NEW.amount = p.amount))))
"""  # noqa: S608
IMMUTABLE = "ledger transfers are immutable: reverse a transfer instead of changing it"

POSTGRESQL_UP = [
    f"""CREATE FUNCTION payments_ledger_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {MISMATCH} THEN
        RAISE EXCEPTION 'ledger transfer % does not match its accounts or pending transfer',
            NEW.ref USING ERRCODE = 'check_violation';
    END IF;
    {APPLY}
    RETURN NULL;
END $$""",
    f"""CREATE FUNCTION payments_ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{IMMUTABLE}' USING ERRCODE = 'restrict_violation';
END $$""",
    f"""CREATE TRIGGER payments_ledger_transfer_apply AFTER INSERT ON {TRANSFER}
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_apply()""",
    f"""CREATE TRIGGER payments_ledger_transfer_immutable BEFORE UPDATE OR DELETE ON {TRANSFER}
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_immutable()""",
    f"""CREATE TRIGGER payments_ledger_transfer_no_truncate BEFORE TRUNCATE ON {TRANSFER}
    FOR EACH STATEMENT EXECUTE FUNCTION payments_ledger_immutable()""",
]
POSTGRESQL_DOWN = [
    "DROP FUNCTION IF EXISTS payments_ledger_apply() CASCADE",
    "DROP FUNCTION IF EXISTS payments_ledger_immutable() CASCADE",
]
SQLITE_UP = [
    f"""CREATE TRIGGER payments_ledger_transfer_check BEFORE INSERT ON {TRANSFER}
BEGIN
    SELECT RAISE(ABORT, 'ledger transfer does not match its accounts or pending transfer')
    WHERE {MISMATCH.replace("IS DISTINCT FROM", "IS NOT")};
END""",
    f"""CREATE TRIGGER payments_ledger_transfer_apply AFTER INSERT ON {TRANSFER}
BEGIN
    {APPLY}
END""",
    f"""CREATE TRIGGER payments_ledger_transfer_no_update BEFORE UPDATE ON {TRANSFER}
BEGIN
    SELECT RAISE(ABORT, '{IMMUTABLE}');
END""",
    f"""CREATE TRIGGER payments_ledger_transfer_no_delete BEFORE DELETE ON {TRANSFER}
BEGIN
    SELECT RAISE(ABORT, '{IMMUTABLE}');
END""",
]


def upgrade() -> None:
    op.create_table(
        ACCOUNT,
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.Integer(), nullable=False),
        sa.Column("debits_must_not_exceed_credits", sa.Boolean(), nullable=False),
        sa.Column("credits_must_not_exceed_debits", sa.Boolean(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0"
            " AND credits_pending >= 0 AND credits_posted >= 0",
            name=op.f("ck_payments_ledger_account_totals_not_negative"),
        ),
        sa.CheckConstraint(
            "NOT debits_must_not_exceed_credits"
            " OR debits_pending + debits_posted <= credits_posted",
            name=op.f("ck_payments_ledger_account_debits_within_credits"),
        ),
        sa.CheckConstraint(
            "NOT credits_must_not_exceed_debits"
            " OR credits_pending + credits_posted <= debits_posted",
            name=op.f("ck_payments_ledger_account_credits_within_debits"),
        ),
        sa.CheckConstraint(
            "NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)",
            name=op.f("ck_payments_ledger_account_one_flag"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_ledger_account")),
        sa.UniqueConstraint("code", name=op.f("uq_payments_ledger_account_code")),
    )
    op.create_table(
        TRANSFER,
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("debit_account_id", ID, nullable=False),
        sa.Column("credit_account_id", ID, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("pending_id", ID, nullable=True),
        sa.Column("reverses_id", ID, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_ledger_transfer_amount_positive")),
        sa.CheckConstraint(
            "debit_account_id <> credit_account_id",
            name=op.f("ck_payments_ledger_transfer_two_accounts"),
        ),
        sa.CheckConstraint(
            "kind IN ('posted', 'pending', 'post_pending', 'void_pending')",
            name=op.f("ck_payments_ledger_transfer_kind"),
        ),
        sa.CheckConstraint(
            "(pending_id IS NULL) = (kind IN ('posted', 'pending'))",
            name=op.f("ck_payments_ledger_transfer_resolves_pending"),
        ),
        sa.CheckConstraint(
            "expires_at IS NULL OR kind = 'pending'",
            name=op.f("ck_payments_ledger_transfer_timeout_of_pending"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_account_id"],
            [f"{ACCOUNT}.id"],
            name=op.f("fk_payments_ledger_transfer_credit_account_id_payments_ledger_account"),
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"],
            [f"{ACCOUNT}.id"],
            name=op.f("fk_payments_ledger_transfer_debit_account_id_payments_ledger_account"),
        ),
        sa.ForeignKeyConstraint(
            ["pending_id"],
            [f"{TRANSFER}.id"],
            name=op.f("fk_payments_ledger_transfer_pending_id_payments_ledger_transfer"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            [f"{TRANSFER}.id"],
            name=op.f("fk_payments_ledger_transfer_reverses_id_payments_ledger_transfer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_ledger_transfer")),
        sa.UniqueConstraint("ref", name=op.f("uq_payments_ledger_transfer_ref")),
        sa.UniqueConstraint("pending_id", name=op.f("uq_payments_ledger_transfer_pending_id")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_payments_ledger_transfer_reverses_id")),
    )
    op.create_index(
        op.f("ix_payments_ledger_transfer_debit_account_id"), TRANSFER, ["debit_account_id"]
    )
    op.create_index(
        op.f("ix_payments_ledger_transfer_credit_account_id"), TRANSFER, ["credit_account_id"]
    )
    statements = POSTGRESQL_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP
    for statement in statements:
        op.execute(statement)
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
    op.drop_index(op.f("ix_payments_ledger_transfer_credit_account_id"), table_name=TRANSFER)
    op.drop_index(op.f("ix_payments_ledger_transfer_debit_account_id"), table_name=TRANSFER)
    op.drop_table(TRANSFER)
    op.drop_table(ACCOUNT)
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
