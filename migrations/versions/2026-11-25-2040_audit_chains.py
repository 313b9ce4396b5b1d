"""audit chains: entries belong to one of several parallel chains (unique chain and seq)

Revision ID: r0111_audit_chains
Revises: r0107_batches
Create Date: 2026-11-25 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0111_audit_chains"
down_revision: str | Sequence[str] | None = "r0107_batches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(sa.Column("chain", sa.Integer(), nullable=False, server_default="1"))
        batch.drop_constraint("uq_audit_entry_seq", type_="unique")
        batch.create_unique_constraint("uq_audit_entry_chain_seq", ["chain", "seq"])


def downgrade() -> None:
    op.execute("DELETE FROM audit_entry WHERE chain <> 1")
    op.execute("DELETE FROM audit_chain_head WHERE id <> 1")
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_constraint("uq_audit_entry_chain_seq", type_="unique")
        batch.create_unique_constraint("uq_audit_entry_seq", ["seq"])
        batch.drop_column("chain")
