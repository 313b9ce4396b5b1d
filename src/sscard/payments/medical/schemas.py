"""Medical settlement input and output. Amounts are integer fen (分)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MerchantCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9]{4,32}$")
]
CardNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z0-9]{9}$")
]
DiseaseCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9.]{2,16}$")
]
IdNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^\d{17}[\dX]$")
]
SettlementNo = Annotated[str, StringConstraints(pattern=r"^M\d{19}$")]
BILL_MAX_FEN = 10_000_000_00
"""One bill at most: 10,000,000.00 yuan."""


class VisitKind(StrEnum):
    outpatient = "outpatient"
    inpatient = "inpatient"
    pharmacy = "pharmacy"


VISIT_KIND_NAMES = {
    VisitKind.outpatient: "门诊",
    VisitKind.inpatient: "住院",
    VisitKind.pharmacy: "药店购药",
}


class ItemClass(StrEnum):
    drug_a = "drug_a"
    drug_b = "drug_b"
    drug_c = "drug_c"
    examination = "examination"
    treatment = "treatment"


ITEM_CLASS_NAMES = {
    ItemClass.drug_a: "甲类药品",
    ItemClass.drug_b: "乙类药品",
    ItemClass.drug_c: "丙类药品",
    ItemClass.examination: "检查",
    ItemClass.treatment: "治疗",
}


class SettlementStatus(StrEnum):
    pending = "pending"
    paying = "paying"
    settled = "settled"
    failed = "failed"
    refunded = "refunded"


STATUS_NAMES = {
    SettlementStatus.pending: "医保结算中",
    SettlementStatus.paying: "个人现金扣款中",
    SettlementStatus.settled: "已结算",
    SettlementStatus.failed: "未成功",
    SettlementStatus.refunded: "已退费",
}

INSURANCE_TYPE_NAMES = {"employee": "职工医保", "resident": "居民医保"}


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BillItemIn(Input):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    item_class: ItemClass
    amount_fen: Annotated[int, Field(ge=1, le=BILL_MAX_FEN)]
    disease_code: DiseaseCode | None = None
    """For an item treating a chronic disease: its code (the ratio rises if qualified)."""


class BillIn(Input):
    """A bill from a hospital or pharmacy: who (a scanned e-card code or a card number),
    where (the merchant), what (the items)."""

    merchant_code: MerchantCode
    visit_kind: VisitKind
    ecard_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = (
        None
    )
    card_number: CardNumber | None = None
    offsite: bool | None = None
    """Off-site care (异地就医); by default: the card was issued outside the platform's city,
    or the scanned code carries business type 4."""
    items: Annotated[list[BillItemIn], Field(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _one_way_to_name_the_insured(self) -> BillIn:
        if (self.ecard_code is None) == (self.card_number is None):
            raise ValueError("ecard_code: 请扫描电子社保卡二维码或填写社保卡卡号（二者选一）")
        if sum(i.amount_fen for i in self.items) > BILL_MAX_FEN:
            raise ValueError("items: 账单合计超过单笔上限 10000000.00 元")
        return self


class RefundIn(Input):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


class ItemOut(BaseModel):
    code: str
    name: str
    item_class: str
    item_class_name: str
    amount_fen: int
    disease_code: str | None = None
    ratio_bp: int | None = None
    deductible_fen: int | None = None
    pool_fen: int | None = None
    personal_fen: int | None = None
    cash_fen: int | None = None
    chronic: bool = False


class SplitOut(BaseModel):
    """A pre-settlement (试算): how the bill would split now; nothing was kept."""

    insurance_type: str
    insurance_type_name: str
    offsite: bool
    total_fen: int
    pool_fen: int
    personal_fen: int
    cash_fen: int
    items: list[ItemOut]


class SettlementOut(BaseModel):
    number: str
    status: SettlementStatus
    status_name: str
    person_id: str
    holder_name: str
    """Masked."""
    holder_id_number: str
    """Masked."""
    card_id: str
    merchant_code: str
    visit_kind: VisitKind
    visit_kind_name: str
    offsite: bool
    source: str
    visit_date: date
    insurance_type: str | None
    insurance_type_name: str | None
    total_fen: int
    pool_fen: int
    personal_fen: int
    cash_fen: int
    items: list[ItemOut]
    peer_settlement_id: str | None
    failure_reason: str | None
    refund_reason: str | None
    created_by: str
    created_at: datetime
    settled_at: datetime | None
    refunded_at: datetime | None


class ChronicIn(Input):
    id_number: IdNumber
    disease_code: DiseaseCode
    disease_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=2, max_length=50)
    ]
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> ChronicIn:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to: 有效期结束日期不能早于开始日期")
        return self


class ChronicOut(BaseModel):
    number: str
    person_id: str
    holder_name: str
    holder_id_number: str
    disease_code: str
    disease_name: str
    valid_from: date
    valid_to: date | None
    status: str
    status_name: str
    approved_by: str
    created_at: datetime
    revoked_at: datetime | None
