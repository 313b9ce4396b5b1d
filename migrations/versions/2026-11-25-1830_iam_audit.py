"""iam and audit: institutions, channels, operators, roles and permissions, tokens; audit chain

Revision ID: r0103_iam_audit
Revises: r0102_kit
Create Date: 2026-11-25 18:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import sscard.db

revision: str = "r0103_iam_audit"
down_revision: str | Sequence[str] | None = "r0102_kit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sscard.db.UTCDateTime(timezone=True)

PERMISSIONS = [
    ("iam.read", "查看机构、渠道、操作员与角色"),
    ("iam.manage", "管理机构、渠道、操作员与角色"),
    ("keys.read", "查看密钥清单与公钥"),
    ("keys.manage", "生成、轮换与吊销密钥"),
    ("audit.read", "查询审计日志"),
    ("audit.verify", "校验审计日志哈希链"),
    ("outbox.manage", "查看与重投外部投递消息"),
    ("system.monitor", "查看运行状态与指标"),
]

ROLES = [
    ("admin", "系统管理员", "平台运维与账户管理"),
    ("clerk", "柜员", "服务大厅窗口经办"),
    ("card_manager", "卡管理员", "制卡批次、卡片生命周期与交接管理"),
    ("bank_agent", "银行经办", "合作银行网点与系统"),
    ("vendor_agent", "卡商经办", "卡片制作与交付"),
    ("auditor", "审计员", "审计日志查询与校验"),
    ("analyst", "分析员", "统计分析与监控"),
]

GRANTS = {
    "admin": [code for code, _ in PERMISSIONS],
    "clerk": [],
    "card_manager": ["keys.read"],
    "bank_agent": [],
    "vendor_agent": [],
    "auditor": ["audit.read", "audit.verify", "iam.read"],
    "analyst": ["system.monitor"],
}


def upgrade() -> None:
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=64), nullable=True),
        sa.Column("institution_code", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=True),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("subject_display", sa.String(length=64), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_entry_seq")),
    )
    op.create_index("ix_audit_entry_action", "audit_entry", ["action"])
    op.create_index("ix_audit_entry_actor", "audit_entry", ["actor_kind", "actor_id"])
    op.create_index("ix_audit_entry_occurred_at", "audit_entry", ["occurred_at"])
    op.create_index("ix_audit_entry_subject", "audit_entry", ["subject_type", "subject_id"])

    op.create_table(
        "iam_institution",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["iam_institution.id"],
            name=op.f("fk_iam_institution_parent_id_iam_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_institution")),
        sa.UniqueConstraint("code", name=op.f("uq_iam_institution_code")),
    )
    permission = op.create_table(
        "iam_permission",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_iam_permission")),
    )
    role = op.create_table(
        "iam_role",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_iam_role")),
    )
    op.create_table(
        "iam_channel",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("owner_institution_id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_institution_id"],
            ["iam_institution.id"],
            name=op.f("fk_iam_channel_owner_institution_id_iam_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_channel")),
        sa.UniqueConstraint("code", name=op.f("uq_iam_channel_code")),
    )
    op.create_table(
        "iam_operator",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("institution_id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("password_changed_at", TS, nullable=False),
        sa.Column("last_login_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["iam_institution.id"],
            name=op.f("fk_iam_operator_institution_id_iam_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_operator")),
        sa.UniqueConstraint("username", name=op.f("uq_iam_operator_username")),
    )
    grants = op.create_table(
        "iam_role_permission",
        sa.Column("role_code", sa.String(length=32), nullable=False),
        sa.Column("permission_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["permission_code"],
            ["iam_permission.code"],
            name=op.f("fk_iam_role_permission_permission_code_iam_permission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_code"],
            ["iam_role.code"],
            name=op.f("fk_iam_role_permission_role_code_iam_role"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "role_code", "permission_code", name=op.f("pk_iam_role_permission")
        ),
    )
    op.create_table(
        "iam_login_attempt",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("operator_id", ID, nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("attempted_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["iam_operator.id"],
            name=op.f("fk_iam_login_attempt_operator_id_iam_operator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_login_attempt")),
    )
    op.create_index(
        "ix_iam_login_attempt_username_at", "iam_login_attempt", ["username", "attempted_at"]
    )
    op.create_table(
        "iam_operator_role",
        sa.Column("operator_id", ID, nullable=False),
        sa.Column("role_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["iam_operator.id"],
            name=op.f("fk_iam_operator_role_operator_id_iam_operator"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_code"], ["iam_role.code"], name=op.f("fk_iam_operator_role_role_code_iam_role")
        ),
        sa.PrimaryKeyConstraint("operator_id", "role_code", name=op.f("pk_iam_operator_role")),
    )
    op.create_table(
        "iam_token",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["iam_operator.id"],
            name=op.f("fk_iam_token_operator_id_iam_operator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_iam_token_token_hash")),
    )
    op.create_index("ix_iam_token_operator_id", "iam_token", ["operator_id"])

    op.bulk_insert(
        head, [{"id": 1, "seq": 0, "entry_hash": "0" * 64, "updated_at": datetime.now(UTC)}]
    )
    op.bulk_insert(permission, [{"code": c, "description": d} for c, d in PERMISSIONS])
    op.bulk_insert(role, [{"code": c, "name": n, "description": d} for c, n, d in ROLES])
    op.bulk_insert(
        grants,
        [{"role_code": r, "permission_code": p} for r, perms in GRANTS.items() for p in perms],
    )


def downgrade() -> None:
    op.drop_index("ix_iam_token_operator_id", table_name="iam_token")
    op.drop_table("iam_token")
    op.drop_table("iam_operator_role")
    op.drop_index("ix_iam_login_attempt_username_at", table_name="iam_login_attempt")
    op.drop_table("iam_login_attempt")
    op.drop_table("iam_role_permission")
    op.drop_table("iam_operator")
    op.drop_table("iam_channel")
    op.drop_table("iam_role")
    op.drop_table("iam_permission")
    op.drop_table("iam_institution")
    for name in ("subject", "occurred_at", "actor", "action"):
        op.drop_index(f"ix_audit_entry_{name}", table_name="audit_entry")
    op.drop_table("audit_entry")
    op.drop_table("audit_chain_head")
