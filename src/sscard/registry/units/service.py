"""Employer and community use cases: register, find, list, change; views with person counts.

Employers (单位) are known by their unified social credit code (GB 32100), communities
(社区/村) by a 12-digit code under a current street or township. Lists are limited to the
operator's region.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import service as iam_service
from sscard.kit.context import Actor
from sscard.registry import identifiers, regions
from sscard.registry.schemas import NamedCode, region_named
from sscard.registry.units import repository, sealing
from sscard.registry.units.errors import (
    CommunityExists,
    CommunityNotFound,
    EmployerExists,
    EmployerNotFound,
)
from sscard.registry.units.models import Community, Employer
from sscard.registry.units.schemas import (
    CommunityCreate,
    CommunityOut,
    EmployerCreate,
    EmployerOut,
    EmployerUpdate,
)
from sscard.settings import get_settings


def employer_out(session: Session, employer: Employer) -> EmployerOut:
    """The employer as an operator sees it: the contact person and phone masked."""
    return EmployerOut(
        id=employer.id,
        credit_code=employer.credit_code,
        name=employer.name,
        region=region_named(employer.region_code),
        address=employer.address,
        contact_name=employer.contact_name_masked,
        contact_phone=employer.contact_phone_masked,
        status=employer.status,
        persons=repository.count_persons(session, employer_id=employer.id),
    )


def create_employer(session: Session, *, data: EmployerCreate) -> Employer:
    """Register an employer (单位) by its unified social credit code."""
    credit_code = identifiers.normalise_credit_code(data.credit_code)
    found = identifiers.credit_code_problems(credit_code)
    found += identifiers.validate_region_code(data.region_code, field="region_code")
    if found:
        raise ValidationFailed(found)
    if repository.employer_by_credit_code(session, credit_code) is not None:
        raise EmployerExists(
            f"统一社会信用代码 {credit_code} 已登记",
            fields=[FieldProblem("credit_code", "已登记")],
        )
    now = utcnow()
    employer = Employer(
        credit_code=credit_code,
        name=data.name,
        region_code=data.region_code,
        address=data.address,
        status="active",
        created_at=now,
        updated_at=now,
    )
    repository.add_employer(session, employer)
    sealing.seal_contact(
        employer, name=data.contact_name, phone=data.contact_phone, session=session
    )
    session.flush()
    return employer


def get_employer(session: Session, *, employer_id: int) -> Employer:
    """The employer with this id, or EmployerNotFound."""
    employer = repository.employer(session, employer_id)
    if employer is None:
        raise EmployerNotFound(f"单位 {employer_id} 不存在")
    return employer


def get_employer_by_credit_code(session: Session, *, credit_code: str) -> Employer:
    """The employer with this credit code, or EmployerNotFound."""
    code = identifiers.normalise_credit_code(credit_code)
    employer = repository.employer_by_credit_code(session, code)
    if employer is None:
        raise EmployerNotFound(f"统一社会信用代码 {code} 未登记")
    return employer


def update_employer(session: Session, *, employer_id: int, data: EmployerUpdate) -> Employer:
    """Change an employer's name, region, address, contact or status."""
    employer = get_employer(session, employer_id=employer_id)
    changes = data.model_dump(exclude_unset=True)
    if "region_code" in changes:
        found = identifiers.validate_region_code(changes["region_code"], field="region_code")
        if found:
            raise ValidationFailed(found)
    sealing.seal_contact(
        employer,
        name=changes.pop("contact_name", None),
        phone=changes.pop("contact_phone", None),
        session=session,
    )
    for key, value in changes.items():
        setattr(employer, key, value)
    employer.updated_at = utcnow()
    return employer


def list_employers(
    session: Session, *, actor: Actor, name: str | None = None, page: int = 1, page_size: int = 20
) -> tuple[list[Employer], int]:
    """Employers in the actor's region, optionally by part of the name."""
    return repository.employers(
        session,
        name=name,
        region_prefix=iam_service.region_scope(actor),
        offset=(page - 1) * page_size,
        limit=page_size,
    )


def community_out(session: Session, community: Community) -> CommunityOut:
    return CommunityOut(
        code=community.code,
        township=region_named(community.township_code),
        name=community.name,
        region=region_named(community.region_code),
        persons=repository.count_persons(session, community_code=community.code),
    )


def create_community(session: Session, *, data: CommunityCreate) -> Community:
    """Register a community under a current street or township (9-digit code)."""
    township = data.code[:9]
    found = identifiers.validate_township_code(township, field="code")
    if found:
        raise ValidationFailed(found)
    if repository.community(session, data.code) is not None:
        raise CommunityExists(
            f"社区代码 {data.code} 已存在", fields=[FieldProblem("code", "已存在")]
        )
    community = Community(
        code=data.code,
        township_code=township,
        name=data.name,
        region_code=township[:6],
        created_at=utcnow(),
    )
    return repository.add_community(session, community)


def get_community(session: Session, *, code: str) -> Community:
    """The community with this code, or CommunityNotFound."""
    community = repository.community(session, code)
    if community is None:
        raise CommunityNotFound(f"社区 {code} 不存在")
    return community


def list_communities(
    session: Session,
    *,
    actor: Actor,
    township_code: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Community], int]:
    """Communities in the actor's region, optionally of one township."""
    return repository.communities(
        session,
        township_code=township_code,
        region_prefix=iam_service.region_scope(actor),
        offset=(page - 1) * page_size,
        limit=page_size,
    )


# ---- many at once (imports and other components) -------------------------------------


def employer_directory(session: Session) -> dict[str, int]:
    """Credit code -> id of every registered employer (for an import's workers)."""
    return repository.employer_directory(session)


def missing_references(
    session: Session, *, employer_ids: Sequence[int], community_codes: Sequence[str]
) -> tuple[set[int], set[str]]:
    """Which of these employer ids and community codes do not exist (for imports)."""
    known_employers = (
        repository.existing_employer_ids(session, list(employer_ids)) if employer_ids else set()
    )
    known_communities = (
        repository.existing_community_codes(session, list(community_codes))
        if community_codes
        else set()
    )
    return set(employer_ids) - known_employers, set(community_codes) - known_communities


def employer_names(session: Session, *, ids: Sequence[int]) -> dict[int, str]:
    """employer id -> name for the registered ones among ``ids`` (one query)."""
    return repository.employer_names(session, list(ids)) if ids else {}


def community_names(session: Session, *, codes: Sequence[str]) -> dict[str, str]:
    """community code -> name for the registered ones among ``codes`` (one query)."""
    return repository.community_names(session, list(codes)) if codes else {}


def employer_ids(session: Session, *, credit_codes: Sequence[str]) -> dict[str, int]:
    """credit code -> employer id for the registered ones among ``credit_codes``."""
    return repository.employer_ids_by_credit_code(session, list(credit_codes))


# ---- choices offered in forms --------------------------------------------------------


def local_counties() -> list[NamedCode]:
    """The counties of the platform's region (settings), for forms."""
    return [_as_named(c) for c in regions.counties_of(get_settings().region_code)]


def local_townships() -> list[tuple[NamedCode, list[NamedCode]]]:
    """Each county of the platform's region with its current streets and townships."""
    counties = regions.counties_of(get_settings().region_code)
    return [(_as_named(c), [_as_named(t) for t in regions.townships_of(c.code)]) for c in counties]


def _as_named(region: regions.Region) -> NamedCode:
    return NamedCode(code=region.code, name=region.name)
