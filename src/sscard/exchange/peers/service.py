"""Banks, the transport operator and the province card centre, as other components call them.

They do no database work: callers load what a call needs, and outbox handlers call them
after commit. Failures are ``PEER_REFUSALS`` (the party said no: do not retry) or
``PEER_OUTAGES`` (unreachable or broken: retry later); each error's code names the peer
(``bank_refused``, ``province_unavailable`` ...). Batch card making with the province is
:mod:`sscard.exchange.files.service`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sscard.exchange.errors import PeerRefused, PeerUnavailable
from sscard.exchange.peers import bank, medical, paypage, province_cards, social, transport

PEER_REFUSALS: tuple[type[Exception], ...] = (PeerRefused,)
PEER_OUTAGES: tuple[type[Exception], ...] = (PeerUnavailable,)
BankBalance = bank.Balance
BankTransaction = bank.BankTransaction
PaymentOutcome = bank.PaymentOutcome
ProvinceCard = province_cards.ProvinceCard
MedicalBill = medical.Bill
MedicalBillItem = medical.BillItem
MedicalSplit = medical.Split
MedicalInsured = medical.Insured


def bank_configured(*, bank_code: str) -> bool:
    """Whether the platform knows how to reach this bank (SSCARD_BANK_URLS)."""
    return bank.configured(bank_code)


def bank_activate_account(*, bank_code: str, card_number: str, account: str, key: str) -> None:
    """Ask the card's bank to activate the card's account."""
    bank.activate_account(bank_code=bank_code, card_number=card_number, account=account, key=key)


def bank_deactivate_account(*, bank_code: str, card_number: str, account: str, key: str) -> None:
    """Ask the card's bank to deactivate the card's account (undo of an activation)."""
    bank.deactivate_account(bank_code=bank_code, card_number=card_number, account=account, key=key)


def bank_bind_card(*, bank_code: str, card_number: str, activate: bool, key: str) -> str:
    """Bind the card to an account at ``bank_code``; returns the account number."""
    return bank.bind_card(bank_code=bank_code, card_number=card_number, activate=activate, key=key)


def bank_unbind_card(*, bank_code: str, card_number: str, key: str) -> None:
    """Unbind the card from its account at ``bank_code``."""
    bank.unbind_card(bank_code=bank_code, card_number=card_number, key=key)


def bank_balance(*, bank_code: str, card_number: str, account: str) -> bank.Balance:
    """The balance of the card's account, from its bank."""
    return bank.balance(bank_code=bank_code, card_number=card_number, account=account)


def bank_transactions(
    *,
    bank_code: str,
    card_number: str,
    account: str,
    start: date | None = None,
    end: date | None = None,
    limit: int = 50,
) -> list[bank.BankTransaction]:
    """Transactions of the card's account, newest first, from its bank."""
    return bank.transactions(
        bank_code=bank_code,
        card_number=card_number,
        account=account,
        start=start,
        end=end,
        limit=limit,
    )


def bank_debit(
    *, bank_code: str, card_number: str, account: str, amount_fen: int, ref: str
) -> bank.PaymentOutcome:
    """Ask the card's bank to debit the card's account once (``ref`` is the idempotency key).

    Done or refused is the answer; PEER_OUTAGES (a timeout, a 5xx) mean the outcome is not
    known: ask :func:`bank_payment_status` later."""
    return bank.debit(
        bank_code=bank_code,
        card_number=card_number,
        account=account,
        amount_fen=amount_fen,
        ref=ref,
    )


def bank_credit(
    *,
    bank_code: str,
    card_number: str,
    account: str,
    amount_fen: int,
    ref: str,
    kind: str = "refund",
) -> bank.PaymentOutcome:
    """Ask the card's bank to credit the card's account once (a refund or a benefit)."""
    return bank.credit(
        bank_code=bank_code,
        card_number=card_number,
        account=account,
        amount_fen=amount_fen,
        ref=ref,
        kind=kind,
    )


def bank_payment_status(*, bank_code: str, ref: str) -> bank.PaymentOutcome:
    """What became of a debit or credit: done, refused or unknown (never applied)."""
    return bank.payment_status(bank_code=bank_code, ref=ref)


def bank_reverse_debit(*, bank_code: str, ref: str) -> bank.PaymentOutcome:
    """Reverse (冲正) a debit whose answer never came; its outcome is then refused."""
    return bank.reverse_debit(bank_code=bank_code, ref=ref)


def transport_configured() -> bool:
    """Whether the platform has a transport partner (SSCARD_TRANSPORT_URL)."""
    return transport.configured()


def transport_enable(*, card_number: str, card_id_code: str | None, key: str) -> None:
    """Enable the card's transit function at the transport operator."""
    transport.enable(card_number=card_number, card_id_code=card_id_code, key=key)


def transport_disable(*, card_number: str, key: str) -> None:
    """Disable the card's transit function at the transport operator."""
    transport.disable(card_number=card_number, key=key)


def province_cards_of(*, id_number: str) -> list[province_cards.ProvinceCard]:
    """The cards the province records for a person (every city)."""
    return province_cards.cards_of(id_number=id_number)


def province_report_transfer(
    *,
    id_number: str,
    card_number: str,
    card_id_code: str | None,
    region_code: str,
    from_region_code: str,
    to_region_code: str,
    key: str,
) -> None:
    """Tell the province a card's management moved to another city (地市卡转移)."""
    province_cards.report_transfer(
        id_number=id_number,
        card_number=card_number,
        card_id_code=card_id_code,
        region_code=region_code,
        from_region_code=from_region_code,
        to_region_code=to_region_code,
        key=key,
    )


def province_cancel_record(
    *,
    id_number: str,
    card_number: str,
    card_id_code: str | None,
    region_code: str,
    managing_region_code: str,
    reason: str,
    key: str,
) -> None:
    """Cancel a card's provincial record (注销省厅卡信息)."""
    province_cards.cancel_record(
        id_number=id_number,
        card_number=card_number,
        card_id_code=card_id_code,
        region_code=region_code,
        managing_region_code=managing_region_code,
        reason=reason,
        key=key,
    )


PaypageStatus = paypage.PaypageStatus


def bank_paypage_url(*, bank_code: str) -> str:
    """Where a resident's browser pays an order at ``bank_code`` (网银支付页)."""
    return paypage.page_url(bank_code)


def bank_paypage_status(*, bank_code: str, order_no: str) -> paypage.PaypageStatus:
    """Whether ``bank_code`` took the payment of ``order_no`` on its pay page."""
    return paypage.status(bank_code=bank_code, order_no=order_no)


def bank_paypage_refund(
    *, bank_code: str, refund_no: str, req: str, sig: str
) -> bank.PaymentOutcome:
    """Send ``bank_code`` the signed refund request of an order paid on its pay page
    (网银支付退款): ``done`` or ``refused`` (outages raise one of ``PEER_OUTAGES``)."""
    return paypage.refund(bank_code=bank_code, refund_no=refund_no, req=req, sig=sig)


def bank_paypage_refund_status(
    *, bank_code: str, order_no: str, refund_no: str
) -> bank.PaymentOutcome:
    """What became of a pay-page refund request: done, refused or unknown (never got)."""
    return paypage.refund_status(bank_code=bank_code, order_no=order_no, refund_no=refund_no)


def social_report_contribution(*, report: dict[str, Any], key: str) -> None:
    """Report a paid 城乡居民养老保险 contribution to the social insurance system."""
    social.report_contribution(report=report, key=key)


def medical_configured() -> bool:
    """Whether the platform knows how to reach the medical insurance system (SSCARD_MEDICAL_URL)."""
    return medical.configured()


def medical_presettle(*, bill: medical.Bill) -> medical.Split:
    """How a bill would split into pool, personal account and cash (试算)."""
    return medical.presettle(bill)


def medical_settle(*, bill: medical.Bill) -> medical.Split:
    """Settle a bill at the medical insurance system, once per settlement number."""
    return medical.settle(bill)


def medical_cancel(*, settlement_no: str) -> medical.Split:
    """Cancel a settlement at the medical insurance system (退费)."""
    return medical.cancel(settlement_no)


def medical_settlement(*, settlement_no: str) -> medical.Split:
    """A settlement as the medical insurance system holds it."""
    return medical.settlement(settlement_no)


def medical_insured(*, id_number: str) -> medical.Insured:
    """An insured person's type and personal account balance, from the medical insurance system."""
    return medical.insured(id_number)


def medical_register_chronic(
    *,
    id_number: str,
    qualification_no: str,
    disease_code: str,
    disease_name: str,
    valid_from: date,
    valid_to: date | None,
) -> None:
    """Register a chronic-disease qualification (门诊慢特病) at the medical insurance system."""
    medical.register_chronic(
        id_number=id_number,
        qualification_no=qualification_no,
        disease_code=disease_code,
        disease_name=disease_name,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def medical_revoke_chronic(*, id_number: str, qualification_no: str) -> None:
    """Withdraw a chronic-disease qualification at the medical insurance system."""
    medical.revoke_chronic(id_number=id_number, qualification_no=qualification_no)
