"""The file formats of the batch cycle and their columns (a table; see docs/formats.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sscard.exchange.errors import FileFormatUnknown


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    title: str
    required: bool = False
    """A row with this cell empty is refused by the reader of the format (not the package)."""


@dataclass(frozen=True, slots=True)
class FileFormat:
    name: str
    title: str
    columns: tuple[Column, ...]
    photos: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, title: str, required: bool = False) -> Column:
    return Column(name, title, required)


SEQ = _c("SEQ", "序号", True)
CARD_NUMBER = _c("AAZ500", "社会保障卡卡号", True)
ID_NUMBER = _c("AAC002", "社会保障号码（公民身份号码）", True)
DOCUMENT_TYPE = _c("AAC058", "证件类型（省卡管代码）", True)
DOCUMENT_NUMBER = _c("AAC147", "证件号码", True)
NAME = _c("AAC003", "姓名", True)
GENDER = _c("AAC004", "性别（省卡管代码）", True)
ETHNICITY = _c("AAC005", "民族（省卡管代码）", True)
BIRTH_DATE = _c("AAC006", "出生日期（YYYYMMDD）", True)
NATIONALITY = _c("AAC161", "国籍（GB/T 2659 三位字母）")
REGION = _c("AAB301", "发卡地区（行政区划代码）", True)
EMPLOYER = _c("AAB001", "单位编号（省卡管编码）")
EMPLOYER_CREDIT_CODE = _c("EMPLOYER_CREDIT_CODE", "单位统一社会信用代码")
COMMUNITY = _c("COMMUNITY_CODE", "街道/社区编码（省卡管编码）")
CARD_TYPE = _c("CARD_TYPE", "卡类型（省卡管编码）", True)
APPLY_TYPE = _c("APPLY_TYPE", "申领类型：1 新申领，2 补换卡", True)
BANK_CODE = _c("BANK_CODE", "服务银行机构代码", True)
PICKUP_PLACE = _c("PICKUP_PLACE", "领卡网点机构代码")
PHOTO = _c("PHOTO", "照片文件名（包内路径）", True)
PHOTO_SM3 = _c("PHOTO_SM3", "照片 SM3 摘要（64 位十六进制）", True)
BANK_ACCOUNT = _c("BANK_ACCOUNT", "银行卡号（社保卡金融账户）")
RESULT = _c("RESULT", "处理结果：0 成功，1 失败", True)
FAIL_REASON = _c("FAIL_REASON", "失败原因")
FAIL_STAGE = _c("FAIL_STAGE", "失败环节：province 省卡管，bank 银行，vendor 卡商")
CARD_ID_CODE = _c("CARD_ID_CODE", "卡识别码（32 位）")
ATR = _c("ATR", "卡片复位信息 ATR（十六进制）")
ISSUE_DATE = _c("ISSUE_DATE", "发卡日期（YYYYMMDD）")
EXPIRY_DATE = _c("EXPIRY_DATE", "有效期至（YYYYMMDD）")
VENDOR_CODE = _c("VENDOR_CODE", "卡商代码（4 位）")
BOX_NO = _c("BOX_NO", "卡盒号")
BOX_POSITION = _c("BOX_POSITION", "盒内位置（从 1 起）")
LINE_ID = _c("LINE_ID", "发放明细号", True)
AMOUNT_FEN = _c("AMOUNT_FEN", "金额（分）", True)
BENEFIT_KIND = _c(
    "BENEFIT_KIND", "待遇类型：pension 养老金，unemployment 失业金，subsidy 补贴", True
)
PERIOD = _c("PERIOD", "期别（YYYYMM）", True)
FAIL_CODE = _c(
    "FAIL_CODE", "失败代码：card_cancelled，account_frozen，name_mismatch，unknown_account"
)

ACCOUNT_OPENING = FileFormat(
    "sscard.account-opening",
    "批量开户文件（市卡管→省卡管）",
    (
        SEQ,
        CARD_NUMBER,
        ID_NUMBER,
        DOCUMENT_TYPE,
        DOCUMENT_NUMBER,
        NAME,
        GENDER,
        ETHNICITY,
        BIRTH_DATE,
        NATIONALITY,
        REGION,
        EMPLOYER,
        EMPLOYER_CREDIT_CODE,
        COMMUNITY,
        CARD_TYPE,
        APPLY_TYPE,
        BANK_CODE,
        PICKUP_PLACE,
        PHOTO,
        PHOTO_SM3,
    ),
    photos=True,
)
BANK_ORDER = FileFormat(
    "province.bank-order",
    "制卡文件·银行开户（省卡管→银行）",
    (
        SEQ,
        CARD_NUMBER,
        ID_NUMBER,
        DOCUMENT_TYPE,
        NAME,
        GENDER,
        BIRTH_DATE,
        NATIONALITY,
        REGION,
        BANK_CODE,
    ),
)
BANK_RESULT = FileFormat(
    "bank.account-result",
    "银行开户结果（银行→省卡管）",
    (SEQ, CARD_NUMBER, ID_NUMBER, BANK_CODE, BANK_ACCOUNT, RESULT, FAIL_REASON),
)
VENDOR_ORDER = FileFormat(
    "province.vendor-order",
    "制卡文件·卡商制卡（省卡管→卡商，含照片）",
    (
        SEQ,
        CARD_NUMBER,
        ID_NUMBER,
        NAME,
        GENDER,
        ETHNICITY,
        BIRTH_DATE,
        NATIONALITY,
        REGION,
        CARD_TYPE,
        BANK_CODE,
        BANK_ACCOUNT,
        PHOTO,
        PHOTO_SM3,
    ),
    photos=True,
)
VENDOR_RESULT = FileFormat(
    "vendor.card-result",
    "卡商制卡结果（卡商→省卡管）",
    (
        SEQ,
        CARD_NUMBER,
        CARD_ID_CODE,
        ATR,
        ISSUE_DATE,
        EXPIRY_DATE,
        VENDOR_CODE,
        BOX_NO,
        BOX_POSITION,
        RESULT,
        FAIL_REASON,
    ),
)
CARD_RESULT = FileFormat(
    "province.card-result",
    "制卡结果文件（省卡管→市卡管）",
    (
        SEQ,
        CARD_NUMBER,
        ID_NUMBER,
        NAME,
        ISSUE_DATE,
        EXPIRY_DATE,
        CARD_ID_CODE,
        ATR,
        BANK_CODE,
        BANK_ACCOUNT,
        VENDOR_CODE,
        BOX_NO,
        BOX_POSITION,
        EMPLOYER,
        COMMUNITY,
        CARD_TYPE,
        RESULT,
        FAIL_STAGE,
        FAIL_REASON,
    ),
)

DISBURSEMENT_ORDER = FileFormat(
    "sscard.disbursement-order",
    "待遇发放文件（市社保→银行）",
    (SEQ, LINE_ID, CARD_NUMBER, NAME, BANK_CODE, BANK_ACCOUNT, AMOUNT_FEN, BENEFIT_KIND, PERIOD),
)
DISBURSEMENT_RETURN = FileFormat(
    "bank.disbursement-return",
    "待遇发放回盘文件（银行→市社保）",
    (SEQ, LINE_ID, CARD_NUMBER, BANK_ACCOUNT, AMOUNT_FEN, RESULT, FAIL_CODE, FAIL_REASON),
)

FORMATS: dict[str, FileFormat] = {
    f.name: f
    for f in (
        ACCOUNT_OPENING,
        BANK_ORDER,
        BANK_RESULT,
        VENDOR_ORDER,
        VENDOR_RESULT,
        CARD_RESULT,
        DISBURSEMENT_ORDER,
        DISBURSEMENT_RETURN,
    )
}

SUCCESS, FAILURE = "0", "1"
STAGES = {"province": "省卡管", "bank": "银行", "vendor": "卡商"}


def file_format(name: str) -> FileFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise FileFormatUnknown(f"未知的文件格式 {name[:64]}") from None


def yyyymmdd(value: Any) -> str:
    """A date as the files write it (``20261125``); empty for None."""
    return value.strftime("%Y%m%d") if value is not None else ""


def parse_yyyymmdd(value: str) -> datetime | None:
    """``20261125`` as a datetime (date part), None when empty or not a real date."""
    if not re.fullmatch(r"\d{8}", value):
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return None
