"""The medical insurance system's settlement rules (peers/medical/rules.py), without a server."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from peers.medical.rules import ITEM_CLASSES, Item, Rules, RulesInvalid, Standing, rules_from, split
from peers.medical.store import DEFAULT_RULES

RULES = rules_from(json.loads(DEFAULT_RULES.read_text(encoding="utf-8")))


def employee(
    balance: int = 0,
    *,
    deductible_used: int = 0,
    pool_used: int = 0,
    chronic: frozenset[str] = frozenset(),
) -> Standing:
    return Standing("employee", balance, deductible_used, pool_used, chronic)


def test_the_deductible_is_paid_first_then_the_ratio_applies_to_the_rest() -> None:
    bill = [Item("A1", "阿莫西林", "drug_a", 30000)]
    result = split(RULES, employee(), bill, offsite=False)
    assert result.deductible_fen == 20000
    assert result.pool_fen == (30000 - 20000) * 9000 // 10000
    assert result.cash_fen == 30000 - result.pool_fen


def test_a_deductible_already_used_up_this_year_is_not_taken_again() -> None:
    bill = [Item("A1", "阿莫西林", "drug_a", 30000)]
    result = split(RULES, employee(deductible_used=20000), bill, offsite=False)
    assert (result.deductible_fen, result.pool_fen) == (0, 27000)


def test_the_personal_account_pays_the_insured_part_before_cash() -> None:
    bill = [Item("E1", "CT", "examination", 10000)]
    result = split(RULES, employee(5000, deductible_used=20000), bill, offsite=False)
    assert (result.pool_fen, result.personal_fen, result.cash_fen) == (8500, 1500, 0)
    poorer = split(RULES, employee(1000, deductible_used=20000), bill, offsite=False)
    assert (poorer.pool_fen, poorer.personal_fen, poorer.cash_fen) == (8500, 1000, 500)


def test_residents_have_no_personal_account() -> None:
    standing = Standing("resident", 99999, 50000, 0, frozenset())
    result = split(RULES, standing, [Item("E1", "CT", "examination", 10000)], offsite=False)
    assert result.personal_fen == 0
    assert result.pool_fen == 6500


def test_class_b_drugs_have_a_self_paid_share_and_class_c_is_never_paid() -> None:
    bill = [Item("B1", "乙类药", "drug_b", 10000), Item("C1", "丙类药", "drug_c", 10000)]
    result = split(RULES, employee(deductible_used=20000), bill, offsite=False)
    b, c = result.items
    assert b.eligible_fen == 9000 and b.pool_fen == 9000 * 8500 // 10000
    assert c.eligible_fen == 0 and c.pool_fen == 0 and c.ratio_bp == 0


def test_off_site_care_lowers_the_ratio() -> None:
    bill = [Item("T1", "治疗", "treatment", 10000)]
    local = split(RULES, employee(deductible_used=20000), bill, offsite=False)
    away = split(RULES, employee(deductible_used=20000), bill, offsite=True)
    assert local.items[0].ratio_bp - away.items[0].ratio_bp == RULES.offsite_reduction_bp
    assert away.pool_fen < local.pool_fen


def test_a_chronic_qualification_raises_the_ratio_and_skips_the_deductible_for_its_items() -> None:
    bill = [Item("A1", "二甲双胍", "drug_a", 10000, disease_code="E11")]
    plain = split(RULES, employee(), bill, offsite=False)
    chronic = split(RULES, employee(chronic=frozenset({"E11"})), bill, offsite=False)
    assert chronic.items[0].chronic and not plain.items[0].chronic
    assert chronic.items[0].ratio_bp == 9000 + RULES.chronic_bonus_bp
    assert chronic.deductible_fen == 0 and chronic.pool_fen == 10000
    other = split(RULES, employee(chronic=frozenset({"I10"})), bill, offsite=False)
    assert other.items[0].ratio_bp == 9000


def test_the_pool_stops_at_the_annual_cap() -> None:
    cap = RULES.types["employee"].cap_fen
    bill = [Item("T1", "手术", "treatment", 100000)]
    result = split(
        RULES, employee(deductible_used=20000, pool_used=cap - 1000), bill, offsite=False
    )
    assert result.pool_fen == 1000


def test_rules_name_the_field_that_is_wrong() -> None:
    raw = json.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    raw["types"]["employee"]["ratios_bp"]["drug_a"] = 12000
    with pytest.raises(RulesInvalid, match="types.employee.ratios_bp.drug_a"):
        rules_from(raw)
    del raw["types"]["resident"]
    with pytest.raises(RulesInvalid, match="resident"):
        rules_from(raw)


@given(
    st.lists(
        st.tuples(st.sampled_from(ITEM_CLASSES), st.integers(1, 10**8), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 10**7),
    st.integers(0, 60000),
    st.booleans(),
    st.sampled_from(["employee", "resident"]),
)
def test_the_three_parts_always_add_up_to_the_bill(
    lines: list[tuple[str, int, bool]], balance: int, used: int, offsite: bool, kind: str
) -> None:
    rules: Rules = RULES
    items = [Item(f"I{n}", "项目", c, a, "E11" if k else None) for n, (c, a, k) in enumerate(lines)]
    standing = Standing(kind, balance, used, 0, frozenset({"E11"}))
    result = split(rules, standing, items, offsite=offsite)
    assert result.pool_fen + result.personal_fen + result.cash_fen == result.total_fen
    assert min(result.pool_fen, result.personal_fen, result.cash_fen) >= 0
    assert result.personal_fen <= balance
    for part in result.items:
        assert part.pool_fen <= part.eligible_fen <= part.amount_fen
