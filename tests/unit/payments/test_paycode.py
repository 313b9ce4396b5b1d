import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.payments.codes import paycode
from sscard.payments.codes.errors import CodeRefused
from sscard.payments.codes.paycode import PaycodeCodec

KEY = bytes(range(32))
NOW = 1_796_000_000.0


def codec(at: float = NOW, key: bytes = KEY) -> PaycodeCodec:
    return PaycodeCodec(key=key, clock=lambda: at)


@given(
    product=st.sampled_from(sorted(paycode.PRODUCTS)),
    reference=st.integers(min_value=0, max_value=paycode.REFERENCE_SPAN - 1),
    issued=st.integers(min_value=0, max_value=2**33),
    age=st.integers(min_value=-paycode.CLOCK_SKEW, max_value=60),
)
def test_a_code_read_within_its_minute_gives_back_its_product_and_reference(
    product: str, reference: int, issued: int, age: int
) -> None:
    text = codec(issued).issue(product=product, reference=reference)
    assert len(text) == 19 and text.isdigit() and text.startswith("62" + product)
    read = codec(issued + age).read(text)
    assert (read.product, read.reference) == (product, reference)
    assert read.issued_at == issued - issued % paycode.TICK_SECONDS


@given(st.integers(min_value=81, max_value=100_000))
def test_a_code_is_refused_once_its_lifetime_has_passed(age: int) -> None:
    text = codec().issue(product="01", reference=42)
    with pytest.raises(CodeRefused) as refused:
        codec(NOW + age).read(text)
    assert refused.value.reason in {"code_expired", "code_invalid"}


def test_a_code_two_minutes_old_is_refused_as_expired() -> None:
    text = codec().issue(product="01", reference=42)
    with pytest.raises(CodeRefused, match="code_expired"):
        codec(NOW + 120).read(text)


@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_random_digits_after_a_valid_head_fail_the_check(tail: str) -> None:
    genuine = codec().issue(product="01", reference=int(tail[:6]))
    guess = "6201" + genuine[4:6] + tail
    if guess != genuine:
        with pytest.raises(CodeRefused, match="code_invalid"):
            codec().read(guess)


def test_a_code_changed_in_any_one_digit_is_refused() -> None:
    text = codec().issue(product="01", reference=123456)
    for at in range(4, 19):
        digit = str((int(text[at]) + 1) % 10)
        with pytest.raises(CodeRefused):
            codec().read(text[:at] + digit + text[at + 1 :])


def test_a_code_under_another_key_is_refused() -> None:
    text = codec(key=b"another key 1234").issue(product="01", reference=7)
    with pytest.raises(CodeRefused, match="code_invalid"):
        codec().read(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("62011234567890123", "bad_length"),
        ("62011234567890123x4", "not_digits"),
        ("6201１23456789012345", "not_digits"),
        ("6301123456789012345", "bad_prefix"),
        ("6299123456789012345", "unknown_product"),
    ],
)
def test_malformed_codes_are_refused_with_a_named_reason(text: str, reason: str) -> None:
    with pytest.raises(CodeRefused) as refused:
        codec().read(text)
    assert refused.value.reason == reason
    assert refused.value.detail


def test_codes_are_issued_only_for_known_products_and_references_in_range() -> None:
    with pytest.raises(CodeRefused, match="unknown_product"):
        codec().issue(product="99", reference=1)
    with pytest.raises(CodeRefused, match="bad_reference"):
        codec().issue(product="01", reference=paycode.REFERENCE_SPAN)
