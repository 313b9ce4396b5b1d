"""Merchant use cases: sign up, change, suspend, close, reopen, find and list.

A merchant trades in one region (GB/T 2260); an operator sees and manages only the merchants
of their institution's region. Every change is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import service as iam_service
from sscard.iam.errors import InstitutionNotFound
from sscard.kit import access
from sscard.kit.context import Actor
from sscard.payments.codes.mcc import MCC_NAMES
from sscard.payments.merchants import repository, sealing
from sscard.payments.merchants.errors import (
    MerchantExists,
    MerchantNotFound,
    MerchantStatusConflict,
)
from sscard.payments.merchants.models import Merchant
from sscard.payments.merchants.schemas import (
    STATUS_NAMES,
    MerchantCreate,
    MerchantOut,
    MerchantStatus,
    MerchantUpdate,
    SettlementTerms,
    StatusFilter,
)

ACTIVE, SUSPENDED, CLOSED = MerchantStatus.active, MerchantStatus.suspended, MerchantStatus.closed
TRANSITIONS: Final = {
    "suspend": ({ACTIVE}, SUSPENDED, "暂停"),
    "close": ({ACTIVE, SUSPENDED}, CLOSED, "关闭"),
    "reopen": ({SUSPENDED, CLOSED}, ACTIVE, "恢复"),
}
"""action -> (statuses it starts from, the status it leads to, its Chinese name)."""


def merchant_out(merchant: Merchant) -> MerchantOut:
    """The merchant as an operator sees it: the settlement account masked."""
    status = MerchantStatus(merchant.status)
    return MerchantOut(
        id=merchant.id,
        code=merchant.code,
        name=merchant.name,
        mcc=merchant.mcc,
        mcc_name=MCC_NAMES.get(merchant.mcc, merchant.mcc),
        institution_code=merchant.institution_code,
        region_code=merchant.region_code,
        settlement_bank=merchant.settlement_bank,
        settlement_account=merchant.settlement_account_masked,
        fee_rate_bp=merchant.fee_rate_bp,
        status=status,
        status_name=STATUS_NAMES[status],
        created_at=merchant.created_at,
        updated_at=merchant.updated_at,
    )


def _check_mcc(mcc: str) -> list[FieldProblem]:
    if mcc in MCC_NAMES:
        return []
    return [FieldProblem("mcc", f"商户类别码 {mcc} 不在本平台受理的类别中")]


def _check_region(region_code: str, actor: Actor) -> list[FieldProblem]:
    if region_code.startswith(iam_service.region_scope(actor)):
        return []
    return [FieldProblem("region_code", f"地区 {region_code} 不在您所在机构的管辖范围内")]


def _institution_region(session: Session, code: str) -> str | None:
    try:
        return iam_service.get_institution(session, code=code).region_code
    except InstitutionNotFound:
        return None


def record_change(session: Session, action: str, merchant: Merchant) -> None:
    """Write a change of a merchant to the audit log."""
    access.record(
        session,
        access.AccessRecord(
            action=f"payments.merchant.{action}",
            subject_type="merchant",
            subject_id=merchant.code,
            subject_display=merchant.code,
        ),
    )


def _checked_region(session: Session, data: MerchantCreate, actor: Actor) -> str:
    """The new merchant's region, once its MCC, institution, region and code are right."""
    found = _check_mcc(data.mcc)
    home = _institution_region(session, data.institution_code)
    region = data.region_code or home or ""
    if home is None:
        found.append(FieldProblem("institution_code", f"机构 {data.institution_code} 不存在"))
    else:
        found += _check_region(region, actor)
    if found:
        raise ValidationFailed(found)
    if repository.merchant_by_code(session, data.code) is not None:
        raise MerchantExists(
            f"商户编号 {data.code} 已被使用", fields=[FieldProblem("code", "已被使用")]
        )
    return region


def create_merchant(session: Session, *, data: MerchantCreate, actor: Actor) -> Merchant:
    """Sign up a merchant (商户入网) of an institution, in a region the actor manages."""
    region = _checked_region(session, data, actor)
    now = utcnow()
    merchant = Merchant(
        code=data.code,
        name=data.name,
        mcc=data.mcc,
        institution_code=data.institution_code,
        region_code=region,
        settlement_bank=data.settlement_bank,
        settlement_account_enc=b"",
        settlement_account_masked="",
        fee_rate_bp=data.fee_rate_bp,
        status=ACTIVE.value,
        created_at=now,
        updated_at=now,
    )
    repository.add(session, merchant)
    sealing.seal_account(merchant, account=data.settlement_account, session=session)
    record_change(session, "create", merchant)
    return merchant


def get_merchant(session: Session, *, merchant_id: int, actor: Actor) -> Merchant:
    """The merchant with this id in the actor's region, or MerchantNotFound."""
    merchant = repository.merchant(session, merchant_id)
    if merchant is None or _check_region(merchant.region_code, actor):
        raise MerchantNotFound(f"商户 {merchant_id} 不存在")
    return merchant


def get_merchant_by_code(session: Session, *, code: str, actor: Actor) -> Merchant:
    """The merchant with this code in the actor's region, or MerchantNotFound."""
    merchant = repository.merchant_by_code(session, code.strip().upper())
    if merchant is None or _check_region(merchant.region_code, actor):
        raise MerchantNotFound(f"商户编号 {code[:32]} 不存在")
    return merchant


def merchant_by_code(session: Session, *, code: str) -> Merchant | None:
    """A merchant by its code, whatever the scope (for the other payments parts)."""
    return repository.merchant_by_code(session, code.strip().upper())


def in_region(merchant: Merchant, actor: Actor) -> bool:
    """Whether the actor's region covers the merchant's."""
    return not _check_region(merchant.region_code, actor)


def update_merchant(
    session: Session, *, merchant_id: int, data: MerchantUpdate, actor: Actor
) -> Merchant:
    """Change a merchant's name, trade, region, settlement account or fee rate."""
    merchant = get_merchant(session, merchant_id=merchant_id, actor=actor)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    found = _check_mcc(changes["mcc"]) if "mcc" in changes else []
    if "region_code" in changes:
        found += _check_region(changes["region_code"], actor)
    if found:
        raise ValidationFailed(found)
    account = changes.pop("settlement_account", None)
    if account is not None:
        sealing.seal_account(merchant, account=account, session=session)
    for key, value in changes.items():
        setattr(merchant, key, value)
    merchant.updated_at = utcnow()
    record_change(session, "update", merchant)
    return merchant


def _move(session: Session, *, merchant_id: int, action: str, actor: Actor) -> Merchant:
    merchant = get_merchant(session, merchant_id=merchant_id, actor=actor)
    sources, target, name = TRANSITIONS[action]
    if merchant.status not in sources:
        now = STATUS_NAMES[MerchantStatus(merchant.status)]
        raise MerchantStatusConflict(f"商户 {merchant.code} 当前状态为“{now}”，不能{name}")
    merchant.status = target.value
    merchant.updated_at = utcnow()
    record_change(session, action, merchant)
    return merchant


def suspend_merchant(session: Session, *, merchant_id: int, actor: Actor) -> Merchant:
    """Stop an active merchant from accepting payments for a while (暂停)."""
    return _move(session, merchant_id=merchant_id, action="suspend", actor=actor)


def close_merchant(session: Session, *, merchant_id: int, actor: Actor) -> Merchant:
    """Close a merchant (关闭): it accepts no more payments."""
    return _move(session, merchant_id=merchant_id, action="close", actor=actor)


def reopen_merchant(session: Session, *, merchant_id: int, actor: Actor) -> Merchant:
    """Let a suspended or closed merchant accept payments again (恢复)."""
    return _move(session, merchant_id=merchant_id, action="reopen", actor=actor)


def list_merchants(
    session: Session,
    *,
    actor: Actor,
    status: StatusFilter = StatusFilter.all,
    mcc: str | None = None,
    institution_code: str | None = None,
    name: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> tuple[list[Merchant], int]:
    """Merchants of the actor's region, by status (or all), MCC, institution, part of the name."""
    return repository.merchants(
        session,
        status=None if status is StatusFilter.all else status.value,
        mcc=mcc,
        institution_code=institution_code,
        name=name,
        region_prefix=iam_service.region_scope(actor),
        offset=(page - 1) * page_size,
        limit=page_size,
    )


def mcc_choices() -> list[tuple[str, str]]:
    """(code, Chinese name) of every MCC the platform accepts, for forms."""
    return sorted(MCC_NAMES.items())


def settlement_terms(session: Session, *, codes: Collection[str]) -> dict[str, SettlementTerms]:
    """Name, fee rate and settlement account (clear, for the settlement file) of merchants."""
    return {
        m.code: SettlementTerms(
            code=m.code,
            name=m.name,
            fee_rate_bp=m.fee_rate_bp,
            bank=m.settlement_bank,
            account=sealing.reveal_account(m, session),
            account_masked=m.settlement_account_masked,
        )
        for m in repository.merchants_by_codes(session, codes)
    }
