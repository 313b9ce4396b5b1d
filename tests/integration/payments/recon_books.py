"""Payments as the orders part posts them to the ledger, for clearing and reconciliation
tests: the bank leg and the merchant leg of each order, refunds mirrored."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.kit.context import Actor, ActorKind
from sscard.payments.ledger import service as ledger
from sscard.payments.ledger.rules import TransferKind
from sscard.payments.ledger.schemas import AccountIn, TransferIn
from sscard.payments.merchants import service as merchants_service
from sscard.payments.merchants.schemas import MerchantCreate

PLATFORM_OPERATOR = "PLATFORM"


def operator(name: str, *, approve: bool = False) -> Actor:
    perms = {"payments.recon.read", "payments.recon.manage", "payments.settlement.read"}
    return Actor(
        kind=ActorKind.operator,
        id=f"op-{name}",
        name=name,
        institution_code=PLATFORM_OPERATOR,
        region_code="370800",
        permissions=frozenset(perms | ({"payments.recon.approve"} if approve else set())),
    )


def tag() -> str:
    return secrets.token_hex(4).upper()


def order_no() -> str:
    return "P20261204" + str(secrets.randbelow(10**11)).zfill(11)


def merchant(session: Session, *, fee_bp: int = 38) -> str:
    """A new merchant of a new institution; its code."""
    institution = f"MI{tag()}"
    iam_service.create_institution(
        session,
        data=InstitutionCreate(
            code=institution, name="收单机构", type=InstitutionType.merchant, region_code="370811"
        ),
    )
    actor = Actor(
        kind=ActorKind.operator,
        id="op-m",
        name="商户经办",
        region_code="370800",
        permissions=frozenset({"payments.merchants.manage"}),
    )
    data = MerchantCreate(
        code=f"M{tag()}",
        name="仁和大药房任城店",
        mcc="5912",
        institution_code=institution,
        settlement_bank="中国工商银行济宁分行",
        settlement_account="6217001234567890123",
        fee_rate_bp=fee_bp,
    )
    return merchants_service.create_merchant(session, data=data, actor=actor).code


def pay(
    session: Session, *, no: str, bank: str, merchant: str, amount: int, ok: bool = True
) -> None:
    """An order paid by card (or refused by the bank), legs as in docs/payments.md."""
    b, card, m = f"bank-clearing:{bank}", f"card:C{tag()}", f"merchant:{merchant}"
    for code in (b, card, m):
        ledger.open_account(session, data=AccountIn(code=code))
    common = {"amount": amount, "code": "payment", "reason": f"订单 {no}"}
    ledger.post_transfer(
        session,
        transfer=TransferIn(
            ref=f"pay:{no}:b",
            debit_account=b,
            credit_account=card,
            kind=TransferKind.pending,
            **common,  # type: ignore[arg-type]
        ),
    )
    if not ok:
        ledger.post_transfer(
            session,
            transfer=TransferIn(
                ref=f"pay:{no}:b:void",
                debit_account=b,
                credit_account=card,
                kind=TransferKind.void_pending,
                pending_ref=f"pay:{no}:b",
                **common,  # type: ignore[arg-type]
            ),
        )
        return
    ledger.post_transfers(
        session,
        transfers=[
            TransferIn(
                ref=f"pay:{no}:b:post",
                debit_account=b,
                credit_account=card,
                kind=TransferKind.post_pending,
                pending_ref=f"pay:{no}:b",
                **common,
            ),  # type: ignore[arg-type]
            TransferIn(
                ref=f"pay:{no}:m",
                debit_account=card,
                credit_account=m,
                kind=TransferKind.pending,
                **common,
            ),  # type: ignore[arg-type]
            TransferIn(
                ref=f"pay:{no}:m:post",
                debit_account=card,
                credit_account=m,
                kind=TransferKind.post_pending,
                pending_ref=f"pay:{no}:m",
                **common,
            ),  # type: ignore[arg-type]
        ],
    )


def refund(session: Session, *, refund_no: str, bank: str, merchant: str, amount: int) -> None:
    """A refund credited back: merchant -> card -> bank clearing, linked."""
    card = f"card:C{tag()}"
    ledger.open_account(session, data=AccountIn(code=card))
    common = {"amount": amount, "code": "refund", "reason": f"退款 {refund_no}"}
    ledger.post_transfers(
        session,
        transfers=[
            TransferIn(
                ref=f"ref:{refund_no}:m",
                debit_account=f"merchant:{merchant}",
                credit_account=card,
                **common,
            ),  # type: ignore[arg-type]
            TransferIn(
                ref=f"ref:{refund_no}:b",
                debit_account=card,
                credit_account=f"bank-clearing:{bank}",
                **common,
            ),  # type: ignore[arg-type]
        ],
    )
