"""The payment code key: derived from the key store's ``payments-paycode`` secret."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from sscard.crypto import service as crypto_service
from sscard.payments.codes.paycode import PaycodeCodec
from sscard.settings import get_settings

KEY_NAME = "payments-paycode"
CONTEXT = b"paycode-check-v1"


def codec(session: Session, *, clock: Callable[[], float] = time.time) -> PaycodeCodec:
    """The codec under the active version of the key (created on first use). A rotation
    makes the codes of the minute before it unreadable: wallets show a fresh one anyway."""
    crypto_service.ensure_key(
        session, name=KEY_NAME, kind="secret", description="居民付款码校验密钥"
    )
    key = crypto_service.derive_key(session, name=KEY_NAME, context=CONTEXT).key
    return PaycodeCodec(key=key, ttl=get_settings().pay_code_ttl_seconds, clock=clock)
