"""Identifiers a cardholder or employer presents, and their validation.

Citizen ID number (公民身份号码, GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit
sequence (odd for men, even for women) and a check character (ISO 7064 MOD 11-2: weights
7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 over the first 17 digits, the sum mod 11 indexes
``10X98765432``). The region is the one where the number was issued and may name a district
abolished since (numbers are not reissued when districts merge, so ``370802``, the old
济宁市市中区, is still a valid prefix); only the province part is checked.

Residence permits for Hong Kong, Macau (港澳居民居住证, ``810000``/``820000``) and Taiwan
residents (台湾居民居住证, ``830000``) follow the same layout and rules.

Foreigner's permanent residence ID (外国人永久居留身份证), see :func:`foreigner_id_problems`.

Unified social credit code (统一社会信用代码, GB 32100-2015), see
:func:`credit_code_problems`.

Every validator returns a list of :class:`~sscard.errors.FieldProblem`, empty when the value
is good, with reasons a counter clerk understands.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from operator import mul

from sscard.errors import FieldProblem, ValidationFailed
from sscard.registry import codes, regions

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARACTERS = "10X98765432"

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100 (no I, O, Z, S, V), valued 0-30 in this order."""
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11714-1997 weights over the 8-character body of an organisation code."""

MAINLAND_PROVINCES = frozenset(c for c in regions.PROVINCE_CODES if c < "70")
PERMIT_PREFIXES = {"810000": "香港", "820000": "澳门", "830000": "台湾"}
CITIZEN_LAYOUT_TYPES = (
    codes.CITIZEN_ID,
    codes.HK_MACAO_RESIDENCE_PERMIT,
    codes.TAIWAN_RESIDENCE_PERMIT,
)
"""Document types whose numbers follow the citizen ID layout and rules."""

_WHITESPACE = re.compile(r"\s+")
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_OLD_FOREIGNER_SHAPE = re.compile(r"[A-Z]{3}[0-9]{12}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_HK_MACAO_TRAVEL = re.compile(r"[HM][0-9]{8}(?:[0-9]{2})?")
_TAIWAN_TRAVEL = re.compile(r"[0-9]{8}")
_PASSPORT = re.compile(r"[A-Z0-9]{5,17}")


@dataclass(frozen=True, slots=True)
class CitizenId:
    """A parsed 18-character number in the citizen ID layout (also residence permits)."""

    number: str
    region_code: str
    birth_date: date
    sequence: str
    gender: str
    """GB/T 2261.1: ``1`` male (odd sequence), ``2`` female (even sequence)."""


@dataclass(frozen=True, slots=True)
class ForeignerId:
    """A parsed 2023-format foreigner's permanent residence ID number."""

    number: str
    province_code: str
    nationality_code: str
    birth_date: date
    sequence: str
    """Positions 15-17: the 2-digit sequence and the gender digit, as in a citizen ID."""
    gender: str


def _half_width(value: str) -> str:
    """Full-width digits and letters typed with a Chinese input method, as ASCII."""
    return unicodedata.normalize("NFKC", value)


def normalise_id_number(value: str) -> str:
    """Half-width, every space dropped, a lower-case ``x`` turned into ``X``."""
    return _WHITESPACE.sub("", _half_width(value)).upper()


def check_character(first17: str) -> str:
    """The GB 11643 check character of 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("the check character needs exactly 17 digits")
    return ID_CHECK_CHARACTERS[sum(map(mul, map(int, first17), ID_WEIGHTS)) % 11]


def _date(digits: str) -> date:
    """``YYYYMMDD`` as a date; ValueError when it names no day."""
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def _birth_date(digits: str) -> date | None:
    """``YYYYMMDD`` as a date, or None when it names no day."""
    try:
        return _date(digits)
    except ValueError:
        return None


def _birth_date_problems(digits: str, today: date | None, field: str) -> list[FieldProblem]:
    """A birth date that is no day, or a day after today."""
    born = _birth_date(digits)
    if born is None:
        return [FieldProblem(field, f"出生日期 {digits} 不是有效日期")]
    if born > (today or date.today()):
        return [FieldProblem(field, f"出生日期不能晚于今天（证件号码中为 {born.isoformat()}）")]
    return []


def _check_problems(number: str, field: str) -> list[FieldProblem]:
    """A wrong GB 11643 check character, naming the right one."""
    expected = check_character(number[:17])
    if number[17] != expected:
        return [FieldProblem(field, f"校验位错误，应为 {expected}")]
    return []


def _shape_problems(number: str, field: str) -> list[FieldProblem]:
    """Wrong length or characters of an 18-character number."""
    if len(number) == 15 and number.isdigit():
        reason = "长度应为 18 位（15 位的一代身份证号码已停用，请使用 18 位号码）"
        return [FieldProblem(field, reason)]
    if len(number) != 18:
        return [FieldProblem(field, f"长度应为 18 位（实际 {len(number)} 位）")]
    if not _ID_SHAPE.fullmatch(number):
        return [FieldProblem(field, "只能包含数字，最后一位可以是 X")]
    return []


def citizen_id_problems(
    value: str, *, today: date | None = None, field: str = "id_number"
) -> list[FieldProblem]:
    """Problems of an 18-character number in the citizen ID layout (GB 11643-1999)."""
    number = normalise_id_number(value)
    if not number:
        return [FieldProblem(field, "请填写证件号码")]
    problems = _shape_problems(number, field)
    if problems:
        return problems
    if not regions.is_province_code(number[:2]):
        problems.append(FieldProblem(field, f"前两位 {number[:2]} 不是有效的省级行政区划代码"))
    problems += _birth_date_problems(number[6:14], today, field)
    return problems + _check_problems(number, field)


def _gender(digit: str) -> str:
    """GB/T 2261.1 gender of a sequence's last digit: odd ``1`` male, even ``2`` female."""
    return "1" if int(digit) % 2 else "2"


def parse_citizen_id(value: str, *, today: date | None = None) -> CitizenId:
    """Parse a citizen ID (or residence permit) number; :class:`ValidationFailed` if bad."""
    problems = citizen_id_problems(value, today=today)
    if problems:
        raise ValidationFailed(problems)
    number = normalise_id_number(value)
    sequence = number[14:17]
    return CitizenId(number, number[:6], _date(number[6:14]), sequence, _gender(sequence[2]))


def _old_foreigner_check(first14: str) -> str:
    """ICAO 9303 check digit (weights 7 3 1, letters A=10 ... Z=35) of the 2017 format."""
    values = (int(c) if c.isdigit() else ord(c) - 55 for c in first14)
    return str(sum(v * (7, 3, 1)[i % 3] for i, v in enumerate(values)) % 10)


def _old_foreigner_problems(number: str, field: str) -> list[FieldProblem]:
    """Problems of a 15-character 2017-format permanent residence ID."""
    problems: list[FieldProblem] = []
    if number[3:5] not in MAINLAND_PROVINCES:
        problems.append(FieldProblem(field, f"第 4-5 位 {number[3:5]} 不是有效的受理地代码"))
    yymmdd = number[7:13]
    if _birth_date("19" + yymmdd) is None and _birth_date("20" + yymmdd) is None:
        problems.append(FieldProblem(field, f"出生日期 {yymmdd} 不是有效日期"))
    expected = _old_foreigner_check(number[:14])
    if number[14] != expected:
        problems.append(FieldProblem(field, f"校验位错误，应为 {expected}"))
    return problems


def _nationality_problems(code: str, field: str) -> list[FieldProblem]:
    """A nationality code that cannot be a foreigner's."""
    if code == "000":
        return [FieldProblem(field, "第 4-6 位 000 不是有效的国籍代码")]
    if code == "156":
        return [FieldProblem(field, "第 4-6 位国籍代码 156 是中国，持永久居留身份证的应为外国人")]
    return []


def foreigner_id_problems(
    value: str, *, today: date | None = None, field: str = "id_number"
) -> list[FieldProblem]:
    """Problems of a foreigner's permanent residence ID number.

    The 2023 format (issued since 2023-12-01; National Immigration Administration,
    "新版外国人永久居留身份证机读信息规则") has 18 characters laid out like a citizen ID:
    ``9`` (foreigner marker), 2-digit province of the issuing office, 3-digit nationality
    (ISO 3166-1 / GB/T 2659 numeric), 8-digit birth date, 2-digit sequence, a gender digit
    (odd male, even female) and the GB 11643 check character. Checked: the shape, the ``9``,
    the province (a mainland province-level code), a nationality that is neither ``000`` nor
    China (``156``), the birth date (real, not in the future) and the check character.

    Cards of the 2017 format stay valid until they expire: 15 characters, 3-letter
    nationality, 4-digit issuing place, birth date ``YYMMDD``, one digit and an ICAO 9303
    check digit (weights 7 3 1). Checked: the shape, the province part, the birth date and
    the check digit.
    """
    number = normalise_id_number(value)
    if not number:
        return [FieldProblem(field, "请填写证件号码")]
    if len(number) == 15 and _OLD_FOREIGNER_SHAPE.fullmatch(number):
        return _old_foreigner_problems(number, field)
    if len(number) != 18:
        return [FieldProblem(field, f"长度应为 18 位（实际 {len(number)} 位）")]
    if not _ID_SHAPE.fullmatch(number):
        return [FieldProblem(field, "只能包含数字，最后一位可以是 X")]
    if number[0] != "9":
        return [FieldProblem(field, "外国人永久居留身份证号码应以 9 开头")]
    problems: list[FieldProblem] = []
    if number[1:3] not in MAINLAND_PROVINCES:
        problems.append(FieldProblem(field, f"第 2-3 位 {number[1:3]} 不是有效的受理地代码"))
    problems += _nationality_problems(number[3:6], field)
    problems += _birth_date_problems(number[6:14], today, field)
    return problems + _check_problems(number, field)


def parse_foreigner_id(value: str, *, today: date | None = None) -> ForeignerId:
    """Parse a 2023-format permanent residence ID number; :class:`ValidationFailed` if bad."""
    number = normalise_id_number(value)
    problems = foreigner_id_problems(number, today=today)
    if not problems and len(number) != 18:
        problems = [FieldProblem("id_number", "2017 版 15 位号码不含完整的出生日期和性别")]
    if problems:
        raise ValidationFailed(problems)
    born = _date(number[6:14])
    return ForeignerId(number, number[1:3], number[3:6], born, number[14:17], _gender(number[16]))


def _permit_problems(number: str, document_type: str, field: str) -> list[FieldProblem]:
    """A number whose prefix belongs to another document type."""
    prefix = number[:6]
    if document_type == codes.CITIZEN_ID and prefix in PERMIT_PREFIXES:
        kind = "台湾居民居住证" if prefix == "830000" else "港澳居民居住证"
        return [FieldProblem(field, f"这是{kind}号码，证件类型应选{kind}")]
    if document_type == codes.HK_MACAO_RESIDENCE_PERMIT and prefix not in ("810000", "820000"):
        return [FieldProblem(field, "港澳居民居住证号码应以 810000（香港）或 820000（澳门）开头")]
    if document_type == codes.TAIWAN_RESIDENCE_PERMIT and prefix != "830000":
        return [FieldProblem(field, "台湾居民居住证号码应以 830000 开头")]
    return []


def _travel_document_problems(number: str, document_type: str, field: str) -> list[FieldProblem]:
    """Shape only: these numbers carry no birth date, gender or public check character."""
    if document_type == codes.HK_MACAO_TRAVEL_PERMIT and not _HK_MACAO_TRAVEL.fullmatch(number):
        reason = "港澳居民来往内地通行证号码应为 H 或 M 加 8 位数字（如 H12345678）"
        return [FieldProblem(field, reason)]
    if document_type == codes.TAIWAN_TRAVEL_PERMIT and not _TAIWAN_TRAVEL.fullmatch(number):
        return [FieldProblem(field, "台湾居民来往大陆通行证号码应为 8 位数字")]
    if document_type == codes.FOREIGN_PASSPORT and not _PASSPORT.fullmatch(number):
        return [FieldProblem(field, "护照号码应为 5-17 位字母或数字")]
    return []


def _facts(document_type: str, number: str) -> tuple[date, str] | None:
    """Birth date and gender written in a valid number, when its layout carries them."""
    if document_type in CITIZEN_LAYOUT_TYPES:
        parsed = parse_citizen_id(number)
        return parsed.birth_date, parsed.gender
    if document_type == codes.FOREIGNER_PERMANENT_RESIDENCE and len(number) == 18:
        foreigner = parse_foreigner_id(number)
        return foreigner.birth_date, foreigner.gender
    return None


def _is_foreigner_id(number: str) -> bool:
    """True for a valid 18-character permanent residence ID number."""
    return len(number) == 18 and not foreigner_id_problems(number)


def _number_problems(
    document_type: str, number: str, today: date | None, field: str
) -> list[FieldProblem]:
    """Problems of the number alone, by the rules of its document type."""
    if document_type == codes.CITIZEN_ID and number[:1] == "9" and _is_foreigner_id(number):
        kind = "外国人永久居留身份证"
        return [FieldProblem(field, f"以 9 开头的是{kind}号码，证件类型应选{kind}")]
    if document_type in CITIZEN_LAYOUT_TYPES:
        problems = citizen_id_problems(number, today=today, field=field)
        if not problems:
            problems = _permit_problems(number, document_type, field)
        return problems
    if document_type == codes.FOREIGNER_PERMANENT_RESIDENCE:
        return foreigner_id_problems(number, today=today, field=field)
    if not number:
        return [FieldProblem(field, "请填写证件号码")]
    return _travel_document_problems(number, document_type, field)


def _consistency_problems(
    facts: tuple[date, str], birth_date: date | None, gender: str | None
) -> list[FieldProblem]:
    """A birth date or gender that disagrees with the number."""
    born, sex = facts
    problems: list[FieldProblem] = []
    if birth_date is not None and birth_date != born:
        reason = f"出生日期与证件号码不一致（证件号码中为 {born.isoformat()}）"
        problems.append(FieldProblem("birth_date", reason))
    if gender is not None and gender != sex:
        shown = codes.name_of(codes.GENDER, sex)
        problems.append(FieldProblem("gender", f"性别与证件号码不一致（证件号码中为 {shown}）"))
    return problems


def validate_document(
    document_type: str,
    number: str,
    *,
    birth_date: date | None = None,
    gender: str | None = None,
    today: date | None = None,
    field: str = "id_number",
) -> list[FieldProblem]:
    """Problems of a document number, and of a birth date and gender that disagree with it."""
    type_problems = codes.validate_code(codes.DOCUMENT_TYPE, document_type, field="document_type")
    if type_problems:
        return type_problems
    number = normalise_id_number(number)
    problems = _number_problems(document_type, number, today, field)
    if problems:
        return problems
    facts = _facts(document_type, number)
    return _consistency_problems(facts, birth_date, gender) if facts else []


def validate_citizen_id(value: str, *, today: date | None = None) -> list[FieldProblem]:
    """Problems of a citizen ID number (document type 01)."""
    return validate_document(codes.CITIZEN_ID, value, today=today)


def credit_code_check_character(first17: str) -> str:
    """The GB 32100 check character: 31 - (weighted sum mod 31), with 31 written as 0."""
    if len(first17) != 17 or any(c not in CREDIT_ALPHABET for c in first17):
        raise ValueError("the check character needs 17 characters of the credit code alphabet")
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def organisation_code_check_character(body8: str) -> str:
    """The GB 11714 check character: 11 - (weighted sum mod 11), 10 as X, 11 as 0."""
    if len(body8) != 8 or not body8.isascii() or not body8.isalnum():
        raise ValueError("the check character needs 8 digits or upper-case letters")
    values = (int(c) if c.isdigit() else ord(c.upper()) - 55 for c in body8)
    remainder = 11 - sum(v * w for v, w in zip(values, ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def normalise_credit_code(value: str) -> str:
    """Half-width, spaces dropped, letters upper-cased."""
    return _WHITESPACE.sub("", _half_width(value)).upper()


def credit_code_problems(value: str, *, field: str = "credit_code") -> list[FieldProblem]:
    """Problems of a unified social credit code (GB 32100-2015).

    18 characters: registration authority (1), institution category (1), the registering
    authority's region code (6 digits), the organisation's identification code (9
    characters: a GB 11714 organisation code with its own check character) and the check
    character over the first 17. Both check characters are verified; the first two
    characters are not checked against the (growing) lists of authorities and categories.
    """
    code = normalise_credit_code(value)
    if not code:
        return [FieldProblem(field, "请填写统一社会信用代码")]
    if len(code) != 18:
        return [FieldProblem(field, f"统一社会信用代码应为 18 位（实际 {len(code)} 位）")]
    if any(c not in CREDIT_ALPHABET for c in code):
        reason = "统一社会信用代码只能包含数字和大写字母（不含 I、O、Z、S、V）"
        return [FieldProblem(field, reason)]
    problems: list[FieldProblem] = []
    if not code[2:8].isdigit():
        problems.append(FieldProblem(field, "第 3-8 位（登记管理机关行政区划码）应为数字"))
    org_check = organisation_code_check_character(code[8:16])
    if code[16] != org_check:
        reason = f"第 9-17 位组织机构代码的校验位错误，第 17 位应为 {org_check}"
        problems.append(FieldProblem(field, reason))
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        problems.append(FieldProblem(field, f"校验位错误，应为 {expected}"))
    return problems


def validate_credit_code(value: str) -> list[FieldProblem]:
    """Problems of a unified social credit code, field ``credit_code``."""
    return credit_code_problems(value)


def normalise_mobile(value: str) -> str:
    """Half-width, spaces and hyphens dropped, and a leading ``+86`` before 11 digits."""
    number = re.sub(r"[\s-]+", "", _half_width(value))
    for prefix in ("+86", "0086", "86"):
        if number.startswith(prefix) and len(number) == len(prefix) + 11:
            return number[len(prefix) :]
    return number


def validate_mobile(value: str, *, field: str = "phone") -> list[FieldProblem]:
    """Problems of a mainland mobile number: 11 digits starting 13 to 19."""
    if not _MOBILE.fullmatch(normalise_mobile(value)):
        return [FieldProblem(field, "手机号码应为 11 位数字，以 1 开头")]
    return []


def validate_region_code(value: str, *, field: str = "region_code") -> list[FieldProblem]:
    """Problems of a 6-digit region code that must be current (province, city or county)."""
    code = value.strip()
    if not re.fullmatch(r"[0-9]{6}", code):
        return [FieldProblem(field, "行政区划代码应为 6 位数字")]
    if not regions.is_current_region(code):
        reason = f"行政区划代码 {code} 不是现行代码（民政部区划表 {regions.data_as_of()}）"
        return [FieldProblem(field, reason)]
    return []


def validate_township_code(value: str, *, field: str = "township_code") -> list[FieldProblem]:
    """Problems of a township or street code: 9 digits, current in the civil-affairs table."""
    code = regions.normalise_township_code(value)
    if not re.fullmatch(r"[0-9]{9}", code):
        return [FieldProblem(field, "乡镇（街道）代码应为 9 位数字（县级代码 6 位加 3 位）")]
    if not regions.is_township(code):
        reason = f"乡镇（街道）代码 {code} 不在民政部区划表（{regions.data_as_of()}）中"
        return [FieldProblem(field, reason)]
    return []
