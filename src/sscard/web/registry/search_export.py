"""The person search's results as a file (导出 CSV / 导出 Excel): the same criteria and the
same region scope as the search page, masked as the page shows them, POSTed like the
searches by personal data so nothing personal enters a URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from sscard.errors import FieldProblem, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import row_id
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.registry.persons import service as persons_service
from sscard.registry.persons.schemas import PersonSummary
from sscard.registry.units import service as units_service
from sscard.web import export, pages
from sscard.web.export import Column
from sscard.web.registry.common import Reader, refusing
from sscard.web.registry.search import personal_criteria

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/registry", include_in_schema=False)


PERSON_COLUMNS: list[Column[PersonSummary]] = [
    Column("证件号码", lambda p: p.id_number),
    Column("姓名", lambda p: p.name),
    Column("性别", lambda p: p.gender.name or p.gender.code),
    Column("出生日期", lambda p: p.birth_date),
    Column("居住地", lambda p: p.residence_region.name or p.residence_region.code),
    Column("单位", lambda p: p.employer.name if p.employer else ""),
    Column("社区", lambda p: p.community.name if p.community else ""),
    Column("状态", lambda p: p.status.name or p.status.code),
]


def _criteria(session: Session, form: Mapping[str, str]) -> dict[str, Any]:
    mode = form.get("mode", "")
    if mode == "employer":
        if (wanted := row_id(form.get("employer_id", ""))) is not None:
            return {"employer_id": units_service.get_employer(session, employer_id=wanted).id}
        code = form.get("credit_code", "").strip()
        return {
            "employer_id": units_service.get_employer_by_credit_code(session, credit_code=code).id
        }
    if mode == "community":
        code = form.get("community_code", "").strip()
        return {"community_code": units_service.get_community(session, code=code).code}
    if mode in ("name", "phone"):
        typed = {k: form.get(k, "").strip() for k in ("name", "birth_date", "phone")}
        return personal_criteria(mode, typed)
    raise ValidationFailed(
        [FieldProblem("mode", "请先查询，再导出查询结果")], "请先查询，再导出查询结果"
    )


@router.post("/persons/export", response_class=Response)
def person_search_export(
    request: Request, actor: Reader, session: DbSession, form: pages.FormFields
) -> Response:
    """Every person the search finds (up to the export cap) as a CSV or XLSX file."""
    with refusing(request):
        pages.check_form_csrf(request, form.get("csrf_token"))
        fmt = export.check_format(form.get("format", ""))
        found = persons_service.search_persons(
            session, actor=actor, page=1, page_size=export.MAX_ROWS, **_criteria(session, form)
        )
        export.check_count(found.total)
        return export.export(
            found.items, PERSON_COLUMNS, fmt=fmt, name="persons", title="人员查询结果"
        )
