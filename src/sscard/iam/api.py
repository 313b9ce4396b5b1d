"""IAM routes: login (OAuth2 password form), institutions, channels, operators, roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from sscard.httpkit.deps import CurrentActor, DbSession, bearer_token, require
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.iam import service
from sscard.iam.login import service as login_service
from sscard.iam.operators import service as operators_service
from sscard.iam.schemas import (
    ChannelCreate,
    ChannelOut,
    ChannelStatusChange,
    InstitutionCreate,
    InstitutionOut,
    MeOut,
    OperatorCreate,
    OperatorOut,
    OperatorUpdate,
    PasswordChange,
    PasswordReset,
    PermissionOut,
    RoleOut,
    TokenOut,
)
from sscard.kit.context import Actor

router = APIRouter(route_class=UnitOfWorkRoute)
auth = APIRouter(route_class=UnitOfWorkRoute, prefix="/auth", tags=["auth"])

IamRead = Annotated[Actor, Depends(require("iam.read"))]
IamManage = Annotated[Actor, Depends(require("iam.manage"))]


@auth.post("/token", response_model=TokenOut, summary="Log in: OAuth2 password form")
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: DbSession
) -> TokenOut:
    client_ip = request.client.host if request.client else None
    operator = login_service.authenticate(
        session, username=form.username, password=form.password, client_ip=client_ip
    )
    raw, token = login_service.issue_token(
        session, operator=operator, kind="api", client_ip=client_ip
    )
    expires_in = int((token.expires_at - token.created_at).total_seconds())
    return TokenOut(access_token=raw, expires_at=token.expires_at, expires_in=expires_in)


@auth.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke this token")
def logout(request: Request, _actor: CurrentActor, session: DbSession) -> Response:
    raw = bearer_token(request)
    if raw:
        login_service.revoke_token(session, raw=raw)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth.get("/me", response_model=MeOut, summary="Who am I")
def me(actor: CurrentActor, session: DbSession) -> MeOut:
    operator = operators_service.get_operator(session, username=actor.id)
    return MeOut(
        username=operator.username,
        name=operator.name,
        institution_code=actor.institution_code,
        institution_name=operator.institution.name,
        region_code=actor.region_code,
        roles=sorted(actor.roles),
        permissions=sorted(actor.permissions),
    )


@auth.post("/password", status_code=status.HTTP_204_NO_CONTENT, summary="Change my password")
def change_my_password(data: PasswordChange, actor: CurrentActor, session: DbSession) -> Response:
    operators_service.change_password(
        session,
        username=actor.id,
        old_password=data.old_password.get_secret_value(),
        new_password=data.new_password.get_secret_value(),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


institutions = APIRouter(route_class=UnitOfWorkRoute, prefix="/institutions", tags=["institutions"])


@institutions.get("", response_model=list[InstitutionOut])
def list_institutions(actor: IamRead, session: DbSession) -> list[InstitutionOut]:
    return [service.institution_out(i) for i in service.list_institutions(session, actor=actor)]


@institutions.post("", response_model=InstitutionOut, status_code=status.HTTP_201_CREATED)
def create_institution(
    data: InstitutionCreate, _actor: IamManage, session: DbSession
) -> InstitutionOut:
    return service.institution_out(service.create_institution(session, data=data))


@institutions.get("/{code}", response_model=InstitutionOut)
def get_institution(code: str, _actor: IamRead, session: DbSession) -> InstitutionOut:
    return service.institution_out(service.get_institution(session, code=code))


channels = APIRouter(route_class=UnitOfWorkRoute, prefix="/channels", tags=["channels"])


@channels.get("", response_model=list[ChannelOut])
def list_channels(_actor: IamRead, session: DbSession) -> list[ChannelOut]:
    return [service.channel_out(c) for c in service.list_channels(session)]


@channels.post("", response_model=ChannelOut, status_code=status.HTTP_201_CREATED)
def create_channel(data: ChannelCreate, _actor: IamManage, session: DbSession) -> ChannelOut:
    return service.channel_out(service.create_channel(session, data=data))


@channels.patch("/{code}", response_model=ChannelOut)
def change_channel_status(
    code: str, data: ChannelStatusChange, _actor: IamManage, session: DbSession
) -> ChannelOut:
    return service.channel_out(service.set_channel_status(session, code=code, status=data.status))


operators = APIRouter(route_class=UnitOfWorkRoute, prefix="/operators", tags=["operators"])


@operators.get("", response_model=list[OperatorOut])
def list_operators(
    _actor: IamRead, session: DbSession, institution: str | None = None
) -> list[OperatorOut]:
    found = operators_service.list_operators(session, institution_code=institution)
    return [operators_service.operator_out(session, o) for o in found]


@operators.post("", response_model=OperatorOut, status_code=status.HTTP_201_CREATED)
def create_operator(data: OperatorCreate, _actor: IamManage, session: DbSession) -> OperatorOut:
    return operators_service.operator_out(
        session, operators_service.create_operator(session, data=data)
    )


@operators.get("/{username}", response_model=OperatorOut)
def get_operator(username: str, _actor: IamRead, session: DbSession) -> OperatorOut:
    return operators_service.operator_out(
        session, operators_service.get_operator(session, username=username)
    )


@operators.patch("/{username}", response_model=OperatorOut)
def update_operator(
    username: str, data: OperatorUpdate, _actor: IamManage, session: DbSession
) -> OperatorOut:
    operator = operators_service.update_operator(session, username=username, data=data)
    return operators_service.operator_out(session, operator)


@operators.post("/{username}/password", status_code=status.HTTP_204_NO_CONTENT)
def reset_password(
    username: str, data: PasswordReset, _actor: IamManage, session: DbSession
) -> Response:
    operators_service.set_password(
        session, username=username, password=data.password.get_secret_value()
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


roles = APIRouter(route_class=UnitOfWorkRoute, tags=["roles"])


@roles.get("/roles", response_model=list[RoleOut])
def list_roles(_actor: IamRead, session: DbSession) -> list[RoleOut]:
    return service.list_roles(session)


@roles.get("/permissions", response_model=list[PermissionOut])
def list_permissions(_actor: IamRead, session: DbSession) -> list[PermissionOut]:
    return [
        PermissionOut(code=p.code, description=p.description)
        for p in service.list_permissions(session)
    ]


@roles.put("/roles/{role}/permissions/{permission}", status_code=status.HTTP_204_NO_CONTENT)
def grant(role: str, permission: str, _actor: IamManage, session: DbSession) -> Response:
    service.grant_permission(session, role=role, permission=permission, grant=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@roles.delete("/roles/{role}/permissions/{permission}", status_code=status.HTTP_204_NO_CONTENT)
def revoke(role: str, permission: str, _actor: IamManage, session: DbSession) -> Response:
    service.grant_permission(session, role=role, permission=permission, grant=False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


for sub in (auth, institutions, channels, operators, roles):
    router.include_router(sub)
