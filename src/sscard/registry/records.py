"""A person's fields as plain, normalised values, and every rule they must satisfy (pure).

The same record and rules serve the counter form, the API and bulk imports, so a person
refused at one door is refused at every door with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sscard.errors import FieldProblem
from sscard.registry import codes, identifiers, names

MAX_ADDRESS = 200


@dataclass(frozen=True, slots=True)
class EnrolmentRecord:
    insurance_type: str
    status: str
    start_date: date
    end_date: date | None = None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """Every registry field of a person, normalised (upper-case X, half-width digits ...)."""

    id_number: str
    document_type: str
    name: str
    gender: str
    ethnicity: str
    birth_date: date
    nationality: str
    phone: str | None
    address: str | None
    household_region_code: str
    residence_region_code: str
    employer_id: int | None = None
    community_code: str | None = None
    enrolments: tuple[EnrolmentRecord, ...] = field(default_factory=tuple)

    def normalised(self) -> PersonRecord:
        """The same record with every value in its one canonical form."""
        return replace(
            self,
            id_number=identifiers.normalise_id_number(self.id_number),
            document_type=self.document_type.strip(),
            name=names.normalise_name(self.name),
            gender=self.gender.strip(),
            ethnicity=self.ethnicity.strip().zfill(2) if self.ethnicity.strip() else "",
            nationality=(self.nationality or "CHN").strip().upper(),
            phone=identifiers.normalise_mobile(self.phone) if self.phone else None,
            address=self.address.strip() if self.address and self.address.strip() else None,
            household_region_code=self.household_region_code.strip(),
            residence_region_code=self.residence_region_code.strip(),
            community_code=self.community_code.strip() if self.community_code else None,
        )

    def canonical(self) -> str:
        """One line holding every value, for the content digest that detects changes."""
        enrolments = ";".join(
            f"{e.insurance_type},{e.status},{e.start_date},{e.end_date or ''}"
            for e in sorted(self.enrolments, key=lambda e: e.insurance_type)
        )
        values = (
            self.id_number,
            self.document_type,
            self.name,
            self.gender,
            self.ethnicity,
            self.birth_date.isoformat(),
            self.nationality,
            self.phone or "",
            self.address or "",
            self.household_region_code,
            self.residence_region_code,
            str(self.employer_id or ""),
            self.community_code or "",
            enrolments,
        )
        return "\x1f".join(values)


def _enrolment_problems(enrolments: tuple[EnrolmentRecord, ...]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for n, e in enumerate(enrolments):
        where = f"enrolments.{n}"
        problems += codes.validate_code(
            codes.INSURANCE_TYPE, e.insurance_type, field=f"{where}.insurance_type"
        )
        problems += codes.validate_code(codes.INSURANCE_STATUS, e.status, field=f"{where}.status")
        if e.insurance_type in seen:
            problems.append(FieldProblem(f"{where}.insurance_type", "同一险种只能登记一次"))
        seen.add(e.insurance_type)
        if e.end_date is not None and e.end_date < e.start_date:
            problems.append(FieldProblem(f"{where}.end_date", "终止日期不能早于开始日期"))
    return problems


def problems(record: PersonRecord, *, today: date | None = None) -> list[FieldProblem]:
    """Every rule a person's fields break, each naming the field; empty when all hold."""
    today = today or date.today()
    found = identifiers.validate_document(
        record.document_type,
        record.id_number,
        birth_date=record.birth_date,
        gender=record.gender,
        today=today,
    )
    found += names.validate_name(record.name, document_type=record.document_type)
    found += codes.validate_code(codes.GENDER, record.gender, field="gender")
    found += codes.validate_code(codes.ETHNICITY, record.ethnicity, field="ethnicity")
    if record.birth_date > today:
        found.append(FieldProblem("birth_date", "出生日期不能晚于今天"))
    if len(record.nationality) != 3 or not record.nationality.isalpha():
        found.append(FieldProblem("nationality", "国籍应为 3 位字母代码，如 CHN"))
    if record.phone is not None:
        found += identifiers.validate_mobile(record.phone, field="phone")
    if record.address is not None and len(record.address) > MAX_ADDRESS:
        found.append(FieldProblem("address", f"地址不能超过 {MAX_ADDRESS} 个字"))
    found += identifiers.validate_region_code(
        record.household_region_code, field="household_region_code"
    )
    found += identifiers.validate_region_code(
        record.residence_region_code, field="residence_region_code"
    )
    found += _enrolment_problems(record.enrolments)
    return _unique(found)


def _unique(found: list[FieldProblem]) -> list[FieldProblem]:
    seen: set[tuple[str, str]] = set()
    result = []
    for problem in found:
        key = (problem.field, problem.reason)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


def managing_region(record: PersonRecord) -> str:
    """The city-level region that manages the person: where they live."""
    return record.residence_region_code[:4] + "00"
