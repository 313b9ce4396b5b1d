"""The keys of online banking, held in the key store.

- ``online-pay-sign`` (``sm2_sign``): signs the platform's pay requests. Its public key is
  handed to the banks as ``<region>-pay.pem`` (``sscard payments online publish --dir``);
  the request names that party (``signer``) so a bank knows which key to use.
- ``online-bank-<bank code, lower case>`` (``sm2_partner_public``): a bank's notice key,
  imported from the PEM file the bank hands over (``sscard payments online bank-key``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from sscard.crypto import pem
from sscard.crypto import service as crypto_service
from sscard.crypto.errors import KeyNotFound
from sscard.payments.codes import online_signing
from sscard.payments.codes.online_signing import PLATFORM_KEY
from sscard.settings import get_settings

SIGN_KEY = PLATFORM_KEY


def signer_party() -> str:
    """How the platform names its pay-request key to the banks: ``<region>-pay``."""
    return online_signing.signer_party(get_settings().region_code)


def bank_key_name(bank_code: str) -> str:
    return f"online-bank-{bank_code.lower()}"


def ensure_sign_key(session: Session) -> str:
    """Create the platform's pay-request key if missing; its public key as PEM."""
    crypto_service.ensure_key(
        session, name=SIGN_KEY, kind="sm2_sign", description="网银支付请求签名（平台）"
    )
    return crypto_service.export_public_pem(session, name=SIGN_KEY)


def sign(session: Session, message: bytes) -> bytes:
    ensure_sign_key(session)
    return crypto_service.sign(session, name=SIGN_KEY, message=message).signature


def publish(session: Session, *, directory: Path) -> Path:
    """Write the platform's pay-request public key as ``<directory>/<region>-pay.pem``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{signer_party()}.pem"
    path.write_text(ensure_sign_key(session), encoding="ascii")
    return path


def import_bank_key(session: Session, *, bank_code: str, pem_text: str) -> str:
    """Trust ``pem_text`` for the notices of ``bank_code``; the key store name."""
    name = bank_key_name(bank_code)
    crypto_service.import_public_key(
        session,
        name=name,
        public_key=pem.load_public_key(pem_text),
        description=f"网银支付结果通知验签（{bank_code}）",
    )
    return name


def bank_signed(session: Session, *, bank_code: str, message: bytes, signature: bytes) -> bool:
    """Whether ``bank_code``'s imported key accepts the signature (False when none imported)."""
    try:
        return crypto_service.verify(
            session, name=bank_key_name(bank_code), message=message, signature=signature
        ).valid
    except KeyNotFound:
        return False
