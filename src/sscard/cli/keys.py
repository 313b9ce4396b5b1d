"""``sscard keys``: the key store, signatures on files, re-encryption, the master key file."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sscard import bootstrap, db
from sscard.cli.common import BEIJING, beijing, cli_actor, console, err_console, unit_of_work
from sscard.crypto import fields, pem
from sscard.crypto import reencrypt as crypto_reencrypt
from sscard.crypto import service as crypto_service
from sscard.crypto.errors import InvalidCryptoInput, WrongKeyKind
from sscard.crypto.primitives import DEFAULT_UID
from sscard.crypto.schemas import ReencryptReport
from sscard.crypto.service import KeyKind
from sscard.kit import context
from sscard.settings import get_settings

app = typer.Typer(
    help="Keys (密钥): list, generate, rotate, revoke, sign and verify files, re-encrypt.",
    no_args_is_help=True,
)

KeyName = Annotated[str, typer.Argument(help="Key name, e.g. ecard-sign.")]
Uid = Annotated[
    str, typer.Option("--uid", help="SM2 user id agreed with the partner (GM/T 0009 default).")
]
InFile = Annotated[
    Path, typer.Option("--in", exists=True, dir_okay=False, readable=True, help="The data file.")
]


def _uid(value: str) -> bytes:
    return value.encode("utf-8")


@contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Hide the trace GmSSL writes to file descriptor 2 when a signature does not verify."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@app.command("list")
def list_keys() -> None:
    """Show every key, its kind, versions and their status (never secret material)."""
    with unit_of_work() as session:
        keys = crypto_service.list_keys(session)
    table = Table("名称", "类型", "启用版本", "版本", f"创建时间（{BEIJING}）", "演示", "说明")
    for key in keys:
        versions = ", ".join(f"v{v.version} {v.status}" for v in key.versions)
        table.add_row(
            key.name,
            key.kind,
            f"v{key.active_version}" if key.active_version else "-",
            versions,
            beijing(key.created_at, seconds=False),
            "是" if key.demo else "",
            key.description,
        )
    console.print(table)
    console.print(f"共 {len(keys)} 个密钥")


@app.command("generate")
def generate(
    name: KeyName,
    kind: Annotated[KeyKind, typer.Option(help="What the key is for.")],
    description: Annotated[str, typer.Option(help="What the key is used for.")] = "",
    demo: Annotated[bool, typer.Option(help="Mark as demo (refused in production).")] = False,
) -> None:
    """Create a new key with an active version 1."""
    if kind == KeyKind.sm2_partner_public:
        raise WrongKeyKind("合作方的公钥请用 sscard keys import-public 导入")
    with unit_of_work(purpose="keys generate") as session:
        key = crypto_service.create_key(
            session, name=name, kind=kind, description=description, demo=demo
        )
    console.print(f"已创建密钥 {key.name}（{key.kind}），版本 {key.active_version}")


@app.command("rotate")
def rotate(name: KeyName) -> None:
    """Make a new active version; the old one is retired (still verifies and decrypts)."""
    with unit_of_work(purpose="keys rotate") as session:
        version = crypto_service.rotate_key(session, name=name)
    console.print(f"密钥 {name} 已轮换到版本 {version.version}")
    console.print("数据密钥：待各工作进程使用新版本后，运行 `sscard keys reencrypt --all`")


@app.command("revoke")
def revoke(
    name: KeyName,
    version: Annotated[int, typer.Argument(min=1, help="The version to make unusable.")],
) -> None:
    """Revoke a retired version: nothing signed or encrypted with it is accepted any more."""
    with unit_of_work(purpose="keys revoke") as session:
        crypto_service.revoke_version(session, name=name, version=version)
    console.print(f"密钥 {name} 版本 {version} 已吊销")


@app.command("export-public")
def export_public(
    name: KeyName,
    version: Annotated[int | None, typer.Option(min=1, help="Default: active version.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Write an SM2 public key as PEM (PUBLIC KEY) for partners and OpenSSL."""
    with unit_of_work() as session:
        text = crypto_service.export_public_pem(session, name=name, version=version)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="ascii")
        console.print(f"{name} 的公钥已写入 {out}")


@app.command("import-public")
def import_public(
    name: KeyName,
    input_file: Annotated[
        Path, typer.Option("--in", exists=True, dir_okay=False, help="PEM or DER public key.")
    ],
    description: Annotated[str, typer.Option(help="Whose key this is.")] = "",
) -> None:
    """Store a partner's SM2 public key (a new key for a known name becomes its next version)."""
    public = pem.load_public_key(input_file.read_bytes())
    with unit_of_work(purpose="keys import-public") as session:
        key = crypto_service.import_public_key(
            session, name=name, public_key=public, description=description
        )
    console.print(f"密钥 {key.name} 版本 {key.active_version}，指纹 {public.fingerprint}")


@app.command("sign")
def sign(
    key: Annotated[str, typer.Option("--key", help="An sm2_sign key.")],
    input_file: InFile,
    out: Annotated[Path, typer.Option("--out", help="Where to write the DER signature.")],
    uid: Uid = DEFAULT_UID.decode(),
) -> None:
    """Sign a file with SM2 (DER output; `openssl dgst -sm3 -verify` checks it)."""
    data = input_file.read_bytes()
    with unit_of_work(purpose="keys sign") as session:
        result = crypto_service.sign(session, name=key, message=data, uid=_uid(uid))
    out.write_bytes(result.signature)
    console.print(f"已用 {result.key} 版本 {result.version} 签名 {input_file} -> {out}")


@app.command("verify")
def verify(
    input_file: InFile,
    signature: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="The DER signature file.")
    ],
    key: Annotated[str | None, typer.Option("--key", help="A key in the store.")] = None,
    public_key: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="A PEM public key file.")
    ] = None,
    uid: Uid = DEFAULT_UID.decode(),
) -> None:
    """Check an SM2 signature of a file; exit 0 when valid, 1 when not."""
    if (key is None) == (public_key is None):
        raise InvalidCryptoInput("请在 --key 和 --public-key 中二选一")
    data, sig = input_file.read_bytes(), signature.read_bytes()
    if public_key is not None:
        public = pem.load_public_key(public_key.read_bytes())
        with _quiet_native_stderr():
            valid = public.verify(data, sig, _uid(uid))
        who = str(public_key)
    elif key is not None:
        with unit_of_work(purpose="keys verify") as session, _quiet_native_stderr():
            result = crypto_service.verify(
                session, name=key, message=data, signature=sig, uid=_uid(uid)
            )
        valid, who = result.valid, f"{key} 版本 {result.version}"
    if not valid:
        err_console.print(
            f"签名无效：{signature} 不是 {key or public_key}（用户标识 {uid}）"
            f"对 {input_file} 的签名",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    console.print(f"签名有效（{who}）", highlight=False)


@app.command("reencrypt")
def reencrypt(
    tables: Annotated[list[str] | None, typer.Argument(help="Registered tables.")] = None,
    all_tables: Annotated[bool, typer.Option("--all", help="Every registered table.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Rows a chunk.")] = 500,
) -> None:
    """Re-encrypt fields under the active data-key version (resumes an interrupted run)."""
    bootstrap.wire()
    if not all_tables and not tables:
        raise InvalidCryptoInput("请指定要重新加密的表，或使用 --all")
    names = [t.name for t in fields.registered_tables()] if all_tables else list(tables or [])
    if not names:
        console.print("没有登记含加密字段的表")
    with context.acting(cli_actor(), purpose="keys reencrypt"):
        for name in names:
            report = _reencrypt_one(name, batch_size)
            index = report.index_key_version
            console.print(
                f"{name}：扫描 {report.rows_scanned} 行，重新加密 {report.rows_updated} 行"
                f"（数据密钥 v{report.data_key_version}"
                f"{'' if index is None else f'，索引密钥 v{index}'}"
                f"{'，断点续做' if report.resumed else ''}）"
            )


def _reencrypt_one(table: str, batch_size: int) -> ReencryptReport:
    with db.transaction() as session:
        total = crypto_reencrypt.count_rows(session, table)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(table, total=total)

        def advance(report: ReencryptReport) -> None:
            progress.update(task, completed=report.rows_scanned)

        return crypto_reencrypt.reencrypt(table, batch_size=batch_size, progress=advance)


@app.command("init-master")
def init_master(
    production: Annotated[
        bool, typer.Option("--production", help="Mark the key file as made for production.")
    ] = False,
    file: Annotated[Path | None, typer.Option(help="Default: the configured key file.")] = None,
) -> None:
    """Write a new master key file (mode 0600) for a database that has no keys yet."""
    settings = get_settings()
    path = file or settings.resolved_master_key_file
    with unit_of_work(purpose="keys init-master") as session:
        master = crypto_service.init_master_key(session, path=path, production=production)
    console.print(
        f"主密钥已写入 {path}（来源 {master.origin}，校验值 {master.check_value}）；"
        "请离线保存一份：没有它任何密钥都无法解开"
    )
    if settings.master_key is not None:
        err_console.print("注意：已设置 SSCARD_MASTER_KEY，它优先于密钥文件")
