"""The attributes a scenario may disclose, and the default scenarios (pure)."""

from __future__ import annotations

ATTRIBUTES: dict[str, str] = {
    "name_masked": "姓名（脱敏）",
    "name": "姓名",
    "id_number_masked": "证件号码（脱敏）",
    "id_number": "证件号码",
    "gender": "性别",
    "birth_date": "出生日期",
    "age_band": "年龄段",
    "card_number": "社会保障卡卡号",
    "card_valid": "卡状态是否有效",
    "region": "参保地",
    "insurance": "参保状态",
    "photo": "照片",
}
"""What a verification may tell a terminal about the holder."""

DEFAULT_SCENARIOS: list[tuple[str, str, int, list[str]]] = [
    ("library", "图书馆借阅", 3, ["name_masked", "card_valid", "age_band"]),
    ("park", "公园景区入园", 3, ["name_masked", "card_valid", "age_band", "region"]),
    ("bus", "公交乘车", 3, ["card_valid", "age_band"]),
    ("hospital", "医院就医", 3, ["name", "id_number", "gender", "birth_date", "card_number",
                               "card_valid", "region", "insurance"]),
    ("counter", "人社服务窗口", 3, ["name", "id_number", "gender", "birth_date", "card_number",
                              "card_valid", "region", "insurance", "photo"]),
    ("pharmacy", "定点药店购药", 3, ["name_masked", "id_number_masked", "card_valid",
                                 "insurance"]),
]  # fmt: skip


def unknown_attributes(names: list[str]) -> list[str]:
    return [n for n in names if n not in ATTRIBUTES]
