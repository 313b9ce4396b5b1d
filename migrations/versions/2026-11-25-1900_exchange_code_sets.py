"""exchange: code sets, external systems, their field names and codes; codes.* permissions

Revision ID: r0104_exchange_codes
Revises: r0103_iam_audit
Create Date: 2026-11-25 19:00:00

The shipped code sets and translation tables are loaded from the seed files of the
exchange package (``src/sscard/exchange/seeds/*.csv``), read here with the csv module
only. The seed files only grow: a later migration that brings new defaults to existing
databases inserts the rows that are missing, as ``sscard codes load-defaults`` does.
"""

import csv
import io
import secrets
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "r0104_exchange_codes"
down_revision: str | Sequence[str] | None = "r0103_iam_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEEDS = Path(__file__).resolve().parents[2] / "src" / "sscard" / "exchange" / "seeds"

PERMISSIONS = [
    ("codes.read", "查看代码集与翻译表"),
    ("codes.manage", "维护代码集与翻译表"),
]

GRANTS = {
    "admin": ["codes.read", "codes.manage"],
    "clerk": ["codes.read"],
    "card_manager": ["codes.read"],
    "analyst": ["codes.read"],
}


def _seed(name: str) -> list[dict[str, str]]:
    text = (SEEDS / name).read_text(encoding="utf-8-sig")
    return [
        {k: v.strip() for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(text, newline=""))
    ]


def _create_tables() -> dict[str, sa.Table]:
    code_set = op.create_table(
        "exchange_code_set",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_exchange_code_set")),
    )
    system = op.create_table(
        "exchange_system",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_exchange_system")),
    )
    code = op.create_table(
        "exchange_code",
        sa.Column("code_set_key", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_set_key"],
            ["exchange_code_set.key"],
            name=op.f("fk_exchange_code_code_set_key_exchange_code_set"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_set_key", "code", name=op.f("pk_exchange_code")),
    )
    field = op.create_table(
        "exchange_external_field",
        sa.Column("system_key", sa.String(length=32), nullable=False),
        sa.Column("code_set_key", sa.String(length=32), nullable=False),
        sa.Column("external_field", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_set_key"],
            ["exchange_code_set.key"],
            name=op.f("fk_exchange_external_field_code_set_key_exchange_code_set"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["system_key"],
            ["exchange_system.key"],
            name=op.f("fk_exchange_external_field_system_key_exchange_system"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "system_key", "code_set_key", name=op.f("pk_exchange_external_field")
        ),
        sa.UniqueConstraint(
            "system_key",
            "external_field",
            name=op.f("uq_exchange_external_field_system_key_external_field"),
        ),
    )
    mapping = op.create_table(
        "exchange_mapping",
        sa.Column("system_key", sa.String(length=32), nullable=False),
        sa.Column("code_set_key", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("external_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_set_key", "code"],
            ["exchange_code.code_set_key", "exchange_code.code"],
            name=op.f("fk_exchange_mapping_code_set_key_exchange_code"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["system_key", "code_set_key"],
            ["exchange_external_field.system_key", "exchange_external_field.code_set_key"],
            name=op.f("fk_exchange_mapping_system_key_exchange_external_field"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "system_key", "code_set_key", "code", name=op.f("pk_exchange_mapping")
        ),
        sa.UniqueConstraint(
            "system_key",
            "code_set_key",
            "external_code",
            name=op.f("uq_exchange_mapping_system_key_code_set_key_external_code"),
        ),
    )
    return {
        "code_set": code_set,
        "system": system,
        "code": code,
        "field": field,
        "mapping": mapping,
    }


def _load_seeds(tables: dict[str, sa.Table]) -> None:
    codes = _seed("code_sets.csv")
    sets = {r["code_set"]: r["code_set_name"] or r["code_set"] for r in codes}
    op.bulk_insert(tables["code_set"], [{"key": k, "name": n} for k, n in sets.items()])
    op.bulk_insert(
        tables["code"],
        [{"code_set_key": r["code_set"], "code": r["code"], "name": r["name"]} for r in codes],
    )
    mappings = _seed("mappings.csv")
    systems = {r["system"]: r["system_name"] or r["system"] for r in mappings}
    op.bulk_insert(
        tables["system"],
        [{"key": k, "name": n, "revision": secrets.token_hex(16)} for k, n in systems.items()],
    )
    fields = {(r["system"], r["code_set"]): r["external_field"] for r in mappings}
    op.bulk_insert(
        tables["field"],
        [{"system_key": s, "code_set_key": c, "external_field": f} for (s, c), f in fields.items()],
    )
    op.bulk_insert(
        tables["mapping"],
        [
            {
                "system_key": r["system"],
                "code_set_key": r["code_set"],
                "code": r["code"],
                "external_code": r["external_code"],
            }
            for r in mappings
        ],
    )


def upgrade() -> None:
    tables = _create_tables()
    _load_seeds(tables)
    permission = sa.table("iam_permission", sa.column("code"), sa.column("description"))
    grants = sa.table("iam_role_permission", sa.column("role_code"), sa.column("permission_code"))
    op.bulk_insert(permission, [{"code": c, "description": d} for c, d in PERMISSIONS])
    op.bulk_insert(
        grants,
        [{"role_code": r, "permission_code": p} for r, perms in GRANTS.items() for p in perms],
    )


def downgrade() -> None:
    codes = [code for code, _ in PERMISSIONS]
    grants = sa.table("iam_role_permission", sa.column("permission_code"))
    permission = sa.table("iam_permission", sa.column("code"))
    op.execute(sa.delete(grants).where(grants.c.permission_code.in_(codes)))
    op.execute(sa.delete(permission).where(permission.c.code.in_(codes)))
    op.drop_table("exchange_mapping")
    op.drop_table("exchange_external_field")
    op.drop_table("exchange_code")
    op.drop_table("exchange_system")
    op.drop_table("exchange_code_set")
