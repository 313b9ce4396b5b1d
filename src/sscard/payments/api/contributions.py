"""Contribution routes (人社缴费) for operators: the region's contributions and their report
to the social insurance system. Residents pay theirs on the wallet's page."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.params import Page, PageSize
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.payments.contributions import service
from sscard.payments.contributions.schemas import ContributionOptions, ContributionOut

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/contributions", tags=["payments"])
Read = Annotated[Actor, Depends(require("payments.contributions.read"))]
Status = Literal["all", "unpaid", "paid", "reported", "refused"]


@router.get("", response_model=list[ContributionOut])
def list_contributions(
    actor: Read,
    session: DbSession,
    status: Annotated[Status, Query()] = "all",
    page: Page = 1,
    page_size: PageSize = 20,
) -> list[ContributionOut]:
    """Contributions of the operator's region, newest first."""
    wanted = None if status == "all" else status
    return service.list_in_region(
        session, actor=actor, status=wanted, page=page, page_size=page_size
    )


@router.get("/options", response_model=ContributionOptions)
def contribution_options(actor: Read) -> ContributionOptions:
    """The open years and the grades (fen) the city offers."""
    return service.options()
