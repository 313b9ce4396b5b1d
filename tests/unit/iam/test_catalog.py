import pytest

from sscard.iam.catalog import region_covers, region_prefix


@pytest.mark.parametrize(
    ("region", "prefix"),
    [("370000", "37"), ("370800", "3708"), ("370811", "370811"), ("000000", ""), ("", "")],
)
def test_a_region_code_covers_the_codes_under_it(region: str, prefix: str) -> None:
    assert region_prefix(region) == prefix


def test_a_city_covers_its_districts_but_not_another_city() -> None:
    assert region_covers("370800", "370811")
    assert not region_covers("370800", "370911")
    assert region_covers("370000", "370911")
