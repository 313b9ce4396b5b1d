"""The card as a pure APDU machine (bytes in, bytes out), state in a JSON-able dict.

Files: MF 3F00 > DF "SSSE" (FID DDF1) > EF05 (卡识别, free to read), EF06 (持卡人, needs PIN).
Records are TLV: tag (1 byte), length (1 byte), UTF-8 value.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sscard.crypto.primitives import random_bytes
from sscard.terminals.chip.keys import auth_response

SSSE_AID = b"sx1.sh.\xc9\xe7\xbb\xe1\xb1\xa3\xd5\xcf"  # "sx1.sh.社会保障" (GBK)
SSSE_FID = b"\xdd\xf1"

EF05_TAGS = {  # 卡识别
    0x01: "card_identifier",  # 卡识别码
    0x02: "card_type",  # 卡类别
    0x03: "spec_version",  # 规范版本
    0x04: "issuer_org",  # 初始化机构编号
    0x05: "issued_on",  # 发卡日期
    0x06: "valid_until",  # 有效期
    0x07: "card_number",  # 卡号
}
EF06_TAGS = {  # 持卡人
    0x08: "ssn",  # 社会保障号码
    0x09: "name",  # 姓名
    0x0A: "sex",  # 性别
    0x0B: "ethnicity",  # 民族
    0x0C: "birthplace",  # 出生地
    0x0D: "birth_date",  # 出生日期
}

OK = b"\x90\x00"
WRONG_LENGTH = b"\x67\x00"
SECURITY_NOT_SATISFIED = b"\x69\x82"
AUTH_BLOCKED = b"\x69\x83"
CONDITIONS_NOT_SATISFIED = b"\x69\x85"
NOT_FOUND = b"\x6a\x82"
RECORD_NOT_FOUND = b"\x6a\x83"
WRONG_P1P2 = b"\x6a\x86"
INS_NOT_SUPPORTED = b"\x6d\x00"
CLA_NOT_SUPPORTED = b"\x6e\x00"
MAX_PIN_TRIES = 3


def tlv(tags: dict[int, str], values: dict[str, str]) -> bytes:
    out = b""
    for tag, field in tags.items():
        v = values[field].encode("utf-8")
        out += bytes([tag, len(v)]) + v
    return out


def parse_tlv(data: bytes, tags: dict[int, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    i = 0
    while i + 2 <= len(data):
        tag, length = data[i], data[i + 1]
        out[tags.get(tag, f"{tag:02X}")] = data[i + 2 : i + 2 + length].decode("utf-8")
        i += 2 + length
    return out


class Card:
    """One card; ``state`` is the persisted JSON dict (see ``new_card_state``)."""

    def __init__(self, state: dict[str, Any], path: Path | None = None) -> None:
        self.state = state
        self.path = path
        self.reset()

    @classmethod
    def load(cls, path: Path) -> Card:
        return cls(json.loads(path.read_text("utf-8")), path)

    def save(self) -> None:
        if self.path is not None:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.state, ensure_ascii=False, indent=1), "utf-8")
            os.replace(tmp, self.path)

    def reset(self) -> None:
        self.df_selected = False
        self.ef: bytes | None = None
        self.challenge: bytes | None = None
        self.pin_ok = False
        self.external_ok = False

    def _key(self, purpose: str) -> bytes:
        return bytes.fromhex(self.state["keys"][purpose])

    def _files(self) -> dict[bytes, tuple[bytes, bool]]:
        return {
            b"\xef\x05": (tlv(EF05_TAGS, self.state["ef05"]), False),
            b"\xef\x06": (tlv(EF06_TAGS, self.state["ef06"]), True),
        }

    def process(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return WRONG_LENGTH
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[5 : 5 + apdu[4]] if len(apdu) > 5 else b""
        if len(apdu) > 5 and len(body) != apdu[4]:
            return WRONG_LENGTH
        le = apdu[4] if len(apdu) == 5 else None
        if cla not in (0x00, 0x80, 0x84):
            return CLA_NOT_SUPPORTED
        handler = {
            0xA4: self._select,
            0xB0: self._read_binary,
            0xB2: self._read_record,
            0x84: self._get_challenge,
            0x88: self._internal_auth,
            0x82: self._external_auth,
            0x20: self._verify,
            0x5E: self._change_pin,
        }.get(ins)
        if handler is None:
            return INS_NOT_SUPPORTED
        return handler(p1, p2, body, le)

    def _select(self, p1: int, p2: int, body: bytes, le: int | None) -> bytes:
        if p1 == 0x04:  # by name
            if body != SSSE_AID:
                return NOT_FOUND
            self.reset()
            self.df_selected = True
            return OK
        if p1 in (0x00, 0x02):  # by FID
            if body == SSSE_FID or body == b"\x3f\x00":
                self.reset()
                self.df_selected = body == SSSE_FID
                return OK
            if len(body) != 2:
                return WRONG_LENGTH
            if not self.df_selected or body not in self._files():
                return NOT_FOUND
            self.ef = body
            return OK
        return WRONG_P1P2

    def _readable(self, fid: bytes | None) -> tuple[bytes, bytes]:
        if fid is None or not self.df_selected or fid not in self._files():
            return b"", CONDITIONS_NOT_SATISFIED if fid is None else NOT_FOUND
        data, protected = self._files()[fid]
        if protected and not self.pin_ok:
            return b"", SECURITY_NOT_SATISFIED
        return data, OK

    def _read_binary(self, p1: int, p2: int, body: bytes, le: int | None) -> bytes:
        fid = self.ef
        if p1 & 0x80:  # short EF identifier
            fid = b"\xef" + bytes([p1 & 0x1F])
            p1 = 0
        data, sw = self._readable(fid)
        if sw != OK:
            return sw
        offset = (p1 << 8) | p2
        n = le or 256
        return data[offset : offset + n] + OK

    def _read_record(self, p1: int, p2: int, body: bytes, le: int | None) -> bytes:
        fid = self.ef if (p2 >> 3) == 0 else b"\xef" + bytes([p2 >> 3])
        data, sw = self._readable(fid)
        if sw != OK:
            return sw
        i, n = 0, 1
        while i + 2 <= len(data):
            length = data[i + 1]
            if n == p1:
                return data[i : i + 2 + length] + OK
            i += 2 + length
            n += 1
        return RECORD_NOT_FOUND

    def _get_challenge(self, p1: int, p2: int, body: bytes, le: int | None) -> bytes:
        if le not in (4, 8, 16):
            return WRONG_LENGTH
        self.challenge = random_bytes(le)
        return self.challenge + OK

    def _internal_auth(self, p1: int, p2: int, body: bytes, le: int | None) -> bytes:
        if len(body) not in (8, 16):
            return WRONG_LENGTH
        return auth_response(self._key("internal_auth"), body) + OK

    def _external_auth(self, p1: int, p2: int, body: bytes, le: int | None) -> bytes:
        if self.challenge is None:
            return CONDITIONS_NOT_SATISFIED
        challenge, self.challenge = self.challenge, None
        if len(body) != 16:
            return WRONG_LENGTH
        if body != auth_response(self._key("external_auth"), challenge):
            return SECURITY_NOT_SATISFIED
        self.external_ok = True
        return OK

    def _tries_word(self) -> bytes:
        left = self.state["pin_tries_left"]
        return AUTH_BLOCKED if left <= 0 else bytes([0x63, 0xC0 | left])

    def _check_pin(self, pin: bytes) -> bytes:
        if self.state["pin_tries_left"] <= 0:
            return AUTH_BLOCKED
        if pin.hex().upper().rstrip("F") == self.state["pin"]:
            self.state["pin_tries_left"] = MAX_PIN_TRIES
            self.save()
            self.pin_ok = True
            return OK
        self.state["pin_tries_left"] -= 1
        self.save()
        self.pin_ok = False
        return self._tries_word()

    def _verify(self, p1: int, p2: int, body: bytes, le: int | None) -> bytes:
        if not self.df_selected:
            return CONDITIONS_NOT_SATISFIED
        if not body:
            return OK if self.pin_ok else self._tries_word()
        if not 2 <= len(body) <= 6:
            return WRONG_LENGTH
        return self._check_pin(body)

    def _change_pin(self, p1: int, p2: int, body: bytes, le: int | None) -> bytes:
        # CHANGE PIN: old PIN || 0xFF || new PIN (BCD, F-padded)
        if not self.df_selected:
            return CONDITIONS_NOT_SATISFIED
        old, sep, new = body.partition(b"\xff")
        if not sep or not old or not 2 <= len(new) <= 6:
            return WRONG_LENGTH
        sw = self._check_pin(old)
        if sw != OK:
            return sw
        self.state["pin"] = new.hex().upper().rstrip("F")
        self.save()
        return OK


def pin_bytes(pin: str) -> bytes:
    digits = pin if len(pin) % 2 == 0 else pin + "F"
    return bytes.fromhex(digits)


def new_card_state(
    *, ef05: dict[str, str], ef06: dict[str, str], keys: dict[str, bytes], pin: str = "123456"
) -> dict[str, Any]:
    return {
        "ef05": ef05,
        "ef06": ef06,
        "keys": {k: v.hex() for k, v in keys.items()},
        "pin": pin,
        "pin_tries_left": MAX_PIN_TRIES,
    }
