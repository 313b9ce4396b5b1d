"""``sscard operators``: accounts for clerks, card managers, bank and vendor agents."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from sscard.cli.common import console, unit_of_work
from sscard.errors import SSCardError
from sscard.iam import service as iam_service
from sscard.iam.operators import service as operators_service
from sscard.iam.schemas import OperatorCreate, OperatorUpdate

app = typer.Typer(help="Operator accounts and roles.", no_args_is_help=True)


def _password(value: str | None) -> str:
    if value is not None:
        return value
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="Login name.")],
    password: Annotated[
        str | None, typer.Option(help="Password; prompted for when left out.")
    ] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "系统管理员",
) -> None:
    """Create an administrator at the platform's own institution."""
    secret = _password(password)
    with unit_of_work(purpose="create administrator") as session:
        operator = operators_service.create_admin(
            session, username=username.strip().lower(), password=secret, name=name
        )
        console.print(f"已创建管理员 '{operator.username}'")


@app.command("create")
def create(
    username: Annotated[str, typer.Option(help="Login name.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    institution: Annotated[str, typer.Option(help="Institution code.")],
    role: Annotated[list[str], typer.Option(help="Role code; repeat for several.")],
    password: Annotated[str | None, typer.Option(help="Password; prompted for if absent.")] = None,
) -> None:
    """Create an operator with roles at an institution."""
    data = _validated(
        OperatorCreate,
        {
            "username": username,
            "name": name,
            "institution_code": institution,
            "roles": role,
            "password": _password(password),
        },
    )
    with unit_of_work(purpose="create operator") as session:
        operator = operators_service.create_operator(session, data=data)
        console.print(f"已创建操作员 '{operator.username}'")


@app.command("list")
def list_operators(
    institution: Annotated[str | None, typer.Option(help="Only this institution.")] = None,
) -> None:
    """List operators with their roles and status."""
    with unit_of_work() as session:
        rows = [
            operators_service.operator_out(session, o)
            for o in operators_service.list_operators(session, institution_code=institution)
        ]
    table = Table("用户名", "姓名", "机构", "角色", "状态")
    for op in rows:
        status = "locked" if op.locked_until else op.status
        table.add_row(op.username, op.name, op.institution_code, ", ".join(op.roles), status)
    console.print(table)


@app.command("disable")
def disable(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Disable an account and end its sessions."""
    with unit_of_work(purpose="disable operator") as session:
        operators_service.update_operator(
            session, username=username, data=OperatorUpdate(status="disabled")
        )
    console.print(f"已停用操作员 '{username}'")


@app.command("enable")
def enable(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Re-enable a disabled account."""
    with unit_of_work(purpose="enable operator") as session:
        operators_service.update_operator(
            session, username=username, data=OperatorUpdate(status="active")
        )
    console.print(f"已启用操作员 '{username}'")


@app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password: Annotated[
        str | None, typer.Option(help="New password; prompted for if absent.")
    ] = None,
) -> None:
    """Set a new password; the operator's sessions end."""
    secret = _password(password)
    with unit_of_work(purpose="reset password") as session:
        operators_service.set_password(session, username=username, password=secret)
    console.print(f"已重置 '{username}' 的密码")


@app.command("roles")
def roles() -> None:
    """List roles and their permissions."""
    with unit_of_work() as session:
        found = iam_service.list_roles(session)
    table = Table("角色", "名称", "权限")
    for role in found:
        table.add_row(role.code, role.name, ", ".join(role.permissions))
    console.print(table)


@app.command("grant")
def grant(
    role: Annotated[str, typer.Argument(help="Role code.")],
    permission: Annotated[str, typer.Argument(help="Permission code.")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Take the permission away.")] = False,
) -> None:
    """Give a role a permission (or take it away with --revoke)."""
    with unit_of_work(purpose="change role") as session:
        iam_service.grant_permission(session, role=role, permission=permission, grant=not revoke)
    console.print(f"已{'收回' if revoke else '授予'}角色 {role} 的权限 {permission}")


def _validated(model: type[OperatorCreate], values: dict[str, object]) -> OperatorCreate:
    from pydantic import ValidationError

    try:
        return model.model_validate(values)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise SSCardError(reasons) from exc
