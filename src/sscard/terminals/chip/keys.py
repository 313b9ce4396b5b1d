"""Card key diversification (密钥分散).

Diversification data (分散因子) for a card: the 卡识别码 (32 characters) is hashed with SM3 and the
first 16 bytes taken; the card key is ``SM4-ECB(master, data)``. One master per purpose.
"""

from __future__ import annotations

from enum import StrEnum

from sscard.crypto.primitives import sm3, sm4_ecb_encrypt_block


class KeyPurpose(StrEnum):
    INTERNAL_AUTH = "internal_auth"  # 内部认证
    EXTERNAL_AUTH = "external_auth"  # 外部认证
    PIN_UNBLOCK = "pin_unblock"  # PIN 解锁
    MAC = "mac"  # 报文鉴别


def diversification_data(card_identifier: str) -> bytes:
    if len(card_identifier) != 32:
        raise ValueError("卡识别码应为32位")
    return sm3(card_identifier.encode("ascii"))[:16]


def diversify(master: bytes, card_identifier: str) -> bytes:
    return sm4_ecb_encrypt_block(master, diversification_data(card_identifier))


def card_keys(masters: dict[KeyPurpose, bytes], card_identifier: str) -> dict[KeyPurpose, bytes]:
    return {p: diversify(m, card_identifier) for p, m in masters.items()}


def auth_response(key: bytes, challenge: bytes) -> bytes:
    """SM4 over a challenge (8 bytes padded with zeros to a block, or 16 bytes)."""
    return sm4_ecb_encrypt_block(key, challenge.ljust(16, b"\x00")[:16])
