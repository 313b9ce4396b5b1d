"""Registry routes: persons (masked unless revealed), photos, employers, communities."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    File,
    Form,
    Query,
    Response,
    UploadFile,
    status,
)
from fastapi.responses import StreamingResponse

from sscard.httpkit.deps import CurrentActor, DbSession, require
from sscard.kit.context import Actor
from sscard.registry import importing, service
from sscard.registry.schemas import (
    CommunityCreate,
    CommunityOut,
    DeathIn,
    EmployerCreate,
    EmployerOut,
    EmployerUpdate,
    ImportJobOut,
    PersonCreate,
    PersonOut,
    PersonPage,
    PersonUpdate,
    PhotoInfo,
    RevealIn,
)

router = APIRouter()
persons = APIRouter(prefix="/persons", tags=["persons"])

Read = Annotated[Actor, Depends(require("registry.read"))]
Write = Annotated[Actor, Depends(require("registry.write"))]
Page = Annotated[int, Query(ge=1, le=100000)]
PageSize = Annotated[int, Query(ge=1, le=200)]


@persons.post("", response_model=PersonOut, status_code=status.HTTP_201_CREATED)
def create_person(data: PersonCreate, actor: Write, session: DbSession) -> PersonOut:
    """Register a person; the answer is masked."""
    return service.person_out(session, service.create_person(session, data=data, actor=actor))


@persons.get("", response_model=PersonPage)
def search_persons(
    actor: Read,
    session: DbSession,
    name: Annotated[str | None, Query(max_length=64, description="Exact name")] = None,
    birth_date: date | None = None,
    employer_id: int | None = None,
    community_code: Annotated[str | None, Query(max_length=12)] = None,
    phone: Annotated[str | None, Query(max_length=20)] = None,
    person_status: Annotated[str | None, Query(alias="status", max_length=16)] = None,
    page: Page = 1,
    page_size: PageSize = 20,
) -> PersonPage:
    """Search by exact name (and birth date), employer, community or phone; masked."""
    return service.search_persons(
        session, actor=actor, name=name, birth_date=birth_date, employer_id=employer_id,
        community_code=community_code, phone=phone, status=person_status, page=page,
        page_size=page_size,
    )  # fmt: skip


@persons.get("/{id_number}", response_model=PersonOut)
def get_person(id_number: str, actor: Read, session: DbSession) -> PersonOut:
    """One person by ID number; masked."""
    return service.person_out(
        session, service.get_person(session, id_number=id_number, actor=actor)
    )


@persons.patch("/{id_number}", response_model=PersonOut)
def update_person(
    id_number: str, data: PersonUpdate, actor: Write, session: DbSession
) -> PersonOut:
    """Change a person's fields (send the ``version`` you read to avoid lost updates)."""
    person = service.update_person(session, id_number=id_number, data=data, actor=actor)
    return service.person_out(session, person)


@persons.post("/{id_number}/reveal", response_model=PersonOut)
def reveal_person(
    id_number: str,
    data: RevealIn,
    actor: Annotated[Actor, Depends(require("registry.unmask"))],
    session: DbSession,
) -> PersonOut:
    """Full details for a stated purpose; audited with the purpose."""
    return service.reveal_person(session, id_number=id_number, purpose=data.purpose, actor=actor)


@persons.post("/{id_number}/death", response_model=PersonOut)
def mark_deceased(id_number: str, data: DeathIn, actor: Write, session: DbSession) -> PersonOut:
    """Record a person's death."""
    person = service.mark_deceased(
        session, id_number=id_number, death_date=data.death_date, source=data.source, actor=actor
    )
    return service.person_out(session, person)


@persons.put("/{id_number}/photo", response_model=PhotoInfo)
def put_photo(
    id_number: str,
    photo: Annotated[UploadFile, File(description="JPEG, 358×441 px")],
    actor: Write,
    session: DbSession,
) -> PhotoInfo:
    """Upload or replace the card photo (checked, EXIF stripped, stored encrypted)."""
    data = photo.file.read()
    return service.put_photo(session, id_number=id_number, data=data, actor=actor)


@persons.get(
    "/{id_number}/photo",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def get_photo(id_number: str, actor: CurrentActor, session: DbSession) -> Response:
    """The card photo (permission registry.photo.read; audited)."""
    data = service.get_photo(session, id_number=id_number, actor=actor)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


employers = APIRouter(prefix="/employers", tags=["employers"])


@employers.post("", response_model=EmployerOut, status_code=status.HTTP_201_CREATED)
def create_employer(data: EmployerCreate, _actor: Write, session: DbSession) -> EmployerOut:
    return service.employer_out(session, service.create_employer(session, data=data))


@employers.get("", response_model=list[EmployerOut])
def list_employers(
    actor: Read,
    session: DbSession,
    response: Response,
    name: Annotated[str | None, Query(max_length=100)] = None,
    page: Page = 1,
    page_size: PageSize = 20,
) -> list[EmployerOut]:
    found, total = service.list_employers(
        session, actor=actor, name=name, page=page, page_size=page_size
    )
    response.headers["X-Total-Count"] = str(total)
    return [service.employer_out(session, e) for e in found]


@employers.get("/by-credit-code/{credit_code}", response_model=EmployerOut)
def get_employer_by_credit_code(credit_code: str, _actor: Read, session: DbSession) -> EmployerOut:
    employer = service.get_employer_by_credit_code(session, credit_code=credit_code)
    return service.employer_out(session, employer)


@employers.get("/{employer_id}", response_model=EmployerOut)
def get_employer(employer_id: int, _actor: Read, session: DbSession) -> EmployerOut:
    return service.employer_out(session, service.get_employer(session, employer_id=employer_id))


@employers.patch("/{employer_id}", response_model=EmployerOut)
def update_employer(
    employer_id: int, data: EmployerUpdate, _actor: Write, session: DbSession
) -> EmployerOut:
    employer = service.update_employer(session, employer_id=employer_id, data=data)
    return service.employer_out(session, employer)


@employers.get("/{employer_id}/persons", response_model=PersonPage)
def employer_persons(
    employer_id: int, actor: Read, session: DbSession, page: Page = 1, page_size: PageSize = 20
) -> PersonPage:
    service.get_employer(session, employer_id=employer_id)
    return service.search_persons(
        session, actor=actor, employer_id=employer_id, page=page, page_size=page_size
    )


communities = APIRouter(prefix="/communities", tags=["communities"])


@communities.post("", response_model=CommunityOut, status_code=status.HTTP_201_CREATED)
def create_community(data: CommunityCreate, _actor: Write, session: DbSession) -> CommunityOut:
    return service.community_out(session, service.create_community(session, data=data))


@communities.get("", response_model=list[CommunityOut])
def list_communities(
    actor: Read,
    session: DbSession,
    response: Response,
    township_code: Annotated[str | None, Query(pattern=r"^\d{9}$")] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> list[CommunityOut]:
    found, total = service.list_communities(
        session, actor=actor, township_code=township_code, page=page, page_size=page_size
    )
    response.headers["X-Total-Count"] = str(total)
    return [service.community_out(session, c) for c in found]


@communities.get("/{code}", response_model=CommunityOut)
def get_community(code: str, _actor: Read, session: DbSession) -> CommunityOut:
    return service.community_out(session, service.get_community(session, code=code))


@communities.get("/{code}/persons", response_model=PersonPage)
def community_persons(
    code: str, actor: Read, session: DbSession, page: Page = 1, page_size: PageSize = 20
) -> PersonPage:
    service.get_community(session, code=code)
    return service.search_persons(
        session, actor=actor, community_code=code, page=page, page_size=page_size
    )


for sub in (persons, employers, communities):
    router.include_router(sub)


imports = APIRouter(prefix="/imports", tags=["imports"])
Importer = Annotated[Actor, Depends(require("registry.import"))]


@imports.post(
    "",
    response_model=ImportJobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"description": "The file was imported completely before; nothing to do."}},
)
def start_import(
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX of persons")],
    actor: Importer,
    session: DbSession,
    background: BackgroundTasks,
    response: Response,
    employer_id: Annotated[int | None, Form()] = None,
    employer_credit_code: Annotated[str | None, Form(max_length=32)] = None,
) -> ImportJobOut:
    """Upload persons for import; the job runs in the background (poll it for counts)."""
    opened = importing.submit_upload(
        session, file.file, file_name=file.filename or "upload", actor=actor,
        employer_id=employer_id, employer_credit_code=employer_credit_code,
    )  # fmt: skip
    if opened.runnable:
        background.add_task(importing.run_in_background, opened.job.id, actor)
    else:
        response.status_code = status.HTTP_200_OK
    return opened.job


@imports.get("", response_model=list[ImportJobOut])
def list_imports(
    _actor: Importer,
    session: DbSession,
    employer_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ImportJobOut]:
    """Recent import jobs, newest first."""
    found = importing.list_jobs(session, employer_id=employer_id, limit=limit)
    return [importing.job_out(job) for job in found]


@imports.get("/{job_id}", response_model=ImportJobOut)
def get_import(job_id: int, _actor: Importer, session: DbSession) -> ImportJobOut:
    """An import job: status, counts and the next line to read."""
    return importing.job_out(importing.get_job(session, job_id=job_id))


@imports.get(
    "/{job_id}/rejects.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def get_import_rejects(job_id: int, _actor: Importer, session: DbSession) -> StreamingResponse:
    """The rejected rows: line, masked ID number, reasons (CSV, UTF-8 with BOM); only
    those committed when a job was broken off."""
    path, count = importing.committed_rejects(session, job_id=job_id)
    return StreamingResponse(
        importing.reject_lines(path, count),
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="import-{job_id}-rejects.csv"',
        },
    )


router.include_router(imports)
