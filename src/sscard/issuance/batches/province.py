"""Send and fetch, the long runs that talk to the province.

**Send** uploads the package to the province (optionally SM4-GCM wrapped); once the
province has accepted it, the cards move to ``making``. **Fetch** polls the province and,
when the result is ready, downloads and checks it. Each step is a unit of work of its own
(the province is called between them, never inside a transaction).
"""

from __future__ import annotations

from pathlib import Path

from sscard import db
from sscard.exchange.files import service as exchange_files
from sscard.iam import service as iam_service
from sscard.issuance.batches import repository, service
from sscard.issuance.batches.errors import BatchStateConflict
from sscard.issuance.batches.schemas import BatchOut, FetchReport
from sscard.issuance.cards import service as cards_service
from sscard.issuance.lifecycle import Action, Status
from sscard.kit.context import Actor


def send_batch(*, batch_no: str, actor: Actor, encrypt: bool = False) -> BatchOut:
    """Send an exported batch to the province; its cards move to ``making`` once accepted.

    Unit of work: its own transactions (one to read the batch, one to mark it sent, one per chunk of
    accepted cards; the province is called between them); call it outside any transaction (a
    request's or command's unit of work must have ended, see ``issuance.api.batches``).
    """
    iam_service.authorize(actor, "issuance.batch")
    with db.transaction() as session:
        batch = service.batch_row(session, batch_no)
        if batch.status not in service.SENDABLE:
            raise BatchStateConflict(
                f"批次 {batch_no} 当前状态为“{service.status_name(batch.status)}”，不能报送"
            )
        path = Path(batch.export_path or "")
        key = exchange_files.province_transfer_key(session) if encrypt else None
    try:
        receipt = exchange_files.submit_batch(path=path, batch_no=batch_no, key=key)
    except BaseException as exc:
        service.remember_error(batch_no, exc)
        raise
    with db.transaction() as session:
        batch = service.batch_row(session, batch_no, lock=True)
        batch.status, batch.error = service.BatchStatus.sent.value, None
        service.record(
            session,
            "issuance.batch.send",
            batch_no,
            encrypted=encrypt,
            province_status=str(receipt.get("status", ""))[:32],
        )
        batch_id = batch.id
    _accept_all(batch_id, actor)
    with db.transaction() as session:
        return service.batch_out(session, service.batch_row(session, batch_no))


def _accept_all(batch_id: int, actor: Actor, chunk: int = service.DEFAULT_CHUNK) -> None:
    """Move the batch's submitted cards to ``making`` (the province accepted them)."""
    while True:
        with db.transaction() as session:
            cards = repository.batch_cards(
                session, batch_id=batch_id, status=Status.submitted.value, limit=chunk
            )
            cards_service.transition_many(
                session, moves=[(c, None) for c in cards], action=Action.accept, actor=actor
            )
        if len(cards) < chunk:
            return


def fetch_result(*, batch_no: str, actor: Actor, encrypt: bool = False) -> FetchReport:
    """Ask the province about a sent batch; download and check its result when ready.

    Unit of work: its own transactions (one to read the batch, one to record the province's state or
    keep the checked result; the province is called between them); call it outside any transaction
    (a request's or command's unit of work must have ended, see ``issuance.api.batches``).
    """
    iam_service.authorize(actor, "issuance.batch")
    with db.transaction() as session:
        batch = service.batch_row(session, batch_no)
        if batch.status not in service.IMPORTABLE:
            raise BatchStateConflict(f"批次 {batch_no} 尚未报送省卡管")
    state = exchange_files.province_batch_state(batch_no=batch_no)
    if state.status == "failed":
        error = BatchStateConflict(
            f"省卡管处理批次 {batch_no} 失败：{state.detail or '未说明原因'}"
        )
        service.remember_error(batch_no, error)
        raise error
    if not state.ready:
        with db.transaction() as session:
            batch = service.batch_row(session, batch_no, lock=True)
            if batch.status == service.BatchStatus.sent and state.status == "processing":
                batch.status = service.BatchStatus.making.value
            out = service.batch_out(session, batch)
        return FetchReport(
            batch=out, ready=False, province_status=state.status, province_detail=state.detail
        )
    raw = service.batch_dir(batch_no) / (service.RESULT_NAME + ".download")
    exchange_files.download_batch_result(batch_no=batch_no, target=raw, encrypt=encrypt)
    target = service.batch_dir(batch_no) / service.RESULT_NAME
    try:
        out = _keep_result(batch_no, raw, target)
    except BaseException as exc:
        target.unlink(missing_ok=True)
        service.remember_error(batch_no, exc)
        raise
    finally:
        raw.unlink(missing_ok=True)
    return FetchReport(
        batch=out, ready=True, province_status=state.status, province_detail=state.detail
    )


def _keep_result(batch_no: str, raw: Path, target: Path) -> BatchOut:
    """Unwrap and check a downloaded result; the batch is then ready for its import."""
    with db.transaction() as session:
        plain = exchange_files.decrypt_card_result(session, source=raw, target=target)
        if plain != target:
            raw.replace(target)
        with exchange_files.open_card_result(session, path=target) as package:
            if package.batch_no != batch_no:
                raise exchange_files.PackageRejected(
                    f"结果文件属于批次 {package.batch_no[:32]}，不是 {batch_no}"
                )
        batch = service.batch_row(session, batch_no, lock=True)
        if batch.status in (service.BatchStatus.sent, service.BatchStatus.making):
            batch.status = service.BatchStatus.result_ready.value
        batch.error = None
        service.record(session, "issuance.batch.fetch", batch_no)
        return service.batch_out(session, batch)
