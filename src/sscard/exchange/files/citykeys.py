"""The city's keys for the batch cycle, held in the key store (see docs/formats.md, "Keys").

- ``city-exchange-sign`` (``sm2_sign``): signs the city's manifests; its public key is
  given to the province as PEM (``sscard batch keys --out DIR``).
- ``province-exchange`` (``sm2_partner_public``): the province's public key, imported from
  the PEM file it hands over (``sscard keys import-public province-exchange --in ...``);
  result packages must be signed by it.
- ``exchange-transfer`` (``secret``): the root of the SM4 transfer keys. The key shared
  with one party is derived from it (HMAC-SM3 KDF, context ``sscard-transfer|<party>``)
  and handed to that party once, out of band, as a key file
  (``sscard batch transfer-key province --out FILE``); rotating the secret gives a new
  version, named in every encrypted file's header.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sscard.crypto import service as crypto_service
from sscard.crypto.errors import KeyNotFound
from sscard.errors import ConfigurationError
from sscard.exchange.errors import PackageRejected
from sscard.exchange.files import transfer
from sscard.exchange.files.manifest import Manifest, Signer, Verifier
from sscard.settings import get_settings

SIGN_KEY = "city-exchange-sign"
PROVINCE_KEY = "province-exchange"
TRANSFER_ROOT = "exchange-transfer"
PROVINCE = "province"
BANK = "bank"
BANK_KEY = "bank-exchange"
"""The banks' public key (``sm2_partner_public``): disbursement return files are signed by it.
A bank with a key of its own is trusted as ``bank-exchange-<institution code>`` first."""


def city_party() -> str:
    """How the city names itself in manifests: its region code."""
    return get_settings().region_code


def ensure_sign_key(session: Session) -> str:
    """Create the city's signing key if missing; its public key as PEM."""
    crypto_service.ensure_key(
        session, name=SIGN_KEY, kind="sm2_sign", description="批量制卡文件签名（市卡管）"
    )
    return crypto_service.export_public_pem(session, name=SIGN_KEY)


def signer(session: Session) -> Signer:
    """The city's manifest signer (key store key ``city-exchange-sign``)."""
    ensure_sign_key(session)
    public = crypto_service.public_key(session, name=SIGN_KEY)

    def sign(message: bytes) -> bytes:
        return crypto_service.sign(session, name=SIGN_KEY, message=message).signature

    return Signer(city_party(), SIGN_KEY, public.fingerprint, sign)


def province_verifier(session: Session) -> Verifier:
    """Accept manifests signed by the province's imported public key only."""

    def verify(manifest: Manifest, message: bytes, signature: bytes) -> bool:
        if manifest.sender != PROVINCE:
            raise PackageRejected(f"结果文件的发送方应为省卡管，实为 {manifest.sender[:32]}")
        try:
            return crypto_service.verify(
                session, name=PROVINCE_KEY, message=message, signature=signature
            ).valid
        except KeyNotFound:
            raise ConfigurationError(
                "尚未导入省卡管的签名公钥："
                f"sscard keys import-public {PROVINCE_KEY} --in 省卡管公钥.pem"
            ) from None

    return verify


def bank_verifier(session: Session, *, bank_code: str) -> Verifier:
    """Accept manifests sent by a bank, signed by its imported public key only."""

    def verify(manifest: Manifest, message: bytes, signature: bytes) -> bool:
        if manifest.sender != BANK:
            raise PackageRejected(f"回盘文件的发送方应为银行，实为 {manifest.sender[:32]}")
        for name in (f"{BANK_KEY}-{bank_code}", BANK_KEY):
            try:
                return crypto_service.verify(
                    session, name=name, message=message, signature=signature
                ).valid
            except KeyNotFound:
                continue
        raise ConfigurationError(
            f"尚未导入银行的签名公钥：sscard keys import-public {BANK_KEY} --in 银行公钥.pem"
        )

    return verify


def transfer_key(
    session: Session, *, party: str, version: int | None = None
) -> transfer.TransferKey:
    """The SM4 key shared with ``party`` for transfer encryption (derived; see above)."""
    crypto_service.ensure_key(
        session, name=TRANSFER_ROOT, kind="secret", description="批量文件传输加密根密钥"
    )
    derived = crypto_service.derive_key(
        session,
        name=TRANSFER_ROOT,
        context=f"sscard-transfer|{party}".encode(),
        length=16,
        version=version,
    )
    return transfer.TransferKey(party, TRANSFER_ROOT, derived.version, derived.key)


def _key_for(session: Session, header: dict[str, Any]) -> bytes:
    if header.get("party") != PROVINCE or header.get("key") != TRANSFER_ROOT:
        raise PackageRejected("结果文件的传输密钥不是与省卡管约定的密钥")
    return transfer_key(session, party=PROVINCE, version=int(header.get("version") or 1)).key


def decrypt_upload(session: Session, *, source: Path, target: Path) -> Path:
    """A result file, SM4-GCM unwrapped into ``target`` when it is wrapped (else ``source``)."""
    if not transfer.is_encrypted(source):
        return source
    transfer.decrypt_file(source, target, key=lambda header: _key_for(session, header))
    return target
