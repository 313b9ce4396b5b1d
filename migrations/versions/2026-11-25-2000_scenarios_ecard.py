"""scenarios and e-card: scenarios, terminals, e-cards, copies, family bindings, sessions, usage, revocations; permissions; default scenarios

Revision ID: r0109_ecard
Revises: r0106_issuance
Create Date: 2026-11-25 19:09:33.719274+00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import sscard.db

PERMISSIONS = [
    ("ecard.sign", "柜台签发电子社保卡（含实人核验确认）"),
    ("ecard.verify", "核验电子社保卡二维码"),
    ("ecard.read", "查询电子社保卡与副本"),
    ("ecard.manage", "管理电子社保卡、亲情服务与授权"),
    ("scenarios.read", "查看应用场景与终端"),
    ("scenarios.manage", "管理应用场景与终端"),
]
GRANTS = {
    "admin": [code for code, _ in PERMISSIONS],
    "clerk": ["ecard.sign", "ecard.verify", "ecard.read"],
    "card_manager": ["ecard.read", "scenarios.read"],
}
SCENARIOS = [
    ("library", "图书馆借阅", 3, ["name_masked", "card_valid", "age_band"]),
    ("park", "公园景区入园", 3, ["name_masked", "card_valid", "age_band", "region"]),
    ("bus", "公交乘车", 3, ["card_valid", "age_band"]),
    ("hospital", "医院就医", 3, ["name", "id_number", "gender", "birth_date", "card_number",
                               "card_valid", "region", "insurance"]),
    ("counter", "人社服务窗口", 3, ["name", "id_number", "gender", "birth_date", "card_number",
                              "card_valid", "region", "insurance", "photo"]),
    ("pharmacy", "定点药店购药", 3, ["name_masked", "id_number_masked", "card_valid",
                                 "insurance"]),
]  # fmt: skip

revision: str = "r0109_ecard"
down_revision: str | Sequence[str] | None = "r0106_issuance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ecard_family_binding",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("guardian_person_id", sa.String(length=26), nullable=False),
        sa.Column("member_person_id", sa.String(length=26), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("consent", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecard_family_binding")),
    )
    with op.batch_alter_table("ecard_family_binding", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ecard_family_binding_guardian_person_id"),
            ["guardian_person_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ecard_family_binding_member_person_id"),
            ["member_person_id"],
            unique=False,
        )

    op.create_table(
        "ecard_revocation",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("copy_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ecard_revocation")),
    )
    with op.batch_alter_table("ecard_revocation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ecard_revocation_copy_id"), ["copy_id"], unique=False)

    op.create_table(
        "ecard_usage",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ecard_id", sa.String(length=26), nullable=True),
        sa.Column("copy_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("business", sa.Integer(), nullable=True),
        sa.Column("scenario_code", sa.String(length=32), nullable=True),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecard_usage")),
    )
    with op.batch_alter_table("ecard_usage", schema=None) as batch_op:
        batch_op.create_index("ix_ecard_usage_ecard_at", ["ecard_id", "occurred_at"], unique=False)

    op.create_table(
        "scenarios_scenario",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("disclosure", sa.JSON(), nullable=False),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_scenarios_scenario")),
    )
    op.create_table(
        "scenarios_terminal",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("scenario_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_code"],
            ["scenarios_scenario.code"],
            name=op.f("fk_scenarios_terminal_scenario_code_scenarios_scenario"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenarios_terminal")),
        sa.UniqueConstraint("code", name=op.f("uq_scenarios_terminal_code")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_scenarios_terminal_token_hash")),
    )
    op.create_table(
        "ecard_card",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("card_id", sa.String(length=26), nullable=False),
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("signed_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signed_channel", sa.String(length=32), nullable=False),
        sa.Column("real_person_method", sa.String(length=16), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("pin_failures", sa.Integer(), nullable=False),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["issuance_card.id"], name=op.f("fk_ecard_card_card_id_issuance_card")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["registry_person.id"],
            name=op.f("fk_ecard_card_person_id_registry_person"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecard_card")),
        sa.UniqueConstraint("card_id", name=op.f("uq_ecard_card_card_id")),
    )
    with op.batch_alter_table("ecard_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ecard_card_person_id"), ["person_id"], unique=False)

    op.create_table(
        "ecard_copy",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ecard_id", sa.String(length=26), nullable=False),
        sa.Column("channel_code", sa.String(length=32), nullable=False),
        sa.Column("holder_person_id", sa.String(length=26), nullable=False),
        sa.Column("proxy", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ecard_id"],
            ["ecard_card.id"],
            name=op.f("fk_ecard_copy_ecard_id_ecard_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecard_copy")),
        sa.UniqueConstraint(
            "ecard_id",
            "channel_code",
            "holder_person_id",
            name=op.f("uq_ecard_copy_ecard_id_channel_code_holder_person_id"),
        ),
    )
    with op.batch_alter_table("ecard_copy", schema=None) as batch_op:
        batch_op.create_index("ix_ecard_copy_holder", ["holder_person_id"], unique=False)

    op.create_table(
        "ecard_session",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("ecard_id", sa.String(length=26), nullable=False),
        sa.Column("channel_code", sa.String(length=32), nullable=False),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ecard_id"],
            ["ecard_card.id"],
            name=op.f("fk_ecard_session_ecard_id_ecard_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecard_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_ecard_session_token_hash")),
    )
    with op.batch_alter_table("ecard_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ecard_session_person_id"), ["person_id"], unique=False)
    permission = sa.table("iam_permission", sa.column("code"), sa.column("description"))
    grant = sa.table("iam_role_permission", sa.column("role_code"), sa.column("permission_code"))
    op.bulk_insert(permission, [{"code": c, "description": d} for c, d in PERMISSIONS])
    op.bulk_insert(
        grant,
        [{"role_code": r, "permission_code": p} for r, perms in GRANTS.items() for p in perms],
    )
    scenario = sa.table(
        "scenarios_scenario",
        sa.column("code"),
        sa.column("name"),
        sa.column("level"),
        sa.column("disclosure", sa.JSON()),
        sa.column("created_at", sscard.db.UTCDateTime()),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        scenario,
        [
            {"code": c, "name": n, "level": lv, "disclosure": d, "created_at": now}
            for c, n, lv, d in SCENARIOS
        ],
    )


def downgrade() -> None:
    codes = sa.bindparam("codes", [c for c, _ in PERMISSIONS], expanding=True)
    op.execute(
        sa.text("DELETE FROM iam_role_permission WHERE permission_code IN :codes").bindparams(codes)
    )
    op.execute(sa.text("DELETE FROM iam_permission WHERE code IN :codes").bindparams(codes))
    with op.batch_alter_table("ecard_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ecard_session_person_id"))

    op.drop_table("ecard_session")
    with op.batch_alter_table("ecard_copy", schema=None) as batch_op:
        batch_op.drop_index("ix_ecard_copy_holder")

    op.drop_table("ecard_copy")
    with op.batch_alter_table("ecard_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ecard_card_person_id"))

    op.drop_table("ecard_card")
    op.drop_table("scenarios_terminal")
    op.drop_table("scenarios_scenario")
    with op.batch_alter_table("ecard_usage", schema=None) as batch_op:
        batch_op.drop_index("ix_ecard_usage_ecard_at")

    op.drop_table("ecard_usage")
    with op.batch_alter_table("ecard_revocation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ecard_revocation_copy_id"))

    op.drop_table("ecard_revocation")
    with op.batch_alter_table("ecard_family_binding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ecard_family_binding_member_person_id"))
        batch_op.drop_index(batch_op.f("ix_ecard_family_binding_guardian_person_id"))

    op.drop_table("ecard_family_binding")
