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
            "yes" if key.demo else "",
            key.description,
        )
    console.print(table)
    console.print(f"{len(keys)} keys")


@app.command("generate")
def generate(
    name: KeyName,
    kind: Annotated[KeyKind, typer.Option(help="What the key is for.")],
    description: Annotated[str, typer.Option(help="What the key is used for.")] = "",
    demo: Annotated[bool, typer.Option(help="Mark as demo (refused in production).")] = False,
) -> None:
    """Create a new key with an active version 1."""
    if kind == KeyKind.sm2_partner_public:
        raise WrongKeyKind("a partner's public key is imported: sscard keys import-public")
    with unit_of_work(purpose="keys generate") as session:
        key = crypto_service.create_key(
            session, name=name, kind=kind, description=description, demo=demo
        )
    console.print(f"created key {key.name} ({key.kind}) version {key.active_version}")


@app.command("rotate")
def rotate(name: KeyName) -> None:
    """Make a new active version; the old one is retired (still verifies and decrypts)."""
    with unit_of_work(purpose="keys rotate") as session:
        version = crypto_service.rotate_key(session, name=name)
    console.print(f"key {name} now at version {version.version}")
    console.print(
        "data keys: run `sscard keys reencrypt --all` once workers have picked up the rotation"
    )


@app.command("revoke")
def revoke(
    name: KeyName,
    version: Annotated[int, typer.Argument(min=1, help="The version to make unusable.")],
) -> None:
    """Revoke a retired version: nothing signed or encrypted with it is accepted any more."""
    with unit_of_work(purpose="keys revoke") as session:
        crypto_service.revoke_version(session, name=name, version=version)
    console.print(f"key {name} version {version} revoked")


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
        console.print(f"public key of {name} written to {out}")


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
    console.print(f"key {key.name} version {key.active_version}, fingerprint {public.fingerprint}")


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
    console.print(f"signed {input_file} with {result.key} version {result.version} -> {out}")


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
        raise InvalidCryptoInput("give exactly one of --key and --public-key")
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
        valid, who = result.valid, f"{key} version {result.version}"
    if not valid:
        err_console.print(
            f"signature invalid: {signature} is not a signature of {input_file} by "
            f"{key or public_key} with user id {uid}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    console.print(f"signature valid ({who})", highlight=False)


@app.command("reencrypt")
def reencrypt(
    tables: Annotated[list[str] | None, typer.Argument(help="Registered tables.")] = None,
    all_tables: Annotated[bool, typer.Option("--all", help="Every registered table.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Rows a chunk.")] = 500,
) -> None:
    """Re-encrypt fields under the active data-key version (resumes an interrupted run)."""
    bootstrap.wire()
    if not all_tables and not tables:
        raise InvalidCryptoInput("name the tables to re-encrypt, or give --all")
    names = [t.name for t in fields.registered_tables()] if all_tables else list(tables or [])
    if not names:
        console.print("no table with encrypted columns is registered")
    with context.acting(cli_actor(), purpose="keys reencrypt"):
        for name in names:
            report = _reencrypt_one(name, batch_size)
            index = report.index_key_version
            console.print(
                f"{name}: {report.rows_scanned} rows scanned, {report.rows_updated} re-encrypted"
                f" (data key v{report.data_key_version}"
                f"{'' if index is None else f', index key v{index}'}"
                f"{', resumed' if report.resumed else ''})"
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
        f"master key written to {path} (origin {master.origin}, check value "
        f"{master.check_value}); keep a copy offline: without it no key can be unwrapped"
    )
    if settings.master_key is not None:
        err_console.print("note: SSCARD_MASTER_KEY is set and takes precedence over the file")
