"""issuance statistics permission: ``issuance.stats`` reads the making progress, card holding
and failure counts (no personal data). The analyst role gains it, so it reaches the
statistics it exists for; the clerk, card manager and admin keep what they saw under
``issuance.read``. Bank and vendor agents no longer see platform-wide counts.

Revision ID: r0115_issuance_stats
Revises: r0117_payments_merchants
Create Date: 2026-12-04 13:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0115_issuance_stats"
down_revision: str | Sequence[str] | None = "r0117_payments_merchants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERMISSIONS = [("issuance.stats", "查看发卡统计（制卡进度、持卡与失败数量，不含个人信息）")]
GRANTS = {role: ["issuance.stats"] for role in ("admin", "clerk", "card_manager", "analyst")}


def upgrade() -> None:
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
