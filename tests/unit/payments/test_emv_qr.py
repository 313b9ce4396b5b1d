import io

import pytest
import segno
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from sscard.payments.codes import emv, money
from sscard.payments.codes.emv import MerchantAccount, MerchantQr
from sscard.payments.codes.errors import CodeRefused

UNIONPAY = "A000000333010108"


def pharmacy(**changes: object) -> MerchantQr:
    values: dict[str, object] = {
        "accounts": (MerchantAccount(26, "cn.sscard.pay", (("01", "M37080000001"),)),),
        "mcc": "5912",
        "name": "仁和大药房",
        "city": "济宁",
        "amount_fen": 1230,
        "bill_number": "B20261204001",
        "terminal_label": "POS01",
    }
    values.update(changes)
    return MerchantQr(**values)  # type: ignore[arg-type]


def replace_tag(text: str, tag: str, value: str) -> str:
    """The payload with one top-level field's value replaced and the CRC made right again."""
    pairs = [(t, value if t == tag else v) for t, v in emv.fields(text[:-8])]
    body = "".join(f"{t}{len(v):02d}{v}" for t, v in pairs) + "6304"
    return body + f"{emv.crc16_ccitt_false(body.encode()):04X}"


def test_the_crc_is_ccitt_false_whose_check_value_is_29b1() -> None:
    assert emv.crc16_ccitt_false(b"123456789") == 0x29B1


def test_a_dynamic_pharmacy_code_reads_as_the_tlv_fields_emvco_defines() -> None:
    text = emv.build(pharmacy())
    top = dict(emv.fields(text))
    assert text.startswith("000201010212")
    assert top["52"] == "5912" and top["53"] == "156" and top["54"] == "12.30"
    assert top["58"] == "CN" and top["59"] == "仁和大药房" and top["60"] == "济宁"
    assert dict(emv.fields(top["62"])) == {"01": "B20261204001", "07": "POS01"}
    assert dict(emv.fields(top["26"])) == {"00": "cn.sscard.pay", "01": "M37080000001"}
    assert "5905仁和大药房" in text  # five characters, not fifteen bytes
    assert text[-8:-4] == "6304" and text[-4:] == text[-4:].upper()


def test_a_static_code_carries_no_amount_and_says_11() -> None:
    text = emv.build(pharmacy(amount_fen=None, bill_number=None))
    assert text.startswith("000201010211") and "54" not in dict(emv.fields(text))
    assert emv.parse(text).amount_fen is None


printable = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")),
    min_size=1,
).filter(lambda s: s.isprintable())
accounts = st.lists(
    st.builds(
        MerchantAccount,
        tag=st.integers(min_value=26, max_value=51),
        guid=st.sampled_from([UNIONPAY, "cn.sscard.pay", "com.example.acquirer"]),
        fields=st.lists(
            st.tuples(
                st.integers(min_value=1, max_value=99).map(lambda n: f"{n:02d}"),
                st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=20),
            ),
            max_size=2,
            unique_by=lambda pair: pair[0],
        ).map(lambda pairs: tuple(sorted(pairs))),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda account: account.tag,
).map(lambda found: tuple(sorted(found, key=lambda a: a.tag)))


@given(
    accounts=accounts,
    mcc=st.sampled_from(["5912", "8062", "4111", "7996", "9399"]),
    name=printable.map(lambda s: s[: emv.NAME_MAX]),
    city=printable.map(lambda s: s[: emv.CITY_MAX]),
    amount=st.none() | st.integers(min_value=1, max_value=money.MAX_FEN),
    bill=st.none() | st.text(alphabet="0123456789ABCDEFGHJK", min_size=1, max_size=25),
    label=st.none() | st.text(alphabet="0123456789ABCDEFGHJK", min_size=1, max_size=25),
)
def test_every_merchant_qr_round_trips_through_its_payload(
    accounts: tuple[MerchantAccount, ...],
    mcc: str,
    name: str,
    city: str,
    amount: int | None,
    bill: str | None,
    label: str | None,
) -> None:
    code = MerchantQr(accounts, mcc, name, city, amount, bill, label)
    text = emv.build(code)
    assert emv.parse(text) == code
    assert emv.crc16_ccitt_false(text[:-4].encode()) == int(text[-4:], 16)


@given(st.integers(min_value=0), st.characters(codec="utf-8"))
def test_a_payload_changed_in_one_character_is_refused(at: int, new: str) -> None:
    text = emv.build(pharmacy())
    at %= len(text)
    changed = text[:at] + new + text[at + 1 :]
    if changed != text:
        with pytest.raises(CodeRefused):
            emv.parse(changed)


def test_a_wrong_crc_is_refused_as_bad_crc() -> None:
    text = emv.build(pharmacy())
    wrong = text[:-4] + f"{(int(text[-4:], 16) + 1) % 0x10000:04X}"
    with pytest.raises(CodeRefused) as refused:
        emv.parse(wrong)
    assert refused.value.reason == "bad_crc"


@pytest.mark.parametrize(
    ("tag", "value", "reason"),
    [
        ("53", "840", "unknown_currency"),
        ("54", "12.345", "bad_amount"),
        ("54", "-1.00", "bad_amount"),
        ("54", "0.00", "bad_amount"),
        ("52", "59A2", "bad_mcc"),
        ("00", "02", "bad_format"),
        ("01", "13", "bad_format"),
        ("01", "11", "bad_amount"),
        ("59", "名" * 26, "bad_length"),
    ],
)
def test_a_payload_with_a_wrong_field_is_refused_with_the_reason(
    tag: str, value: str, reason: str
) -> None:
    with pytest.raises(CodeRefused) as refused:
        emv.parse(replace_tag(emv.build(pharmacy()), tag, value))
    assert refused.value.reason == reason


def test_a_payload_missing_a_mandatory_field_names_it() -> None:
    text = emv.build(pharmacy())
    pairs = [(t, v) for t, v in emv.fields(text[:-8]) if t != "59"]
    body = "".join(f"{t}{len(v):02d}{v}" for t, v in pairs) + "6304"
    with pytest.raises(CodeRefused, match="商户名称") as refused:
        emv.parse(body + f"{emv.crc16_ccitt_false(body.encode()):04X}")
    assert refused.value.reason == "missing_tag"


def test_a_payload_cut_short_is_refused() -> None:
    text = emv.build(pharmacy())
    with pytest.raises(CodeRefused) as refused:
        emv.parse(text[:20])
    assert refused.value.reason in {"missing_tag", "bad_length"}
    body = text[:-8][:-3] + "6304"
    with pytest.raises(CodeRefused, match="bad_length"):
        emv.parse(body + f"{emv.crc16_ccitt_false(body.encode()):04X}")


def test_building_refuses_a_name_too_long_and_a_code_with_no_account() -> None:
    with pytest.raises(CodeRefused, match="商户名称"):
        emv.build(pharmacy(name="药" * 26))
    with pytest.raises(CodeRefused, match="missing_tag"):
        emv.build(pharmacy(accounts=()))
    with pytest.raises(CodeRefused, match="bad_tag"):
        emv.build(pharmacy(accounts=(MerchantAccount(52, UNIONPAY),)))


def test_a_qr_drawn_by_segno_is_read_back_by_zxing_as_the_same_payload() -> None:
    text = emv.build(pharmacy())
    buffer = io.BytesIO()
    segno.make(text, error="m", encoding="utf-8").save(buffer, kind="png", scale=6, border=4)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(buffer.getvalue())))
    assert [r.text for r in found] == [text]
    assert emv.parse(found[0].text).amount_fen == 1230


def test_the_example_in_the_formats_document_parses_to_the_pharmacys_bill() -> None:
    code = emv.parse(
        "00020101021226340013cn.sscard.pay0113M370811000001520459125303156540512.305802CN5905仁和大药房6002济宁62250112B202612040010705POS0163046AAD"
    )
    assert (code.name, code.city, code.mcc, code.amount_fen) == ("仁和大药房", "济宁", "5912", 1230)
    assert (code.bill_number, code.terminal_label) == ("B20261204001", "POS01")
    assert code.accounts == (MerchantAccount(26, "cn.sscard.pay", (("01", "M370811000001"),)),)
