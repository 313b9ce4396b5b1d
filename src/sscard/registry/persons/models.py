"""Person tables: persons (personal fields encrypted) and their insurance enrolments.

A person's ID number, name, phone and address are stored only as field tokens (SM4-GCM
bound to table, column and row id) with HMAC-SM3 blind indexes for equality look-ups and
masked copies for lists; no plain ID number or phone is ever written to the database.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sscard.db import Base
from sscard.kit.access import PersonalData
from sscard.registry.units.models import Community, Employer

PERSON_TABLE = "registry_person"


class Person(Base, PersonalData):
    """A cardholder or insured person (持卡人/参保人)."""

    __tablename__ = PERSON_TABLE
    __audit_type__ = "person"
    __personal_fields__ = (
        "id_number_enc",
        "name_enc",
        "phone_enc",
        "address_enc",
        "birth_date",
        "gender",
        "ethnicity",
        "household_region_code",
        "residence_region_code",
        "employer_id",
        "community_code",
        "status",
        "death_date",
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    """City-level code of the managing region: the partitioning key."""
    document_type: Mapped[str] = mapped_column(String(2))
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_index: Mapped[bytes] = mapped_column(LargeBinary(16))
    id_number_masked: Mapped[str] = mapped_column(String(32))
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_index: Mapped[bytes] = mapped_column(LargeBinary(16))
    name_masked: Mapped[str] = mapped_column(String(64))
    gender: Mapped[str] = mapped_column(String(1))
    ethnicity: Mapped[str] = mapped_column(String(2))
    birth_date: Mapped[date] = mapped_column(Date)
    nationality: Mapped[str] = mapped_column(String(3), default="CHN")
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    phone_masked: Mapped[str] = mapped_column(String(16), default="")
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    household_region_code: Mapped[str] = mapped_column(String(6))
    residence_region_code: Mapped[str] = mapped_column(String(6))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("registry_employer.id"))
    community_code: Mapped[str | None] = mapped_column(ForeignKey("registry_community.code"))
    status: Mapped[str] = mapped_column(String(16), default="normal")
    """normal, deceased or moved_out (codes.PERSON_STATUS)."""
    death_date: Mapped[date | None] = mapped_column(Date)
    content_digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    """Keyed digest of every field: tells an import whether a row changed without decrypting."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Optimistic lock: a change based on an older version is refused."""

    employer: Mapped[Employer | None] = relationship(lazy="joined")
    community: Mapped[Community | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("id_number_index"),
        Index("ix_registry_person_name_birth", "name_index", "birth_date"),
        Index("ix_registry_person_phone_index", "phone_index"),
        Index("ix_registry_person_employer_id", "employer_id"),
        Index("ix_registry_person_community_code", "community_code"),
        Index("ix_registry_person_residence", "residence_region_code"),
        Index("ix_registry_person_region_status", "region_code", "status"),
    )

    def audit_subject(self) -> tuple[str, str]:
        return self.id, self.id_number_masked


class Enrolment(Base):
    """A person's enrolment in one insurance type (参保状态)."""

    __tablename__ = "registry_enrolment"

    person_id: Mapped[str] = mapped_column(
        ForeignKey("registry_person.id", ondelete="CASCADE"), primary_key=True
    )
    insurance_type: Mapped[str] = mapped_column(String(3), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    """enrolled, suspended or terminated (codes.INSURANCE_STATUS)."""
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime]
