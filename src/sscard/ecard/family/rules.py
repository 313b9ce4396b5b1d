"""The pure rules of the family service: who may be bound (by age), and what a guardian may
show a member's code for (everything but payment)."""

from __future__ import annotations

from datetime import date

from sscard.ecard.codes import qr

ADULT_AGE = 18
ELDER_AGE = 60
RELATIONS = {"minor": "未成年人", "elder": "老人"}
PROXY_BUSINESSES = frozenset({qr.Business.query, qr.Business.other, qr.Business.offsite_medical})
"""What a proxy code may be used for: everything but payment."""


def birth_date_from_id(id_number: str) -> date | None:
    """The birth date carried by an 18-character ID number (positions 7-14), or None."""
    number = id_number.strip()
    if len(number) != 18 or not number[6:14].isdigit():
        return None
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def age_on(born: date, today: date) -> int:
    """Whole years of age on ``today``."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def relation_for(age: int) -> str | None:
    """``minor`` under 18, ``elder`` from 60, None for the ages in between."""
    if age < ADULT_AGE:
        return "minor"
    return "elder" if age >= ELDER_AGE else None


def proxy_may(business: int) -> bool:
    """Whether a guardian may show a family member's code for this business type."""
    return business in {int(b) for b in PROXY_BUSINESSES}
