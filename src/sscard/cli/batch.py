"""``sscard batch``: batch card making (批量制卡) with the province; ``sscard mapping``: the
entity mappings between systems and their unresolved codes; ``sscard issuance ranges``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.table import Table

from sscard import bootstrap
from sscard.cli.common import BEIJING, beijing, cli_actor, console, status_filter, unit_of_work
from sscard.crypto import pem
from sscard.crypto import service as crypto_service
from sscard.exchange.files import service as exchange_files
from sscard.exchange.mapping import service as exchange_mapping
from sscard.issuance.batches import export as batch_export
from sscard.issuance.batches import province as batch_province
from sscard.issuance.batches import result_import
from sscard.issuance.batches import schemas as batch_schemas
from sscard.issuance.batches import service as batch_service
from sscard.issuance.cards import number_service
from sscard.issuance.cards.schemas import RangeIn
from sscard.kit import context
from sscard.settings import get_settings

app = typer.Typer(
    help="Batch card making (批量制卡): export, send, fetch, import results, failures.",
    no_args_is_help=True,
)
failures_app = typer.Typer(
    help="Card-making failures (制卡失败): list, resolve, resubmit, reopen.", no_args_is_help=True
)
app.add_typer(failures_app, name="failures")
mapping_app = typer.Typer(
    help="Employer, community and card-type codes of other systems (seed 004), and the codes "
    "waiting for a clerk.",
    no_args_is_help=True,
)
issuance_app = typer.Typer(help="Card issuance settings: card number ranges.", no_args_is_help=True)
ranges_app = typer.Typer(help="Card number ranges (开户放号号段).", no_args_is_help=True)
issuance_app.add_typer(ranges_app, name="ranges")

BatchNo = Annotated[str, typer.Argument(help="Batch number, e.g. 3708002026112500001.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Chunk = Annotated[
    int, typer.Option(min=1, max=100_000, help="Rows per transaction (commit and resume point).")
]


@contextmanager
def _acting(purpose: str) -> Iterator[None]:
    """Act as the command's user for work that opens its own transactions."""
    bootstrap.wire()
    with context.acting(cli_actor(), purpose=purpose):
        yield


def _json(model: BaseModel | list[Any]) -> None:
    if isinstance(model, list):
        data: Any = [m.model_dump(mode="json") for m in model]
    else:
        data = model.model_dump(mode="json")
    typer.echo(json.dumps(data, ensure_ascii=False, indent=1))


def _batch_line(batch: batch_schemas.BatchOut) -> str:
    progress = "，".join(f"{k} {v}" for k, v in sorted(batch.progress.items()))
    return (
        f"批次 {batch.batch_no}：{batch.status_name}，{batch.card_count} 张"
        f"（{progress or '无卡片'}）；已制 {batch.made_count}，失败 {batch.failed_count}，"
        f"拒收行 {batch.rejected_count}"
    )


# ---- batch -----------------------------------------------------------------------------


@app.command("export")
def export(
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many cards.")] = None,
    chunk: Chunk = batch_service.DEFAULT_CHUNK,
    as_json: Json = False,
) -> None:
    """Export the applied batch-mode cards as a batch account-opening file (批量开户文件)."""
    with _acting("batch export"):
        report = batch_export.export_batch(actor=cli_actor(), limit=limit, chunk=chunk)
    if as_json:
        return _json(report)
    if report.resumed:
        console.print(f"继续完成了上次中断的导出：批次 {report.batch.batch_no}")
    console.print(_batch_line(report.batch))
    console.print(
        f"文件：{batch_service.batch_dir(report.batch.batch_no) / batch_service.PACKAGE_NAME}"
    )
    if report.held:
        console.print(f"暂缓报送 {report.held} 张（见 {batch_service.HELD_NAME}），例如：")
        for held in report.held_cards[:5]:
            console.print(f"  {held.card_number or '（未放号）'} {held.id_number}：{held.reason}")
    if report.unresolved_codes:
        console.print(f"新增待对照代码 {report.unresolved_codes} 个：sscard mapping unresolved")


@app.command("send")
def send(
    batch_no: BatchNo,
    encrypt: Annotated[bool, typer.Option(help="SM4-GCM wrap the file for transfer.")] = False,
) -> None:
    """Send an exported batch to the province card centre (SSCARD_PROVINCE_URL)."""
    with _acting("batch send"):
        batch = batch_province.send_batch(batch_no=batch_no, actor=cli_actor(), encrypt=encrypt)
    console.print(_batch_line(batch))


@app.command("fetch")
def fetch(
    batch_no: BatchNo,
    wait: Annotated[float, typer.Option(min=0, help="Poll for up to this many seconds.")] = 0,
    every: Annotated[float, typer.Option(min=0.1, help="Seconds between polls.")] = 2.0,
    encrypt: Annotated[bool, typer.Option(help="Ask for the file SM4-GCM wrapped.")] = False,
) -> None:
    """Ask the province about a batch; download and check its result file when ready."""
    deadline = time.monotonic() + wait
    with _acting("batch fetch"):
        while True:
            report = batch_province.fetch_result(
                batch_no=batch_no, actor=cli_actor(), encrypt=encrypt
            )
            if report.ready or time.monotonic() >= deadline:
                break
            time.sleep(every)
    if not report.ready:
        console.print(f"省卡管处理中（{report.province_status}）{report.province_detail}")
        raise typer.Exit(3)
    console.print(_batch_line(report.batch))
    console.print(f"结果文件已下载：sscard batch import-result --batch {batch_no}")


@app.command("import-result")
def import_result(
    file: Annotated[
        Path | None, typer.Argument(exists=True, dir_okay=False, help="Result file.")
    ] = None,
    batch: Annotated[
        str | None, typer.Option("--batch", help="Import the result fetched for this batch.")
    ] = None,
    chunk: Chunk = batch_service.DEFAULT_CHUNK,
    as_json: Json = False,
) -> None:
    """Apply a card-making result file (制卡结果文件); run it again to resume."""
    with _acting("batch import-result"):
        report = result_import.import_result(
            actor=cli_actor(), path=file, batch_no=batch, chunk=chunk
        )
    if as_json:
        return _json(report)
    if report.already_imported:
        console.print(f"该结果文件已导入过，未做任何修改。{_batch_line(report.batch)}")
        return
    if report.resumed_at:
        console.print(f"从第 {report.resumed_at + 1} 行继续导入")
    console.print(
        f"制卡成功 {report.made}，制卡失败 {report.failed}，拒收 {report.rejected}，"
        f"已登记过 {report.unchanged}"
    )
    for reject in report.rejects[:10]:
        console.print(f"  第 {reject.line} 行 {reject.card_number}：{reject.reason}")
    console.print(_batch_line(report.batch))


@app.command("list")
def list_batches(
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20, as_json: Json = False
) -> None:
    """The newest batches with their progress."""
    with unit_of_work() as session:
        found = batch_service.list_batches(session, limit=limit)
    if as_json:
        return _json(found)
    table = Table("批次号", "状态", "卡数", "已制成", "失败", "结果被拒", f"创建时间（{BEIJING}）")
    for b in found:
        counts = (b.card_count, b.made_count, b.failed_count, b.rejected_count)
        created = beijing(b.created_at, seconds=False)
        table.add_row(b.batch_no, b.status_name, *(str(n) for n in counts), created)
    console.print(table)


@app.command("show")
def show(batch_no: BatchNo, as_json: Json = False) -> None:
    """One batch: status, counts, cards per status, last error."""
    with unit_of_work() as session:
        found = batch_service.get_batch(session, batch_no=batch_no)
    if as_json:
        return _json(found)
    console.print(_batch_line(found))
    if found.error:
        console.print(f"上次中断原因：{found.error}")


@app.command("rejects")
def rejects(batch_no: BatchNo, as_json: Json = False) -> None:
    """The result rows of a batch that could not be applied."""
    with unit_of_work() as session:
        found = batch_service.rejects_of(session, batch_no=batch_no)
    if as_json:
        return _json(found)
    table = Table("line", "card", "ID number", "reason")
    for r in found:
        table.add_row(str(r.line), r.card_number, r.id_number, r.reason)
    console.print(table)


@app.command("keys")
def keys(
    directory: Annotated[Path, typer.Option("--dir", file_okay=False, help="Key exchange folder.")],
) -> None:
    """Write the city's signing public key as <region>.pem into DIR, and import the
    province's key from DIR/province.pem when it is there."""
    directory.mkdir(parents=True, exist_ok=True)
    region = get_settings().region_code
    with unit_of_work(purpose="batch keys") as session:
        (directory / f"{region}.pem").write_text(
            exchange_files.batch_sign_key_pem(session), encoding="ascii"
        )
        province = directory / "province.pem"
        if province.exists():
            crypto_service.import_public_key(
                session,
                name="province-exchange",
                public_key=pem.load_public_key(province.read_bytes()),
                description="省卡管批量文件签名公钥",
            )
    console.print(f"市卡管公钥已写入 {directory / f'{region}.pem'}")
    if (directory / "province.pem").exists():
        console.print("已导入省卡管公钥（province-exchange）")


@app.command("transfer-key")
def transfer_key(
    party: Annotated[str, typer.Argument(help="The partner, e.g. province.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            dir_okay=False,
            help="Key file to hand over; default <SSCARD_DATA_DIR>/<PARTY>-transfer.key.",
        ),
    ] = None,
) -> None:
    """Write the SM4 transfer key shared with PARTY (hand it over out of band)."""
    if out is None:
        if not party.replace("-", "").isalnum():
            console.print(f"[red]合作方名称只能由字母、数字和连字符组成：{party[:40]}[/red]")
            raise typer.Exit(2)
        out = get_settings().data_dir / f"{party}-transfer.key"
    with unit_of_work(purpose="batch transfer-key") as session:
        version = exchange_files.write_transfer_key(session, party=party, path=out)
    console.print(f"{party} 的传输密钥（版本 {version}）已写入 {out}，请离线交付并妥善保管")


# ---- failures --------------------------------------------------------------------------


@failures_app.command("list")
def failures_list(
    batch: Annotated[str | None, typer.Option("--batch", help="Of this batch.")] = None,
    employer_id: Annotated[int | None, typer.Option(help="Of this employer's staff.")] = None,
    status: Annotated[str, typer.Option(help="open, resubmitted, closed or all.")] = "open",
    as_json: Json = False,
) -> None:
    """Card-making failures (制卡失败), newest first."""
    with unit_of_work() as session:
        found = batch_service.list_failures(
            session,
            batch_no=batch,
            employer_id=employer_id,
            status=status_filter(status, ["open", "resubmitted", "closed"]),
        )
    if as_json:
        return _json(found)
    table = Table("id", "batch", "card", "holder", "stage", "reason", "status")
    for f in found:
        holder = f"{f.holder_name} {f.holder_id_number}"
        table.add_row(
            str(f.id),
            f.batch_no or "",
            f.card_number or "",
            holder,
            f.stage_name,
            f.reason,
            f.status,
        )
    console.print(table)


Note = Annotated[str, typer.Option("--note", help="What was done (kept with the failure).")]


@failures_app.command("resolve")
def failures_resolve(failure_id: int, note: Note) -> None:
    """Close a failure with a note, without making the card again."""
    with unit_of_work(purpose="failure resolve") as session:
        batch_service.resolve_failure(session, failure_id=failure_id, note=note, actor=cli_actor())
    console.print(f"制卡失败记录 {failure_id} 已处理")


@failures_app.command("reopen")
def failures_reopen(failure_id: int, note: Note) -> None:
    """Open a handled failure again, with the reason."""
    with unit_of_work(purpose="failure reopen") as session:
        batch_service.reopen_failure(session, failure_id=failure_id, note=note, actor=cli_actor())
    console.print(f"制卡失败记录 {failure_id} 已重新打开，待处理")


@failures_app.command("resubmit")
def failures_resubmit(failure_id: int, note: Note) -> None:
    """Send the card back for the next batch, with the same card number."""
    with unit_of_work(purpose="failure resubmit") as session:
        batch_service.resubmit_failure(session, failure_id=failure_id, note=note, actor=cli_actor())
    console.print(f"制卡失败记录 {failure_id} 已重新报送，卡片将随下一批次导出")


# ---- mapping ---------------------------------------------------------------------------

System = Annotated[str, typer.Option(help="External system, e.g. province.")]


@mapping_app.command("list")
def mapping_list(
    system: Annotated[str | None, typer.Option(help="External system.")] = None,
    kind: Annotated[str | None, typer.Option(help="employer, community or card_type.")] = None,
    code: Annotated[str | None, typer.Option(help="Our code or theirs.")] = None,
    as_json: Json = False,
) -> None:
    """Entity mappings (ours -> theirs)."""
    with unit_of_work() as session:
        found = exchange_mapping.list_entity_mappings(session, system=system, kind=kind, code=code)
    if as_json:
        return _json(found)
    table = Table("system", "kind", "our code", "their code", "their name", "source")
    for m in found:
        table.add_row(m.system, m.kind_name, m.code, m.external_code, m.external_name, m.source)
    console.print(table)


@mapping_app.command("set")
def mapping_set(
    system: str,
    kind: str,
    code: str,
    external_code: str,
    name: Annotated[str, typer.Option(help="Their name for it.")] = "",
) -> None:
    """Map our CODE (credit code, community code, card type) to the system's EXTERNAL_CODE."""
    data = exchange_mapping.EntityMappingIn.model_validate(
        {
            "system": system,
            "kind": kind,
            "code": code,
            "external_code": external_code,
            "external_name": name,
        }
    )
    with unit_of_work(purpose="mapping set") as session:
        exchange_mapping.set_entity_mapping(session, data=data, actor=cli_actor())
    console.print(f"{system} {kind}: {code} -> {external_code}")


@mapping_app.command("delete")
def mapping_delete(system: str, kind: str, code: str) -> None:
    """Remove one mapping."""
    with unit_of_work(purpose="mapping delete") as session:
        exchange_mapping.delete_entity_mapping(session, system=system, kind=kind, code=code)
    console.print(f"已删除 {system} {kind} {code} 的对照")


@mapping_app.command("import")
def mapping_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file.")],
) -> None:
    """Set mappings from CSV (system, kind, code, external_code[, external_name]): all or none."""
    with unit_of_work(purpose="mapping import") as session:
        report = exchange_mapping.import_entity_mappings(
            session, data=file.read_bytes(), actor=cli_actor(), source=f"file:{file.name}"
        )
    console.print(
        f"{report.rows} 行：新增 {report.created}，修改 {report.updated}，未变 {report.unchanged}"
    )


@mapping_app.command("unresolved")
def mapping_unresolved(
    system: Annotated[str | None, typer.Option(help="External system.")] = None,
    kind: Annotated[str | None, typer.Option(help="employer, community or card_type.")] = None,
    status: Annotated[str, typer.Option(help="open, resolved, ignored or all.")] = "open",
    as_json: Json = False,
) -> None:
    """Codes met in imports and exports without a counterpart, most often met first."""
    with unit_of_work() as session:
        found = exchange_mapping.list_unresolved(
            session,
            system=system,
            kind=kind,
            status=status_filter(status, ["open", "resolved", "ignored"]),
        )
    if as_json:
        return _json(found)
    table = Table("id", "system", "kind", "dir", "code", "name", "suggestion", "seen", "source")
    for u in found:
        table.add_row(
            str(u.id),
            u.system,
            u.kind_name,
            u.direction,
            u.code,
            u.name,
            u.suggestion or "",
            str(u.occurrences),
            u.last_source,
        )
    console.print(table)


@mapping_app.command("resolve")
def mapping_resolve(
    unresolved_id: int,
    code: Annotated[str | None, typer.Option(help="The counterpart (default: suggestion).")] = None,
    note: Annotated[str, typer.Option(help="Why.")] = "",
    ignore: Annotated[bool, typer.Option(help="Close it without a mapping.")] = False,
) -> None:
    """Answer a queued code: the mapping is written (or the code ignored)."""
    data = exchange_mapping.ResolveIn(code=code, note=note, ignore=ignore)
    with unit_of_work(purpose="mapping resolve") as session:
        found = exchange_mapping.resolve_unresolved(
            session, unresolved_id=unresolved_id, data=data, actor=cli_actor()
        )
    console.print(f"待对照代码 {found.id} {found.status}：{found.code} -> {found.resolved_code}")


# ---- issuance ranges -------------------------------------------------------------------


@ranges_app.command("add")
def ranges_add(
    region_code: str,
    prefix: str,
    start: Annotated[int, typer.Argument(min=0)],
    end: Annotated[int, typer.Argument(min=0)],
) -> None:
    """Add a block of card numbers PREFIX+serial (START to END) for REGION_CODE."""
    data = RangeIn(region_code=region_code, prefix=prefix, start=start, end=end)
    with unit_of_work(purpose="ranges add") as session:
        block = number_service.add_range(session, data=data)
        out = number_service.range_out(block)
    console.print(
        f"号段 {out.id}：{out.region_code} {out.prefix} {start}-{end}，可用 {out.remaining}"
    )


@ranges_app.command("list")
def ranges_list(
    region_code: Annotated[str | None, typer.Option(help="Of this region.")] = None,
    as_json: Json = False,
) -> None:
    """Card number ranges and what remains of each."""
    with unit_of_work() as session:
        found = number_service.list_ranges(session, region_code=region_code)
    if as_json:
        return _json(found)
    table = Table("id", "region", "prefix", "next", "last", "remaining", "status")
    for r in found:
        table.add_row(
            str(r.id),
            r.region_code,
            r.prefix,
            str(r.next_value),
            str(r.last_value),
            str(r.remaining),
            r.status,
        )
    console.print(table)
