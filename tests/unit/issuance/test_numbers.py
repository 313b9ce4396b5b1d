from hypothesis import given
from hypothesis import strategies as st

from sscard.issuance import numbers


def test_a_card_number_is_nine_characters() -> None:
    assert numbers.card_number("J", 42) == "J00000042"
    assert numbers.card_number_problems("J00000042") == []
    assert numbers.card_number_problems("j0000042") != []


@given(st.integers(min_value=0, max_value=10**12 - 1), st.sampled_from(["2", "3"]))
def test_a_made_card_id_code_passes_its_own_check(serial: int, generation: str) -> None:
    code = numbers.make_card_id_code(
        region_code="370800",
        generation=int(generation),
        vendor_code="HD01",
        year=2026,
        serial=serial,
    )
    assert len(code) == 32 and code.startswith("370800156")
    assert numbers.card_id_code_problems(code, region_code="370800") == []
    assert numbers.card_id_code_problems(code, region_code="370900") != []
    tampered = code[:20] + ("1" if code[20] != "1" else "2") + code[21:]
    assert numbers.card_id_code_problems(tampered) != []
