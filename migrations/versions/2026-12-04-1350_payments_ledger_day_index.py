"""payments ledger: an index on a transfer's time, for clearing and reconciliation, which
read one clearing day's transfers out of a ledger that holds every day.

Revision ID: r0124_ledger_day_index
Revises: r0122_payments_recon
Create Date: 2026-12-04 13:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "r0124_ledger_day_index"
down_revision: str | Sequence[str] | None = "r0122_payments_recon"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_payments_ledger_transfer_created_at"),
        "payments_ledger_transfer",
        ["created_at"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_payments_ledger_transfer_created_at"), table_name="payments_ledger_transfer"
    )
