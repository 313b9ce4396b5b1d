"""Employer and community routes (lists limited to the operator's region)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.params import Id, Page, PageSize
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.registry.persons import service as persons_service
from sscard.registry.persons.schemas import PersonPage
from sscard.registry.units import service
from sscard.registry.units.schemas import (
    CommunityCreate,
    CommunityOut,
    EmployerCreate,
    EmployerOut,
    EmployerUpdate,
)

Read = Annotated[Actor, Depends(require("registry.read"))]
Write = Annotated[Actor, Depends(require("registry.write"))]


employers = APIRouter(route_class=UnitOfWorkRoute, prefix="/employers", tags=["employers"])


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
def get_employer(employer_id: Id, _actor: Read, session: DbSession) -> EmployerOut:
    return service.employer_out(session, service.get_employer(session, employer_id=employer_id))


@employers.patch("/{employer_id}", response_model=EmployerOut)
def update_employer(
    employer_id: Id, data: EmployerUpdate, _actor: Write, session: DbSession
) -> EmployerOut:
    employer = service.update_employer(session, employer_id=employer_id, data=data)
    return service.employer_out(session, employer)


@employers.get("/{employer_id}/persons", response_model=PersonPage)
def employer_persons(
    employer_id: Id, actor: Read, session: DbSession, page: Page = 1, page_size: PageSize = 20
) -> PersonPage:
    service.get_employer(session, employer_id=employer_id)
    return persons_service.search_persons(
        session, actor=actor, employer_id=employer_id, page=page, page_size=page_size
    )


communities = APIRouter(route_class=UnitOfWorkRoute, prefix="/communities", tags=["communities"])


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
    return persons_service.search_persons(
        session, actor=actor, community_code=code, page=page, page_size=page_size
    )


router = APIRouter(route_class=UnitOfWorkRoute)
router.include_router(employers)
router.include_router(communities)
