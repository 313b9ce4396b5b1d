"""Terminal side over PC/SC (pyscard, extra ``card``): read and authenticate a card."""

from __future__ import annotations

from typing import Any

from sscard.crypto.primitives import random_bytes
from sscard.terminals.chip.card import EF05_TAGS, EF06_TAGS, SSSE_AID, parse_tlv, pin_bytes
from sscard.terminals.chip.keys import KeyPurpose, auth_response, diversify


class CardReaderError(Exception):
    """读卡失败 (card removed, no reader, or an unexpected status word)."""


def _readers() -> list[Any]:
    try:
        from smartcard.System import readers  # noqa: PLC0415 - the optional extra 'card'
    except ImportError as exc:
        raise CardReaderError("未安装读卡器支持 pyscard（pip install '.[card]'）") from exc
    return list(readers())


class ChipReader:
    def __init__(self, reader_name: str | None = None) -> None:
        names = [r for r in _readers() if reader_name is None or str(r) == reader_name]
        if not names:
            raise CardReaderError("未找到读卡器")
        self._reader: Any = names[0]
        self._conn: Any = None

    @staticmethod
    def list_readers() -> list[str]:
        return [str(r) for r in _readers()]

    def connect(self) -> None:
        try:
            self._conn = self._reader.createConnection()
            self._conn.connect()
        except Exception as exc:
            raise CardReaderError("读卡器中无卡或卡片无响应") from exc

    def transmit(self, apdu: bytes) -> tuple[bytes, bytes]:
        try:
            data, sw1, sw2 = self._conn.transmit(list(apdu))
        except Exception as exc:
            raise CardReaderError("卡片已拔出或通信中断") from exc
        return bytes(data), bytes([sw1, sw2])

    def _ok(self, apdu: bytes) -> bytes:
        data, sw = self.transmit(apdu)
        if sw != b"\x90\x00":
            raise CardReaderError(f"卡片返回状态字 {sw.hex().upper()}")
        return data

    def select_ssse(self) -> None:
        self._ok(bytes([0, 0xA4, 4, 0, len(SSSE_AID)]) + SSSE_AID)

    def read_identification(self) -> dict[str, str]:
        return parse_tlv(self._ok(bytes([0, 0xB0, 0x85, 0, 0])), EF05_TAGS)

    def read_holder(self) -> dict[str, str]:
        return parse_tlv(self._ok(bytes([0, 0xB0, 0x86, 0, 0])), EF06_TAGS)

    def verify_pin(self, pin: str) -> bytes:
        body = pin_bytes(pin)
        return self.transmit(bytes([0, 0x20, 0, 0, len(body)]) + body)[1]

    def internal_authenticate(self, masters: dict[KeyPurpose, bytes], card_identifier: str) -> bool:
        """True when the card proves its diversified internal-auth key (not a clone)."""
        challenge = random_bytes(8)
        answer = self._ok(bytes([0, 0x88, 0, 0, 8]) + challenge)
        key = diversify(masters[KeyPurpose.INTERNAL_AUTH], card_identifier)
        return answer == auth_response(key, challenge)

    def disconnect(self) -> None:
        if self._conn is not None:
            self._conn.disconnect()
