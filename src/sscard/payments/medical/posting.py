"""How a medical settlement is booked in the ledger (三方分账).

Accounts: ``medical-pool`` (统筹基金), ``medical-personal:<person id>`` (个人账户, may not
overdraw), ``card:<card id>`` and ``bank-clearing:<bank>`` for the cash, and
``merchant:<hospital>`` (what the platform owes the hospital or pharmacy).

1. Funding: before the legs are held, the person's ledger personal account is made to hold
   what the medical system says it holds (``personal_balance_before_fen``): the difference
   moves from ``medical-pool`` to the personal account (or back), reference
   ``med:<no>:fund``, code ``medical_fund``. The ledger mirrors the system's balance; it
   never lets the personal leg spend money the system does not show.
2. Hold: the pool and personal legs are made as pending transfers to the merchant
   (``med:<no>:pool``, ``med:<no>:personal``), linked, before the bank is asked for cash.
3. Complete, on the bank's yes: one linked chain posts both holds and books the cash as the
   orders do: ``med:<no>:b`` bank-clearing -> card and ``med:<no>:m`` card -> merchant.
   On the bank's no, both holds are voided: nothing is posted.
4. Refund: every posted leg is reversed (``<ref>:rev``, code ``reversal``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger.rules import TransferKind
from sscard.payments.ledger.schemas import AccountIn, TransferIn

POOL = "medical-pool"
CODE = "medical"


def personal_account(person_id: str) -> str:
    return f"medical-personal:{person_id}"


def merchant_account(code: str) -> str:
    return f"merchant:{code}"


def _ref(number: str, leg: str) -> str:
    return f"med:{number}:{leg}"


def fund_personal(session: Session, *, number: str, person_id: str, balance_fen: int) -> None:
    """Make the ledger's personal account hold the medical system's balance (step 1)."""
    account = ledger_service.open_account(session, data=AccountIn(code=personal_account(person_id)))
    ledger_service.open_account(session, data=AccountIn(code=POOL))
    held = account.credits_posted - account.debits_posted - account.debits_pending
    if held == balance_fen:
        return
    source, target = (POOL, account.code) if balance_fen > held else (account.code, POOL)
    transfer = TransferIn(
        ref=_ref(number, "fund"),
        debit_account=source,
        credit_account=target,
        amount=abs(balance_fen - held),
        code="medical_fund",
        reason=f"医保个人账户余额同步（结算 {number}）",
    )
    ledger_service.post_transfer(session, transfer=transfer)


def _fund_legs(
    number: str, person_id: str, merchant: str, pool: int, personal: int
) -> list[tuple[str, str, str, int]]:
    legs = [("pool", POOL, merchant_account(merchant), pool)]
    legs.append(("personal", personal_account(person_id), merchant_account(merchant), personal))
    return [leg for leg in legs if leg[3] > 0]


def hold(
    session: Session, *, number: str, person_id: str, merchant: str, pool: int, personal: int
) -> None:
    """Hold the pool and personal legs as linked pending transfers (step 2)."""
    ledger_service.open_account(session, data=AccountIn(code=merchant_account(merchant)))
    legs = _fund_legs(number, person_id, merchant, pool, personal)
    if not legs:
        return
    reason = f"就医结算 {number}"
    ledger_service.post_transfers(
        session,
        transfers=[
            TransferIn(
                ref=_ref(number, leg),
                debit_account=debit,
                credit_account=credit,
                amount=amount,
                code=CODE,
                reason=reason,
                kind=TransferKind.pending,
            )
            for leg, debit, credit, amount in legs
        ],
    )


def _resolution(
    number: str, leg: str, debit: str, credit: str, amount: int, kind: TransferKind
) -> TransferIn:
    suffix = "post" if kind is TransferKind.post_pending else "void"
    return TransferIn(
        ref=_ref(number, f"{leg}:{suffix}"),
        debit_account=debit,
        credit_account=credit,
        amount=amount,
        code=CODE,
        reason=f"就医结算 {number}",
        kind=kind,
        pending_ref=_ref(number, leg),
    )


def complete(
    session: Session,
    *,
    number: str,
    person_id: str,
    merchant: str,
    pool: int,
    personal: int,
    cash: int,
    card_id: str,
    bank_code: str,
) -> None:
    """Post the held legs and book the cash, all linked (step 3, the bank said yes)."""
    legs = _fund_legs(number, person_id, merchant, pool, personal)
    chain = [_resolution(number, *leg, TransferKind.post_pending) for leg in legs]
    if cash > 0:
        card, clearing = f"card:{card_id}", f"bank-clearing:{bank_code}"
        ledger_service.open_account(session, data=AccountIn(code=card))
        ledger_service.open_account(session, data=AccountIn(code=clearing))
        reason = f"就医结算 {number} 个人现金"
        chain.append(
            TransferIn(
                ref=_ref(number, "b"),
                debit_account=clearing,
                credit_account=card,
                amount=cash,
                code=CODE,
                reason=reason,
            )
        )
        chain.append(
            TransferIn(
                ref=_ref(number, "m"),
                debit_account=card,
                credit_account=merchant_account(merchant),
                amount=cash,
                code=CODE,
                reason=reason,
            )
        )
    if chain:
        ledger_service.post_transfers(session, transfers=chain)


def release(
    session: Session, *, number: str, person_id: str, merchant: str, pool: int, personal: int
) -> None:
    """Void the held legs (step 3, the bank said no): nothing is posted."""
    legs = _fund_legs(number, person_id, merchant, pool, personal)
    if legs:
        voids = [_resolution(number, *leg, TransferKind.void_pending) for leg in legs]
        ledger_service.post_transfers(session, transfers=voids)


def posted_refs(number: str, *, pool: int, personal: int, cash: int) -> list[str]:
    """The posted legs of a settled settlement, in the order a refund reverses them."""
    refs = []
    if pool > 0:
        refs.append(_ref(number, "pool:post"))
    if personal > 0:
        refs.append(_ref(number, "personal:post"))
    if cash > 0:
        refs += [_ref(number, "m"), _ref(number, "b")]
    return refs


def reverse(
    session: Session, *, number: str, pool: int, personal: int, cash: int, reason: str
) -> None:
    """Reverse every posted leg (step 4): the merchant gives back what it was owed."""
    for ref in posted_refs(number, pool=pool, personal=personal, cash=cash):
        ledger_service.reverse_transfer(session, ref=ref, reversal_ref=f"{ref}:rev", reason=reason)
