"""How a medical settlement is booked in the ledger (三方分账).

Accounts: ``medical-pool`` (统筹基金), ``medical-personal:<person id>`` (个人账户, may not
overdraw), ``card:<card id>`` and ``bank-clearing:<bank>`` for the cash, and
``merchant:<hospital>`` (what the platform owes the hospital or pharmacy).

1. Funding: before the legs are held, the person's ledger personal account is made to hold
   what the medical system says it holds (``personal_balance_before_fen``): the difference
   moves from ``medical-pool`` to the personal account (or back), reference
   ``med:<no>:fund``, code ``medical_fund``. The ledger mirrors the system's balance; it
   never lets the personal leg spend money the system does not show.
2. Hold, before the bank is asked for cash: linked pending transfers ``med:<no>:pool``
   (medical-pool -> merchant), ``med:<no>:personal`` (personal account -> merchant) and, as
   the orders do, ``med:<no>:b`` (bank-clearing -> card) for the cash.
3. Complete, on the bank's yes: one linked chain posts the three holds (``<ref>:post``) and
   moves the cash on, ``med:<no>:m`` card -> merchant. On the bank's no, the holds are
   voided (``<ref>:void``): nothing is posted.
4. Refund: every posted leg is reversed (``<ref>:rev``, code ``reversal``), the card's leg
   to the merchant before the bank's, so the card account never overdraws.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Legs:
    """What a settlement books: its number, the parties and the three parts (fen)."""

    number: str
    person_id: str
    merchant: str
    card_id: str
    bank_code: str
    pool: int
    personal: int
    cash: int

    def ref(self, leg: str) -> str:
        return f"med:{self.number}:{leg}"

    def held(self) -> list[tuple[str, str, str, int]]:
        """(leg, debit account, credit account, amount) of each hold, parts of 0 left out."""
        merchant = merchant_account(self.merchant)
        legs = [
            ("pool", POOL, merchant, self.pool),
            ("personal", personal_account(self.person_id), merchant, self.personal),
            ("b", f"bank-clearing:{self.bank_code}", f"card:{self.card_id}", self.cash),
        ]
        return [leg for leg in legs if leg[3] > 0]

    def posted_refs(self) -> list[str]:
        """The posted legs, in the order a refund reverses them."""
        refs = [self.ref("m"), self.ref("b:post")] if self.cash > 0 else []
        if self.pool > 0:
            refs.append(self.ref("pool:post"))
        if self.personal > 0:
            refs.append(self.ref("personal:post"))
        return refs


def fund_personal(session: Session, *, number: str, person_id: str, balance_fen: int) -> None:
    """Make the ledger's personal account hold the medical system's balance (step 1)."""
    account = ledger_service.open_account(session, data=AccountIn(code=personal_account(person_id)))
    ledger_service.open_account(session, data=AccountIn(code=POOL))
    held = account.credits_posted - account.debits_posted - account.debits_pending
    if held == balance_fen:
        return
    source, target = (POOL, account.code) if balance_fen > held else (account.code, POOL)
    transfer = TransferIn(
        ref=f"med:{number}:fund",
        debit_account=source,
        credit_account=target,
        amount=abs(balance_fen - held),
        code="medical_fund",
        reason=f"医保个人账户余额同步（结算 {number}）",
    )
    ledger_service.post_transfer(session, transfer=transfer)


def hold(session: Session, legs: Legs) -> None:
    """Hold the three parts as linked pending transfers (step 2)."""
    held = legs.held()
    for _, debit, credit, _ in held:
        ledger_service.open_account(session, data=AccountIn(code=debit))
        ledger_service.open_account(session, data=AccountIn(code=credit))
    ledger_service.open_account(session, data=AccountIn(code=merchant_account(legs.merchant)))
    if held:
        reason = f"就医结算 {legs.number}"
        chain = [
            TransferIn(ref=legs.ref(leg), debit_account=debit, credit_account=credit,
                       amount=amount, code=CODE, reason=reason, kind=TransferKind.pending)
            for leg, debit, credit, amount in held
        ]  # fmt: skip
        ledger_service.post_transfers(session, transfers=chain)


def _resolutions(legs: Legs, kind: TransferKind) -> list[TransferIn]:
    suffix = "post" if kind is TransferKind.post_pending else "void"
    return [
        TransferIn(ref=legs.ref(f"{leg}:{suffix}"), debit_account=debit, credit_account=credit,
                   amount=amount, code=CODE, reason=f"就医结算 {legs.number}", kind=kind,
                   pending_ref=legs.ref(leg))
        for leg, debit, credit, amount in legs.held()
    ]  # fmt: skip


def complete(session: Session, legs: Legs) -> None:
    """Post the holds and move the cash on to the merchant, all linked (step 3, bank's yes)."""
    chain = _resolutions(legs, TransferKind.post_pending)
    if legs.cash > 0:
        chain.append(
            TransferIn(
                ref=legs.ref("m"),
                debit_account=f"card:{legs.card_id}",
                credit_account=merchant_account(legs.merchant),
                amount=legs.cash,
                code=CODE,
                reason=f"就医结算 {legs.number} 个人现金",
            )
        )
    if chain:
        ledger_service.post_transfers(session, transfers=chain)


def release(session: Session, legs: Legs) -> None:
    """Void the holds (step 3, the bank's no): nothing is posted."""
    voids = _resolutions(legs, TransferKind.void_pending)
    if voids:
        ledger_service.post_transfers(session, transfers=voids)


def reverse(session: Session, legs: Legs, *, reason: str) -> None:
    """Reverse every posted leg (step 4): the merchant gives back what it was owed."""
    for ref in legs.posted_refs():
        ledger_service.reverse_transfer(session, ref=ref, reversal_ref=f"{ref}:rev", reason=reason)
