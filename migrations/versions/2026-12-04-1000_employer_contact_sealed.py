"""employer contact sealed: the contact person's name and phone become SM4-GCM field tokens
with masked copies; existing rows are encrypted here and the plain columns dropped

The data step uses the platform's own field encryption through a session bound to the
migration's connection, so keys are created (or found) in the same transaction; tables
with no employers need no key at all. The downgrade decrypts back into plain columns.

Revision ID: r0112_employer_contact
Revises: r0110_ecard_online (the head: it follows r0111_audit_chains)
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "r0112_employer_contact"
down_revision: str | Sequence[str] | None = "r0110_ecard_online"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "registry_employer"
_BINARY = sa.LargeBinary()


def _employers(*names: str) -> sa.TableClause:
    return sa.table(TABLE, sa.column("id", sa.BigInteger()), *(sa.column(n) for n in names))


@contextmanager
def _keys_session() -> Iterator[Session]:
    """A session inside the migration's transaction; the process's key cache is forgotten
    before and after (it may hold another database's keys)."""
    from sscard.crypto import service as crypto_service

    crypto_service.forget_cached_keys()
    try:
        with Session(bind=op.get_bind()) as session:
            yield session
            session.flush()
    finally:
        crypto_service.forget_cached_keys()


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("contact_name_enc", _BINARY, nullable=True))
        batch.add_column(
            sa.Column("contact_name_masked", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("contact_phone_enc", _BINARY, nullable=True))
        batch.add_column(
            sa.Column("contact_phone_masked", sa.String(32), nullable=False, server_default="")
        )
    conn = op.get_bind()
    plain = _employers("contact_name", "contact_phone")
    rows = conn.execute(
        sa.select(plain.c.id, plain.c.contact_name, plain.c.contact_phone).where(
            sa.or_(plain.c.contact_name != "", plain.c.contact_phone != "")
        )
    ).all()
    if rows:
        from sscard.crypto import fields
        from sscard.kit.masking import mask_name, mask_phone

        sealed = _employers(
            "contact_name_enc", "contact_name_masked", "contact_phone_enc", "contact_phone_masked"
        )
        with _keys_session() as session:
            keys = fields.load_keys(session, table=TABLE)
            for row_id, name, phone in rows:

                def seal(value: str, column: str, row_id: int = row_id) -> bytes:
                    return keys.encrypt_field(value, column=column, row_id=row_id)

                session.execute(
                    sealed.update()
                    .where(sealed.c.id == row_id)
                    .values(
                        contact_name_enc=seal(name, "contact_name_enc") if name else None,
                        contact_name_masked=mask_name(name),
                        contact_phone_enc=seal(phone, "contact_phone_enc") if phone else None,
                        contact_phone_masked=mask_phone(phone) if phone else "",
                    )
                )
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("contact_name_masked", server_default=None)
        batch.alter_column("contact_phone_masked", server_default=None)
        batch.drop_column("contact_name")
        batch.drop_column("contact_phone")


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(
            sa.Column("contact_name", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("contact_phone", sa.String(32), nullable=False, server_default="")
        )
    conn = op.get_bind()
    sealed = _employers("contact_name_enc", "contact_phone_enc")
    rows = conn.execute(
        sa.select(sealed.c.id, sealed.c.contact_name_enc, sealed.c.contact_phone_enc).where(
            sa.or_(sealed.c.contact_name_enc.is_not(None), sealed.c.contact_phone_enc.is_not(None))
        )
    ).all()
    if rows:
        from sscard.crypto import fields

        plain = _employers("contact_name", "contact_phone")
        with _keys_session() as session:
            for row_id, name_token, phone_token in rows:

                def open_(token: bytes | None, column: str, row_id: int = row_id) -> str:
                    if token is None:
                        return ""
                    return fields.decrypt_field(
                        token, table=TABLE, column=column, row_id=row_id, session=session
                    )

                session.execute(
                    plain.update()
                    .where(plain.c.id == row_id)
                    .values(
                        contact_name=open_(name_token, "contact_name_enc"),
                        contact_phone=open_(phone_token, "contact_phone_enc"),
                    )
                )
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("contact_name", server_default=None)
        batch.alter_column("contact_phone", server_default=None)
        batch.drop_column("contact_name_enc")
        batch.drop_column("contact_name_masked")
        batch.drop_column("contact_phone_enc")
        batch.drop_column("contact_phone_masked")
