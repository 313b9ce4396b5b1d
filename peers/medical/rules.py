"""The medical insurance system's settlement rules (医保结算规则): pure, no I/O, no clock.

Design overview
---------------
A bill is a list of items, each of one class: ``drug_a`` (甲类药品), ``drug_b`` (乙类药品),
``drug_c`` (丙类药品, never paid by the fund), ``examination`` (检查) and ``treatment`` (治疗).
Each insurance type (``employee`` 职工, ``resident`` 居民) has, per calendar year, a
deductible (起付线), an annual cap on what the pooled fund pays (封顶线), a ratio per class
in basis points (报销比例, 9000 = 90 %), the share of a class-B drug the insured pays first
(乙类先行自付) and whether it has a personal account (个人账户: employees only).

For each item, in the bill's order:

1. eligible = the amount (class A, examination, treatment), the amount less the class-B
   self-paid share (rounded in the insured's favour), or 0 (class C);
2. what is left of the year's deductible is taken from the eligible amount first; an item
   of a registered chronic disease (门诊慢特病) skips the deductible when the rules say so;
3. pool = (eligible - deductible) x ratio, rounded down to the fen; the ratio is lowered by
   ``offsite_reduction_bp`` for off-site care (异地就医) and raised by ``chronic_bonus_bp``
   for an item of a chronic disease the person is qualified for (never above 100 %);
4. the pool part stops at what is left of the year's cap.

What the pool does not pay is the insured's own part: it comes from the personal account
as far as its balance goes (item by item, in order), the rest is cash (个人现金).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ITEM_CLASSES = ("drug_a", "drug_b", "drug_c", "examination", "treatment")
ITEM_CLASS_NAMES = {
    "drug_a": "甲类药品",
    "drug_b": "乙类药品",
    "drug_c": "丙类药品",
    "examination": "检查",
    "treatment": "治疗",
}
INSURANCE_TYPES = ("employee", "resident")
FULL = 10000


class RulesInvalid(ValueError):
    """A rules document that cannot be used (the message names the field)."""


@dataclass(frozen=True)
class TypeRules:
    name: str
    deductible_fen: int
    cap_fen: int
    personal_account: bool
    drug_b_self_bp: int
    ratios_bp: Mapping[str, int]


@dataclass(frozen=True)
class Rules:
    types: Mapping[str, TypeRules]
    offsite_reduction_bp: int
    chronic_bonus_bp: int
    chronic_waives_deductible: bool


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    item_class: str
    amount_fen: int
    disease_code: str | None = None


@dataclass(frozen=True)
class Standing:
    """The insured person as the rules need them, for the bill's year."""

    insurance_type: str
    personal_balance_fen: int
    deductible_used_fen: int
    pool_used_fen: int
    chronic: frozenset[str]
    """Disease codes the person is qualified for on the bill's date."""


@dataclass(frozen=True)
class ItemSplit:
    code: str
    name: str
    item_class: str
    amount_fen: int
    eligible_fen: int
    deductible_fen: int
    ratio_bp: int
    pool_fen: int
    personal_fen: int
    cash_fen: int
    chronic: bool


@dataclass(frozen=True)
class Split:
    total_fen: int
    pool_fen: int
    personal_fen: int
    cash_fen: int
    deductible_fen: int
    items: tuple[ItemSplit, ...]


def _bp(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= FULL:
        raise RulesInvalid(f"{field}: 须为 0 到 10000 之间的整数（万分比）")
    return value


def _fen(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RulesInvalid(f"{field}: 须为非负整数（分）")
    return value


def _type_rules(name: str, raw: Any) -> TypeRules:
    if not isinstance(raw, dict):
        raise RulesInvalid(f"types.{name}: 须为对象")
    ratios = raw.get("ratios_bp")
    if not isinstance(ratios, dict) or set(ratios) != set(ITEM_CLASSES):
        raise RulesInvalid(
            f"types.{name}.ratios_bp: 须给出每类项目的比例 {', '.join(ITEM_CLASSES)}"
        )
    return TypeRules(
        name=str(raw.get("name") or name),
        deductible_fen=_fen(raw.get("deductible_fen"), f"types.{name}.deductible_fen"),
        cap_fen=_fen(raw.get("cap_fen"), f"types.{name}.cap_fen"),
        personal_account=bool(raw.get("personal_account", False)),
        drug_b_self_bp=_bp(raw.get("drug_b_self_bp", 0), f"types.{name}.drug_b_self_bp"),
        ratios_bp={c: _bp(ratios[c], f"types.{name}.ratios_bp.{c}") for c in ITEM_CLASSES},
    )


def rules_from(raw: Any) -> Rules:
    """Rules from a parsed JSON or TOML document, or RulesInvalid naming the field."""
    if not isinstance(raw, dict) or not isinstance(raw.get("types"), dict):
        raise RulesInvalid("types: 须为对象，按参保类型给出规则")
    missing = [t for t in INSURANCE_TYPES if t not in raw["types"]]
    if missing:
        raise RulesInvalid(f"types: 缺少参保类型 {', '.join(missing)}")
    return Rules(
        types={t: _type_rules(t, raw["types"][t]) for t in INSURANCE_TYPES},
        offsite_reduction_bp=_bp(raw.get("offsite_reduction_bp", 0), "offsite_reduction_bp"),
        chronic_bonus_bp=_bp(raw.get("chronic_bonus_bp", 0), "chronic_bonus_bp"),
        chronic_waives_deductible=bool(raw.get("chronic_waives_deductible", False)),
    )


def eligible_fen(rules: TypeRules, item: Item) -> int:
    """The part of an item the fund considers at all."""
    if item.item_class == "drug_c":
        return 0
    if item.item_class == "drug_b":
        return item.amount_fen * (FULL - rules.drug_b_self_bp) // FULL
    return item.amount_fen


def ratio_bp(
    rules: Rules, insurance_type: str, item_class: str, *, offsite: bool, chronic: bool
) -> int:
    """The share of an item's eligible amount the pooled fund pays."""
    ratio = rules.types[insurance_type].ratios_bp[item_class]
    if ratio == 0:
        return 0
    if offsite:
        ratio = max(0, ratio - rules.offsite_reduction_bp)
    if chronic:
        ratio = min(FULL, ratio + rules.chronic_bonus_bp)
    return ratio


def split(rules: Rules, standing: Standing, items: Iterable[Item], *, offsite: bool) -> Split:
    """Split a bill into pool, personal account and cash, item by item."""
    kind = rules.types[standing.insurance_type]
    deductible_left = max(0, kind.deductible_fen - standing.deductible_used_fen)
    cap_left = max(0, kind.cap_fen - standing.pool_used_fen)
    balance = standing.personal_balance_fen if kind.personal_account else 0
    parts: list[ItemSplit] = []
    for item in items:
        chronic = item.disease_code is not None and item.disease_code in standing.chronic
        eligible = eligible_fen(kind, item)
        waived = chronic and rules.chronic_waives_deductible
        deductible = 0 if waived else min(deductible_left, eligible)
        deductible_left -= deductible
        ratio = ratio_bp(
            rules, standing.insurance_type, item.item_class, offsite=offsite, chronic=chronic
        )
        pool = min(cap_left, (eligible - deductible) * ratio // FULL)
        cap_left -= pool
        personal = min(balance, item.amount_fen - pool)
        balance -= personal
        parts.append(
            ItemSplit(
                code=item.code,
                name=item.name,
                item_class=item.item_class,
                amount_fen=item.amount_fen,
                eligible_fen=eligible,
                deductible_fen=deductible,
                ratio_bp=ratio,
                pool_fen=pool,
                personal_fen=personal,
                cash_fen=item.amount_fen - pool - personal,
                chronic=chronic,
            )
        )
    return Split(
        total_fen=sum(p.amount_fen for p in parts),
        pool_fen=sum(p.pool_fen for p in parts),
        personal_fen=sum(p.personal_fen for p in parts),
        cash_fen=sum(p.cash_fen for p in parts),
        deductible_fen=sum(p.deductible_fen for p in parts),
        items=tuple(parts),
    )
