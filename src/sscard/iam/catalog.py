"""Kinds of institutions and channels, and region-scope rules (pure)."""

from __future__ import annotations

from enum import StrEnum


class InstitutionType(StrEnum):
    hrss_bureau = "hrss_bureau"
    service_hall = "service_hall"
    bank = "bank"
    card_vendor = "card_vendor"
    province_card_centre = "province_card_centre"
    medical = "medical"
    merchant = "merchant"
    partner = "partner"


INSTITUTION_TYPE_NAMES = {
    InstitutionType.hrss_bureau: "人社局",
    InstitutionType.service_hall: "服务网点",
    InstitutionType.bank: "合作银行",
    InstitutionType.card_vendor: "卡商",
    InstitutionType.province_card_centre: "省卡管中心",
    InstitutionType.medical: "医院或药店",
    InstitutionType.merchant: "商户",
    InstitutionType.partner: "合作方",
}


class ChannelType(StrEnum):
    service_hall = "service_hall"
    hrss_app = "hrss_app"
    bank_app = "bank_app"
    mini_program = "mini_program"
    gov_portal = "gov_portal"
    kiosk = "kiosk"


CHANNEL_TYPE_NAMES = {
    ChannelType.service_hall: "服务大厅",
    ChannelType.hrss_app: "人社APP",
    ChannelType.bank_app: "银行APP",
    ChannelType.mini_program: "小程序",
    ChannelType.gov_portal: "政务门户",
    ChannelType.kiosk: "自助终端",
}


def region_prefix(region_code: str) -> str:
    """The code prefix an area covers: 370000 -> 37, 370800 -> 3708, 370802 -> 370802.

    A national code (000000 or empty) covers everything (empty prefix).
    """
    code = region_code.strip()
    if not code or set(code) == {"0"}:
        return ""
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code


def region_covers(scope_region: str, region_code: str) -> bool:
    return region_code.startswith(region_prefix(scope_region))
