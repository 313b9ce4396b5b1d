"""ISO 18245 merchant category codes (MCC) the platform meets, with Chinese names."""

from __future__ import annotations

from typing import Final

from sscard.payments.codes.errors import CodeRefused

MCC_NAMES: Final[dict[str, str]] = {
    "4111": "市内及近郊通勤客运（公交、地铁）",
    "4121": "出租车与网约车",
    "4131": "长途客运",
    "4784": "道路与桥梁通行费",
    "5311": "百货商店",
    "5411": "超市与食品杂货店",
    "5812": "餐馆",
    "5814": "快餐店",
    "5912": "药店",
    "5942": "书店",
    "5999": "其他零售",
    "7523": "停车场",
    "7991": "旅游景点与展览",
    "7996": "游乐园与公园",
    "7997": "健身与俱乐部",
    "8011": "诊所与医生",
    "8021": "牙科诊所",
    "8062": "医院",
    "8099": "其他医疗服务",
    "8211": "中小学",
    "8220": "大学与学院",
    "8398": "慈善与社会服务组织",
    "9211": "法院费用",
    "9222": "罚款",
    "9311": "税款",
    "9399": "政府服务（其他）",
    "9402": "邮政服务",
}
"""Code -> Chinese name; DOMAIN.md's codes (5912, 8062, 8011, 4111, 4121, 7996, 7991, 9399)
and the common neighbours a city's merchants use."""


def mcc_name(code: str) -> str:
    """The Chinese name of a known MCC, or CodeRefused(unknown_mcc)."""
    name = MCC_NAMES.get(code)
    if name is None:
        raise CodeRefused("unknown_mcc", f"商户类别码 {code[:8]} 不在本平台受理的类别中")
    return name
