"""Code translation routes: code sets, external systems, mappings, translating, CSV files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile, status

from sscard.exchange.translation import service
from sscard.exchange.translation.rules import Direction
from sscard.exchange.translation.schemas import (
    CodeNamePut,
    CodeOut,
    CodeSetDetail,
    CodeSetOut,
    ImportReport,
    MappingOut,
    MappingPut,
    SystemOut,
    TitlePut,
    TranslationOut,
)
from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor

router = APIRouter(route_class=UnitOfWorkRoute, tags=["code translation"])

CodesRead = Annotated[Actor, Depends(require("codes.read"))]
CodesManage = Annotated[Actor, Depends(require("codes.manage"))]
CsvUpload = Annotated[UploadFile, File(description="CSV file, UTF-8 or GB18030")]
DryRun = Annotated[bool, Query(description="check the file only; change nothing")]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def _csv(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/code-sets", response_model=list[CodeSetOut], summary="List code sets")
def list_code_sets(_actor: CodesRead, session: DbSession) -> list[CodeSetOut]:
    return service.list_code_sets(session)


@router.get(
    "/code-sets/export.csv",
    response_class=Response,
    summary="Every code as CSV (code_set, code, name, code_set_name)",
    responses={200: {"content": {"text/csv": {}}}},
)
def export_code_sets(_actor: CodesRead, session: DbSession) -> Response:
    return _csv(service.export_code_sets(session), "code_sets.csv")


@router.post("/code-sets/import", response_model=ImportReport, summary="Import codes from CSV")
def import_code_sets(
    file: CsvUpload, _actor: CodesManage, session: DbSession, dry_run: DryRun = False
) -> ImportReport:
    return service.import_code_sets(session, data=file.file.read(), dry_run=dry_run)


@router.get("/code-sets/{key}", response_model=CodeSetDetail, summary="A code set and its codes")
def get_code_set(key: str, _actor: CodesRead, session: DbSession) -> CodeSetDetail:
    return service.get_code_set(session, key=key)


@router.put("/code-sets/{key}", response_model=CodeSetOut, summary="Create or rename a code set")
def put_code_set(key: str, data: TitlePut, _actor: CodesManage, session: DbSession) -> CodeSetOut:
    return service.upsert_code_set(session, key=key, name=data.name)


@router.put("/code-sets/{key}/codes/{code}", response_model=CodeOut, summary="Add or rename a code")
def put_code(
    key: str, code: str, data: CodeNamePut, _actor: CodesManage, session: DbSession
) -> CodeOut:
    return service.upsert_code(session, code_set=key, code=code, name=data.name)


@router.get("/systems", response_model=list[SystemOut], summary="External systems and tables")
def list_systems(_actor: CodesRead, session: DbSession) -> list[SystemOut]:
    return service.list_systems(session)


@router.put("/systems/{system}", response_model=SystemOut, summary="Register or rename a system")
def put_system(system: str, data: TitlePut, _actor: CodesManage, session: DbSession) -> SystemOut:
    return service.upsert_system(session, key=system, name=data.name)


@router.get(
    "/systems/{system}/mappings",
    response_model=list[MappingOut],
    summary="The system's codes for ours",
)
def list_mappings(
    system: str,
    _actor: CodesRead,
    session: DbSession,
    code_set: Annotated[str | None, Query(description="only this code set")] = None,
) -> list[MappingOut]:
    return service.mappings(session, system=system, code_set=code_set)


@router.put(
    "/systems/{system}/mappings/{code_set}/{code}",
    response_model=MappingOut,
    summary="Map one of our codes to the system's code",
)
def put_mapping(
    system: str,
    code_set: str,
    code: str,
    data: MappingPut,
    _actor: CodesManage,
    session: DbSession,
) -> MappingOut:
    return service.set_mapping(
        session,
        system=system,
        code_set=code_set,
        code=code,
        external_code=data.external_code,
        external_field=data.external_field,
    )


@router.delete(
    "/systems/{system}/mappings/{code_set}/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove the system's code for one of ours",
)
def delete_mapping(
    system: str, code_set: str, code: str, _actor: CodesManage, session: DbSession
) -> Response:
    service.delete_mapping(session, system=system, code_set=code_set, code=code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/translate", response_model=TranslationOut, summary="Translate one value")
def translate(
    system: str,
    code_set: str,
    value: str,
    _actor: CodesRead,
    session: DbSession,
    direction: Annotated[Direction, Query(description="out: ours -> theirs; in: back")] = "out",
) -> TranslationOut:
    return service.translation_of(
        session, system=system, code_set=code_set, value=value, direction=direction
    )


@router.post("/mappings/import", response_model=ImportReport, summary="Import mappings from CSV")
def import_mappings(
    file: CsvUpload, _actor: CodesManage, session: DbSession, dry_run: DryRun = False
) -> ImportReport:
    return service.import_mappings(session, data=file.file.read(), dry_run=dry_run)


@router.get(
    "/mappings/export.csv",
    response_class=Response,
    summary="Mappings as CSV (system, code_set, external_field, code, external_code, system_name)",
    responses={200: {"content": {"text/csv": {}}}},
)
def export_mappings(
    _actor: CodesRead,
    session: DbSession,
    system: Annotated[str | None, Query(description="only this system")] = None,
) -> Response:
    filename = f"mappings-{system}.csv" if system else "mappings.csv"
    return _csv(service.export_mappings(session, system=system), filename)
