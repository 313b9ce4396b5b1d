"""Family service routes: a guardian binds members and shows their codes; a member consents
or refuses; a clerk records an elder's consent at a counter."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from sscard.ecard import credentials
from sscard.ecard.api.deps import NO_STORE, Business, Manager, Resident
from sscard.ecard.codes.schemas import CodeOut
from sscard.ecard.family import service as family
from sscard.ecard.family.schemas import (
    FamilyBindIn,
    FamilyLookupIn,
    FamilyMemberOut,
    FamilyRequestOut,
)
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import Id
from sscard.httpkit.units import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/ecard", tags=["e-card online"])

# ---- family service ------------------------------------------------------------------


@router.get("/me/family", response_model=list[FamilyMemberOut])
def my_family(resident: Resident, session: DbSession) -> list[FamilyMemberOut]:
    """The family members I hold (pending and active), masked."""
    return [
        family.member_out(session, b)
        for b in family.members(session, guardian_person_id=resident.person_id)
    ]


@router.post("/me/family", response_model=FamilyMemberOut, status_code=status.HTTP_201_CREATED)
def bind_member(data: FamilyBindIn, resident: Resident, session: DbSession) -> FamilyMemberOut:
    """Bind a minor (active at once) or an elder (pending until the elder consents)."""
    return family.member_out(session, family.bind(session, guardian=resident, data=data))


@router.post("/me/family/{binding_id}/codes", response_model=CodeOut)
def member_code(
    binding_id: Id, resident: Resident, session: DbSession, business: Business = 1
) -> CodeOut:
    """A family member's dynamic code shown by me (proxy; never for payment)."""
    return family.issue_proxy_code(
        session, guardian=resident, binding_id=binding_id, business=business
    )


@router.get("/me/family/{binding_id}/codes/current.svg", response_class=Response)
def member_code_svg(
    binding_id: Id, resident: Resident, session: DbSession, business: Business = 1
) -> Response:
    """The same as an SVG image (segno)."""
    code = family.issue_proxy_code(
        session, guardian=resident, binding_id=binding_id, business=business
    )
    headers = {**NO_STORE, "X-Code-Expires": code.expires_at.isoformat()}
    return Response(credentials.qr_svg(code.code), media_type="image/svg+xml", headers=headers)


@router.delete("/me/family/{binding_id}", status_code=status.HTTP_204_NO_CONTENT)
def unbind_member(binding_id: Id, resident: Resident, session: DbSession) -> Response:
    """End a binding: my proxy copies of the member's e-card are revoked at once."""
    family.unbind(session, guardian_person_id=resident.person_id, binding_id=binding_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/family-requests", response_model=list[FamilyRequestOut])
def family_requests(resident: Resident, session: DbSession) -> list[FamilyRequestOut]:
    """Who holds or asks to hold my e-card (the elder's side)."""
    return [
        family.request_out(session, b)
        for b in family.requests_for(session, member_person_id=resident.person_id)
    ]


@router.post("/me/family-requests/{binding_id}/consent", response_model=FamilyRequestOut)
def consent_request(binding_id: Id, resident: Resident, session: DbSession) -> FamilyRequestOut:
    """I agree that the guardian holds my e-card."""
    binding = family.consent(session, member_person_id=resident.person_id, binding_id=binding_id)
    return family.request_out(session, binding)


@router.post("/me/family-requests/{binding_id}/refuse", response_model=FamilyRequestOut)
def refuse_request(binding_id: Id, resident: Resident, session: DbSession) -> FamilyRequestOut:
    """I refuse (pending) or withdraw (active): the guardian's proxy copies are revoked."""
    binding = family.refuse(session, member_person_id=resident.person_id, binding_id=binding_id)
    return family.request_out(session, binding)


@router.post("/family-bindings/search", response_model=list[FamilyRequestOut])
def search_bindings(
    data: FamilyLookupIn, actor: Manager, session: DbSession
) -> list[FamilyRequestOut]:
    """A clerk finds a family member's bindings (ID number in the body, never in the URL)."""
    found = family.bindings_of_member(session, id_number=data.member_id_number, actor=actor)
    return [family.request_out(session, b) for b in found]


@router.post("/family-bindings/{binding_id}/counter-consent", response_model=FamilyRequestOut)
def counter_consent(binding_id: Id, actor: Manager, session: DbSession) -> FamilyRequestOut:
    """A clerk records the elder's consent given in person at the counter."""
    binding = family.counter_consent(session, binding_id=binding_id, actor=actor)
    return family.request_out(session, binding)
