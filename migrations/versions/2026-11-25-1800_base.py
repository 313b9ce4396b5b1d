"""base: the empty schema every migration starts from

Revision ID: r0000_base
Revises:
Create Date: 2026-11-25 18:00:00
"""

from collections.abc import Sequence

revision: str = "r0000_base"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
