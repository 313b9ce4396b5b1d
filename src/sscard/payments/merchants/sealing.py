"""A merchant's settlement account number at rest: a field token and a masked copy (the
crypto component's field encryption, under the caller's session)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.crypto import fields
from sscard.kit.masking import mask_bank_account
from sscard.payments.merchants.models import MERCHANT_TABLE, Merchant

ENCRYPTED = ("settlement_account_enc",)


def register() -> None:
    """Declare the merchant table's encrypted column for key rotation."""
    fields.register_encrypted_table(MERCHANT_TABLE, "id", ENCRYPTED)


def seal_account(merchant: Merchant, *, account: str, session: Session) -> None:
    """Store the settlement account number; the row has an id."""
    merchant.settlement_account_enc = fields.encrypt_field(
        account,
        table=MERCHANT_TABLE,
        column="settlement_account_enc",
        row_id=merchant.id,
        session=session,
    )
    merchant.settlement_account_masked = mask_bank_account(account)


def reveal_account(merchant: Merchant, session: Session) -> str:
    """Decrypt the settlement account number (for settlement files only)."""
    return fields.decrypt_field(
        merchant.settlement_account_enc,
        table=MERCHANT_TABLE,
        column="settlement_account_enc",
        row_id=merchant.id,
        session=session,
    )
