"""The EMVCo merchant-presented QR payload (主扫, EMV QRCPS-MPM): build and parse.

Layout: TLV fields, each a two-digit tag, a two-digit length and the value, in tag order,
``00`` first and ``63`` last. Templates (26-51 merchant accounts, 62 additional data) hold
TLV fields of their own, one level deep.

===  ================================  ===========================================
tag  field                             here
===  ================================  ===========================================
00   payload format indicator          "01"
01   point of initiation               "11" static (any amount), "12" dynamic (one bill)
26+  merchant account information      template: 00 globally unique id, 01-99 free
52   merchant category code            ISO 18245, 4 digits
53   transaction currency              "156" (only CNY is accepted)
54   transaction amount                yuan text from fen ("12.30"), absent when static
58   country code                      "CN"
59   merchant name                     1-25 characters
60   merchant city                     1-15 characters
62   additional data                   template: 01 bill number, 07 terminal label
63   CRC                               CRC-16/CCITT-FALSE, 4 uppercase hex digits
===  ================================  ===========================================

Lengths count characters, not bytes. EMVCo's "ans" fields are printable ASCII, whose
characters and bytes coincide; for the Chinese names and cities here the same count of
characters is what a reader that decodes the payload as UTF-8 text (as every wallet does)
sees, and it keeps a 25-character name 25 long whatever its script. The CRC is computed over
the UTF-8 bytes. Unknown tags are tolerated on parsing and dropped (they are for other
schemes); a tag seen twice is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from sscard.payments.codes import money
from sscard.payments.codes.errors import CodeRefused

STATIC: Final = "11"
DYNAMIC: Final = "12"
ACCOUNT_TAGS: Final = range(26, 52)
MANDATORY: Final = {"00": "格式版本", "52": "商户类别码", "53": "币种", "58": "国家代码",
                    "59": "商户名称", "60": "商户所在城市"}  # fmt: skip
NAME_MAX: Final = 25
CITY_MAX: Final = 15
BILL_MAX: Final = 25
CRC_TAG: Final = "6304"


def _crc_entry(byte: int) -> int:
    crc = byte << 8
    for _ in range(8):
        crc = (((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


_CRC_TABLE: Final = tuple(_crc_entry(byte) for byte in range(256))


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final xor
    (a byte at a time through a 256-entry table)."""
    crc = 0xFFFF
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[(crc >> 8) ^ byte]
    return crc


@dataclass(frozen=True, slots=True)
class MerchantAccount:
    """One merchant account template (tags 26-51): the scheme's id and its own fields."""

    tag: int
    guid: str
    """Sub-tag 00: the globally unique id of the scheme (an AID or a reverse domain name)."""
    fields: tuple[tuple[str, str], ...] = ()
    """Sub-tags 01-99 with their values, in tag order."""


@dataclass(frozen=True, slots=True)
class MerchantQr:
    """What a merchant-presented QR says: who is paid, for what kind of trade, how much."""

    accounts: tuple[MerchantAccount, ...]
    mcc: str
    name: str
    city: str
    amount_fen: int | None = None
    """The amount of one bill (dynamic codes); None lets the payer type it (static)."""
    bill_number: str | None = None
    terminal_label: str | None = None
    currency: str = money.CNY.numeric
    country: str = "CN"

    @property
    def dynamic(self) -> bool:
        return self.amount_fen is not None


def _tlv(tag: str, value: str) -> str:
    if not value or len(value) > 99:
        raise CodeRefused("bad_length", f"字段 {tag} 的长度应为 1 至 99 个字符")
    return f"{tag}{len(value):02d}{value}"


def _text(value: str, *, field: str, limit: int) -> str:
    if not value or len(value) > limit:
        raise CodeRefused("bad_length", f"{field}应为 1 至 {limit} 个字符")
    if any(not ch.isprintable() for ch in value):
        raise CodeRefused("bad_text", f"{field}含有不可打印的字符")
    return value


def _account(account: MerchantAccount) -> str:
    if account.tag not in ACCOUNT_TAGS:
        raise CodeRefused("bad_tag", f"商户账户模板的标签应在 26 至 51 之间（收到 {account.tag}）")
    inner = _tlv("00", account.guid) + "".join(_tlv(t, v) for t, v in account.fields)
    return _tlv(f"{account.tag:02d}", inner)


def _additional(code: MerchantQr) -> str:
    parts = []
    if code.bill_number is not None:
        parts.append(_tlv("01", _text(code.bill_number, field="账单号", limit=BILL_MAX)))
    if code.terminal_label is not None:
        parts.append(_tlv("07", _text(code.terminal_label, field="终端标识", limit=BILL_MAX)))
    return _tlv("62", "".join(parts)) if parts else ""


def build(code: MerchantQr) -> str:
    """The payload text of a merchant QR, CRC included."""
    if not code.accounts:
        raise CodeRefused("missing_tag", "至少需要一个商户账户模板（标签 26 至 51）")
    if not _is_mcc(code.mcc):
        raise CodeRefused("bad_mcc", "商户类别码应为 4 位数字")
    money.currency(code.currency)
    amount = "" if code.amount_fen is None else _amount(code.amount_fen)
    body = (
        _tlv("00", "01")
        + _tlv("01", DYNAMIC if code.dynamic else STATIC)
        + "".join(_account(a) for a in sorted(code.accounts, key=lambda a: a.tag))
        + _tlv("52", code.mcc)
        + _tlv("53", code.currency)
        + amount
        + _tlv("58", code.country)
        + _tlv("59", _text(code.name, field="商户名称", limit=NAME_MAX))
        + _tlv("60", _text(code.city, field="商户所在城市", limit=CITY_MAX))
        + _additional(code)
        + CRC_TAG
    )
    return body + f"{crc16_ccitt_false(body.encode()):04X}"


def _is_mcc(value: str) -> bool:
    return len(value) == 4 and value.isascii() and value.isdigit()


def _amount(fen: int) -> str:
    if money.check_fen(fen) == 0:
        raise CodeRefused("bad_amount", "金额须大于零")
    return _tlv("54", money.fen_to_yuan(fen))


def fields(text: str) -> Iterator[tuple[str, str]]:
    """The (tag, value) pairs of one TLV level, or CodeRefused(bad_length)."""
    at = 0
    while at < len(text):
        head = text[at : at + 4]
        if len(head) < 4 or not head.isascii() or not head.isdigit():
            raise CodeRefused("bad_length", f"第 {at + 1} 个字符起的标签或长度不是数字")
        size = int(head[2:])
        value = text[at + 4 : at + 4 + size]
        if size == 0 or len(value) < size:
            raise CodeRefused("bad_length", f"字段 {head[:2]} 的长度 {size} 与内容不符")
        yield head[:2], value
        at += 4 + size


def _unique(pairs: Iterator[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag, value in pairs:
        if tag in found:
            raise CodeRefused("duplicate_tag", f"字段 {tag} 出现了两次")
        found[tag] = value
    return found


def _check_crc(text: str) -> str:
    if len(text) < 8 or text[-8:-4] != CRC_TAG:
        raise CodeRefused("missing_tag", "缺少校验码字段（63）或它不在末尾")
    expected = f"{crc16_ccitt_false(text[:-4].encode()):04X}"
    if text[-4:] != expected:
        raise CodeRefused("bad_crc", "校验码不符：二维码内容不完整或被改动")
    return text[:-8]


def _parse_account(tag: str, value: str) -> MerchantAccount:
    inner = _unique(fields(value))
    guid = inner.pop("00", None)
    if guid is None:
        raise CodeRefused("missing_tag", f"商户账户模板 {tag} 缺少唯一标识（00）")
    return MerchantAccount(tag=int(tag), guid=guid, fields=tuple(sorted(inner.items())))


def parse(text: str) -> MerchantQr:
    """The merchant QR a payload describes, or CodeRefused with the reason."""
    top = _unique(fields(_check_crc(text)))
    missing = [name for tag, name in MANDATORY.items() if tag not in top]
    if missing:
        raise CodeRefused("missing_tag", f"缺少必备字段：{'、'.join(missing)}")
    if next(iter(top)) != "00" or top["00"] != "01":
        raise CodeRefused("bad_format", "格式版本（00）应为 01 且位于最前")
    accounts = tuple(
        _parse_account(tag, value) for tag, value in top.items() if int(tag) in ACCOUNT_TAGS
    )
    if not accounts:
        raise CodeRefused("missing_tag", "缺少必备字段：商户账户信息（26 至 51）")
    if not _is_mcc(top["52"]):
        raise CodeRefused("bad_mcc", "商户类别码应为 4 位数字")
    money.currency(top["53"])
    initiation = top.get("01", STATIC)
    amount = money.yuan_to_fen(top["54"]) if "54" in top else None
    if amount == 0:
        raise CodeRefused("bad_amount", "金额须大于零")
    if initiation not in (STATIC, DYNAMIC):
        raise CodeRefused("bad_format", "发起方式（01）应为 11（静态码）或 12（动态码）")
    if (initiation == DYNAMIC) != (amount is not None):
        raise CodeRefused("bad_amount", "动态码须带金额，静态码不带金额")
    extra = _unique(fields(top["62"])) if "62" in top else {}
    return MerchantQr(
        accounts=accounts,
        mcc=top["52"],
        name=_text(top["59"], field="商户名称", limit=NAME_MAX),
        city=_text(top["60"], field="商户所在城市", limit=CITY_MAX),
        amount_fen=amount,
        bill_number=extra.get("01"),
        terminal_label=extra.get("07"),
        currency=top["53"],
        country=top["58"],
    )
