"""Person routes: register, search, read (masked unless revealed), change, record a death."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status

from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.params import IdFilter, Page, PageSize
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.registry.persons import service
from sscard.registry.persons.schemas import (
    DeathIn,
    PersonCreate,
    PersonOut,
    PersonPage,
    PersonUpdate,
    RevealIn,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/persons", tags=["persons"])

Read = Annotated[Actor, Depends(require("registry.read"))]
Write = Annotated[Actor, Depends(require("registry.write"))]


@router.post("", response_model=PersonOut, status_code=status.HTTP_201_CREATED)
def create_person(data: PersonCreate, actor: Write, session: DbSession) -> PersonOut:
    """Register a person; the answer is masked."""
    return service.person_out(session, service.create_person(session, data=data, actor=actor))


@router.get("", response_model=PersonPage)
def search_persons(
    actor: Read,
    session: DbSession,
    name: Annotated[str | None, Query(max_length=64, description="Exact name")] = None,
    birth_date: date | None = None,
    employer_id: IdFilter = None,
    community_code: Annotated[str | None, Query(max_length=12)] = None,
    phone: Annotated[str | None, Query(max_length=20)] = None,
    person_status: Annotated[
        Literal["normal", "deceased", "moved_out", "all"], Query(alias="status")
    ] = "all",
    page: Page = 1,
    page_size: PageSize = 20,
) -> PersonPage:
    """Search by exact name (and birth date), employer, community or phone; masked."""
    return service.search_persons(
        session,
        actor=actor,
        name=name,
        birth_date=birth_date,
        employer_id=employer_id,
        community_code=community_code,
        phone=phone,
        status=None if person_status == "all" else person_status,
        page=page,
        page_size=page_size,
    )


@router.get("/{id_number}", response_model=PersonOut)
def get_person(id_number: str, actor: Read, session: DbSession) -> PersonOut:
    """One person by ID number; masked."""
    return service.person_out(
        session, service.get_person(session, id_number=id_number, actor=actor)
    )


@router.patch("/{id_number}", response_model=PersonOut)
def update_person(
    id_number: str, data: PersonUpdate, actor: Write, session: DbSession
) -> PersonOut:
    """Change a person's fields (send the ``version`` you read to avoid lost updates)."""
    person = service.update_person(session, id_number=id_number, data=data, actor=actor)
    return service.person_out(session, person)


@router.post("/{id_number}/reveal", response_model=PersonOut)
def reveal_person(
    id_number: str,
    data: RevealIn,
    actor: Annotated[Actor, Depends(require("registry.unmask"))],
    session: DbSession,
) -> PersonOut:
    """Full details for a stated purpose; audited with the purpose."""
    return service.reveal_person(session, id_number=id_number, purpose=data.purpose, actor=actor)


@router.post("/{id_number}/death", response_model=PersonOut)
def mark_deceased(id_number: str, data: DeathIn, actor: Write, session: DbSession) -> PersonOut:
    """Record a person's death."""
    person = service.mark_deceased(
        session, id_number=id_number, death_date=data.death_date, source=data.source, actor=actor
    )
    return service.person_out(session, person)
