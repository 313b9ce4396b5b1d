"""registry: persons (personal fields encrypted), enrolments, photos, employers, communities, import jobs; registry permissions

Revision ID: r0105_registry
Revises: r0104_exchange_codes
Create Date: 2026-11-25 18:48:12.145036+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sscard.db

PERMISSIONS = [
    ("registry.read", "查询人员、单位与社区（脱敏）"),
    ("registry.write", "登记与修改人员、单位与社区"),
    ("registry.unmask", "查看人员完整信息（须说明用途，记入审计）"),
    ("registry.photo.read", "查看人员照片"),
    ("registry.import", "批量导入人员"),
]
GRANTS = {
    "admin": [code for code, _ in PERMISSIONS],
    "clerk": [
        "registry.read",
        "registry.write",
        "registry.unmask",
        "registry.photo.read",
        "registry.import",
    ],
    "card_manager": ["registry.read", "registry.photo.read"],
    "bank_agent": ["registry.read"],
}

revision: str = "r0105_registry"
down_revision: str | Sequence[str] | None = "r0104_exchange_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registry_community",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("township_code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_registry_community")),
    )
    with op.batch_alter_table("registry_community", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_community_region_code"), ["region_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_registry_community_township_code"), ["township_code"], unique=False
        )

    op.create_table(
        "registry_employer",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=64), nullable=False),
        sa.Column("contact_phone", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_employer")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_registry_employer_credit_code")),
    )
    with op.batch_alter_table("registry_employer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_employer_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "registry_import_job",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_digest", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column(
            "employer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_created", sa.Integer(), nullable=False),
        sa.Column("rows_updated", sa.Integer(), nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("next_line", sa.Integer(), nullable=False),
        sa.Column("reject_path", sa.String(length=500), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sscard.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["employer_id"],
            ["registry_employer.id"],
            name=op.f("fk_registry_import_job_employer_id_registry_employer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_import_job")),
    )
    with op.batch_alter_table("registry_import_job", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_import_job_file_digest"), ["file_digest"], unique=False
        )

    op.create_table(
        "registry_person",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("document_type", sa.String(length=2), nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_index", sa.LargeBinary(length=16), nullable=False),
        sa.Column("id_number_masked", sa.String(length=32), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=False),
        sa.Column("name_index", sa.LargeBinary(length=16), nullable=False),
        sa.Column("name_masked", sa.String(length=64), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=False),
        sa.Column("ethnicity", sa.String(length=2), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("nationality", sa.String(length=3), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_index", sa.LargeBinary(length=16), nullable=True),
        sa.Column("phone_masked", sa.String(length=16), nullable=False),
        sa.Column("address_enc", sa.LargeBinary(), nullable=True),
        sa.Column("household_region_code", sa.String(length=6), nullable=False),
        sa.Column("residence_region_code", sa.String(length=6), nullable=False),
        sa.Column(
            "employer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("content_digest", sa.LargeBinary(length=16), nullable=False),
        sa.Column("created_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"],
            ["registry_community.code"],
            name=op.f("fk_registry_person_community_code_registry_community"),
        ),
        sa.ForeignKeyConstraint(
            ["employer_id"],
            ["registry_employer.id"],
            name=op.f("fk_registry_person_employer_id_registry_employer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_person")),
        sa.UniqueConstraint("id_number_index", name=op.f("uq_registry_person_id_number_index")),
    )
    with op.batch_alter_table("registry_person", schema=None) as batch_op:
        batch_op.create_index("ix_registry_person_community_code", ["community_code"], unique=False)
        batch_op.create_index("ix_registry_person_employer_id", ["employer_id"], unique=False)
        batch_op.create_index(
            "ix_registry_person_name_birth", ["name_index", "birth_date"], unique=False
        )
        batch_op.create_index("ix_registry_person_phone_index", ["phone_index"], unique=False)
        batch_op.create_index(
            "ix_registry_person_region_status", ["region_code", "status"], unique=False
        )
        batch_op.create_index(
            "ix_registry_person_residence", ["residence_region_code"], unique=False
        )

    op.create_table(
        "registry_enrolment",
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("insurance_type", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("updated_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["registry_person.id"],
            name=op.f("fk_registry_enrolment_person_id_registry_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "insurance_type", name=op.f("pk_registry_enrolment")),
    )
    op.create_table(
        "registry_photo",
        sa.Column("person_id", sa.String(length=26), nullable=False),
        sa.Column("content_enc", sa.LargeBinary(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_at", sscard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["registry_person.id"],
            name=op.f("fk_registry_photo_person_id_registry_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_registry_photo")),
    )
    permission = sa.table("iam_permission", sa.column("code"), sa.column("description"))
    grant = sa.table("iam_role_permission", sa.column("role_code"), sa.column("permission_code"))
    op.bulk_insert(permission, [{"code": c, "description": d} for c, d in PERMISSIONS])
    op.bulk_insert(
        grant,
        [{"role_code": r, "permission_code": p} for r, perms in GRANTS.items() for p in perms],
    )


def downgrade() -> None:
    codes = [c for c, _ in PERMISSIONS]
    op.execute(
        sa.text("DELETE FROM iam_role_permission WHERE permission_code IN :codes").bindparams(
            sa.bindparam("codes", codes, expanding=True)
        )
    )
    op.execute(
        sa.text("DELETE FROM iam_permission WHERE code IN :codes").bindparams(
            sa.bindparam("codes", codes, expanding=True)
        )
    )
    op.drop_table("registry_photo")
    op.drop_table("registry_enrolment")
    with op.batch_alter_table("registry_person", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_person_residence")
        batch_op.drop_index("ix_registry_person_region_status")
        batch_op.drop_index("ix_registry_person_phone_index")
        batch_op.drop_index("ix_registry_person_name_birth")
        batch_op.drop_index("ix_registry_person_employer_id")
        batch_op.drop_index("ix_registry_person_community_code")

    op.drop_table("registry_person")
    with op.batch_alter_table("registry_import_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_import_job_file_digest"))

    op.drop_table("registry_import_job")
    with op.batch_alter_table("registry_employer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_employer_region_code"))

    op.drop_table("registry_employer")
    with op.batch_alter_table("registry_community", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_community_township_code"))
        batch_op.drop_index(batch_op.f("ix_registry_community_region_code"))

    op.drop_table("registry_community")
