"""``sscard ecard-clients``: partners, channel apps and portals of online authorisation and
scan login (the same as ``/api/v1/ecard/oauth/clients``)."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from sscard.cli.common import console, unit_of_work
from sscard.ecard.oauth import service as oauth
from sscard.ecard.oauth.schemas import ClientIn
from sscard.errors import SSCardError

app = typer.Typer(help="Clients of e-card authorisation and scan login.", no_args_is_help=True)


@app.command("register")
def register(
    name: Annotated[str, typer.Option(help="Name residents see on the consent screen.")],
    institution: Annotated[str, typer.Option(help="Owner institution code.")],
    scope: Annotated[
        list[str], typer.Option(help="profile, identity, card or insurance; repeat for several.")
    ],
    redirect_uri: Annotated[
        list[str] | None, typer.Option(help="Exact redirect URI; repeat for several.")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="Owner channel code.")] = None,
    grant: Annotated[
        list[str] | None,
        typer.Option(help="authorization_code (default) and/or scan_login; repeat for several."),
    ] = None,
) -> None:
    """Register a client and print its id and secret (the secret is shown only now)."""
    try:
        data = ClientIn.model_validate(
            {
                "name": name,
                "institution_code": institution,
                "channel_code": channel,
                "redirect_uris": redirect_uri or [],
                "scopes": scope,
                "grant_types": grant or ["authorization_code"],
            }
        )
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise SSCardError(reasons) from exc
    with unit_of_work(purpose="register e-card client") as session:
        client, secret = oauth.register_client(session, data=data)
        client_id = client.client_id
    console.print(f"client_id     {client_id}")
    console.print(f"client_secret {secret}")
    console.print("请立即保存密钥：平台只保存它的摘要，之后无法再查看")


@app.command("list")
def list_clients() -> None:
    """Every client with its scopes, grants and status."""
    with unit_of_work() as session:
        rows = oauth.list_clients(session)
    table = Table("client_id", "名称", "机构", "授权范围", "授权方式", "状态")
    for c in rows:
        table.add_row(
            c.client_id,
            c.name,
            c.institution_code,
            " ".join(c.scopes),
            " ".join(c.grant_types),
            c.status,
        )
    console.print(table)


@app.command("disable")
def disable(client_id: Annotated[str, typer.Argument(help="Client id.")]) -> None:
    """Stop a client: its tokens and login tickets stop working at once."""
    with unit_of_work(purpose="disable e-card client") as session:
        oauth.set_client_status(session, client_id=client_id, status="disabled")
    console.print(f"已停用客户端 '{client_id}'")


@app.command("enable")
def enable(client_id: Annotated[str, typer.Argument(help="Client id.")]) -> None:
    """Re-enable a disabled client."""
    with unit_of_work(purpose="enable e-card client") as session:
        oauth.set_client_status(session, client_id=client_id, status="active")
    console.print(f"已启用客户端 '{client_id}'")


@app.command("rotate-secret")
def rotate_secret(client_id: Annotated[str, typer.Argument(help="Client id.")]) -> None:
    """Give a client a new secret (printed once); the old one stops working."""
    with unit_of_work(purpose="rotate e-card client secret") as session:
        _client, secret = oauth.rotate_secret(session, client_id=client_id)
    console.print(f"client_secret {secret}")
