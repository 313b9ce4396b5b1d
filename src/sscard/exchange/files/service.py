"""Batch card making with the province (批量制卡), as issuance calls it: the city's packages,
their keys, sending them and fetching the results (see docs/formats.md).

Nothing here writes to the database but the key store (keys made on first use).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sscard.exchange import errors
from sscard.exchange.files import citykeys, formats, manifest, reader, transfer, writer
from sscard.exchange.peers import bank_files, province_batch

Package = reader.Package
PackageWriter = writer.PackageWriter
PackageRow = reader.Row
TransferKey = transfer.TransferKey
ProvinceState = province_batch.ProvinceState
ACCOUNT_OPENING_COLUMNS = formats.ACCOUNT_OPENING.names
CARD_RESULT_COLUMNS = formats.CARD_RESULT.names
RESULT_SUCCESS, RESULT_FAILURE = formats.SUCCESS, formats.FAILURE
FAILURE_STAGES = formats.STAGES
PackageRejected = errors.PackageRejected
DISBURSEMENT_ORDER_COLUMNS = formats.DISBURSEMENT_ORDER.names


def account_opening_writer(*, path: Path, batch_no: str) -> PackageWriter:
    """A writer of the batch account-opening package (批量开户文件) for the province."""
    return writer.PackageWriter(
        path,
        fmt=formats.ACCOUNT_OPENING,
        batch_no=batch_no,
        sender=citykeys.city_party(),
        recipient=citykeys.PROVINCE,
    )


def finish_package(session: Session, *, writer: PackageWriter) -> manifest.Manifest:
    """Sign a package with the city's key and move it into place."""
    return writer.finish(citykeys.signer(session))


def open_card_result(session: Session, *, path: Path) -> reader.Package:
    """A card-making result package (制卡结果文件), checked whole against the province's key."""
    return reader.open_package(
        path, expect=formats.CARD_RESULT, verify=citykeys.province_verifier(session)
    )


def card_result_batch_no(*, path: Path) -> str:
    """The batch a result package names (unchecked: to find where it belongs)."""
    return reader.peek_manifest(path).batch_no


def decrypt_card_result(session: Session, *, source: Path, target: Path) -> Path:
    """An uploaded result file, SM4-GCM unwrapped when it is wrapped (else ``source``)."""
    return citykeys.decrypt_upload(session, source=source, target=target)


def package_digest(*, path: Path) -> str:
    """SM3 of a whole file (hex)."""
    return manifest.sm3_file(path)


def province_transfer_key(session: Session) -> transfer.TransferKey:
    """The SM4 key shared with the province for transfer encryption (active version)."""
    return citykeys.transfer_key(session, party=citykeys.PROVINCE)


def submit_batch(*, path: Path, batch_no: str, key: transfer.TransferKey | None) -> dict[str, Any]:
    """Send a batch package to the province (wrapped under ``key`` if given); its receipt."""
    if key is None:
        return province_batch.submit(path=path, batch_no=batch_no)
    upload = path.with_name(path.name + ".sm4")
    try:
        transfer.encrypt_file(path, upload, key=key)
        return province_batch.submit(path=upload, batch_no=batch_no)
    finally:
        upload.unlink(missing_ok=True)


def province_batch_state(*, batch_no: str) -> province_batch.ProvinceState:
    """The province's state of a batch (accepted, processing, done, failed)."""
    return province_batch.state(batch_no=batch_no)


def download_batch_result(*, batch_no: str, target: Path, encrypt: bool) -> Path:
    """Download a batch's result package from the province, as sent."""
    return province_batch.download(batch_no=batch_no, target=target, encrypt=encrypt)


def batch_sign_key_pem(session: Session) -> str:
    """The city's manifest-signing public key as PEM (created on first use)."""
    return citykeys.ensure_sign_key(session)


def write_transfer_key(session: Session, *, party: str, path: Path) -> int:
    """Write the SM4 transfer key shared with ``party`` to a key file; its version."""
    key = citykeys.transfer_key(session, party=party)
    transfer.write_transfer_key(path, key)
    return key.version


def disbursement_writer(
    *, path: Path, file_no: str, bank_code: str, total_fen: int
) -> PackageWriter:
    """A writer of a benefit payment file (待遇发放文件) for one bank."""
    return writer.PackageWriter(
        path,
        fmt=formats.DISBURSEMENT_ORDER,
        batch_no=file_no,
        sender=citykeys.city_party(),
        recipient=citykeys.BANK,
        extra={"bank_code": bank_code, "total_fen": total_fen},
    )


def open_disbursement_return(session: Session, *, path: Path, bank_code: str) -> reader.Package:
    """A bank's return file (回盘文件), checked whole against the bank's public key."""
    return reader.open_package(
        path,
        expect=formats.DISBURSEMENT_RETURN,
        verify=citykeys.bank_verifier(session, bank_code=bank_code),
    )


def submit_disbursement(*, path: Path, file_no: str, bank_code: str) -> dict[str, Any]:
    """Send a benefit payment file to its bank; the bank's receipt."""
    return bank_files.submit(path=path, file_no=file_no, bank_code=bank_code)


def download_disbursement_return(*, file_no: str, bank_code: str, target: Path) -> Path:
    """Download the bank's return file of a payment file."""
    return bank_files.download_return(file_no=file_no, bank_code=bank_code, target=target)
