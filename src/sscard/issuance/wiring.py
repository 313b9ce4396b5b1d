"""How the issuance component joins the platform at start-up (called by ``bootstrap.wire``):
the card table's encrypted bank account (for key rotation), the lapse of temporary losses
as a worker chore, the outbox destinations of one-step activation, bank changes and the
province, and the guard that keeps a card whose provincial record is gone cancelled."""

from __future__ import annotations

from sscard.crypto import fields
from sscard.issuance.activation import bank_service
from sscard.issuance.activation import service as activation_service
from sscard.issuance.cards import service as cards_service
from sscard.issuance.cards.models import CARD_TABLE
from sscard.issuance.events import CardStatusChanged
from sscard.issuance.instant import province_service
from sscard.kit import events, outbox


def wire() -> None:
    """Encrypted bank accounts, the lapse of temporary losses, outbox destinations, reactions."""
    fields.register_encrypted_table(CARD_TABLE, "id", ["bank_account_enc"])
    outbox.register_housekeeping(
        "temporary losses lapsed", cards_service.lapse_all_temporary_losses
    )
    outbox.register_destination(
        activation_service.ACTIVATION, activation_service.deliver_activation, max_attempts=12
    )
    outbox.register_destination(
        bank_service.BANK_CHANGE, bank_service.deliver_bank_change, max_attempts=12
    )
    outbox.register_destination(
        province_service.PROVINCE, province_service.deliver_province, max_attempts=12
    )
    events.subscribe(CardStatusChanged, province_service.refuse_restore_after_province_cancel)
