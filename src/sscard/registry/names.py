"""Names of cardholders, as written on the card.

Chinese names (every document type except the foreigner's ones): 2 to 20 characters, each a
CJK unified ideograph (the basic block, extensions A to I, and the compatibility ideographs
that are real characters of names) or the middle dot ``·`` (U+00B7) that separates the parts
of many minority names (``阿卜杜·热合曼``). The dot may not open or close a name and may not
be doubled. Look-alike dots typed by other input methods (``•`` U+2022, ``・`` U+30FB, ``‧``
U+2027, ``･`` U+FF65, ``∙`` U+2219, ``⋅`` U+22C5, ``·`` U+0387) are accepted and written as
U+00B7 by :func:`normalise_name`.

Foreigners (document types 02 permanent residence ID and 07 passport) may be registered
under the Latin name of their document: letters of the Latin script (accents included),
spaces, commas, full stops, hyphens and apostrophes, up to 60 characters. A foreigner with a
Chinese name on the card is checked by the Chinese rules.
"""

from __future__ import annotations

import re
import unicodedata

from sscard.errors import FieldProblem
from sscard.registry import codes

MIDDLE_DOT = "\u00b7"
DOT_VARIANTS = "\u2022\u30fb\u2027\uff65\u2219\u22c5\u0387"
MIN_CHINESE, MAX_CHINESE = 2, 20
MAX_LATIN = 60
FOREIGNER_DOCUMENTS = frozenset({codes.FOREIGNER_PERMANENT_RESIDENCE, codes.FOREIGN_PASSPORT})

_IDEOGRAPH_RANGES = (
    (0x3400, 0x4DBF),  # extension A
    (0x4E00, 0x9FFF),  # basic block
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x2A6DF),  # extension B
    (0x2A700, 0x2B73F),  # extension C
    (0x2B740, 0x2B81F),  # extension D
    (0x2B820, 0x2CEAF),  # extension E
    (0x2CEB0, 0x2EBEF),  # extension F
    (0x2EBF0, 0x2EE5F),  # extension I
    (0x2F800, 0x2FA1F),  # compatibility supplement
    (0x30000, 0x3134F),  # extension G
    (0x31350, 0x323AF),  # extension H
)
_DOTS = str.maketrans(dict.fromkeys(DOT_VARIANTS, MIDDLE_DOT))
_SPACES = re.compile(r"\s+")
_SPACED_DOT = re.compile(r"\s*\u00b7\s*")
_LATIN_PUNCTUATION = frozenset(" ,.-'")
FIELD = "name"


def is_ideograph(character: str) -> bool:
    """True for a CJK ideograph of any block (basic, extensions, compatibility)."""
    point = ord(character)
    return any(low <= point <= high for low, high in _IDEOGRAPH_RANGES)


def _is_latin_letter(character: str) -> bool:
    """True for a letter of the Latin script, accented ones included."""
    return character.isalpha() and unicodedata.name(character, "").startswith("LATIN")


def normalise_name(value: str) -> str:
    """Trim, write every dot variant as U+00B7 without spaces around it, collapse spaces."""
    name = _SPACES.sub(" ", value.strip().translate(_DOTS))
    return _SPACED_DOT.sub(MIDDLE_DOT, name)


def _chinese_problems(name: str) -> list[FieldProblem]:
    """Length, characters and dots of a Chinese name."""
    if not MIN_CHINESE <= len(name) <= MAX_CHINESE:
        return [FieldProblem(FIELD, f"姓名应为 2-20 个汉字（实际 {len(name)} 个字符）")]
    problems: list[FieldProblem] = []
    strange = sorted({c for c in name if c != MIDDLE_DOT and not is_ideograph(c)})
    if strange:
        shown = "、".join("空格" if c == " " else c for c in strange)
        reason = f"姓名只能由汉字组成，少数民族姓名可用间隔号“·”，不能有：{shown}"
        problems.append(FieldProblem(FIELD, reason))
    if name[0] == MIDDLE_DOT or name[-1] == MIDDLE_DOT:
        problems.append(FieldProblem(FIELD, "间隔号“·”不能在姓名开头或结尾"))
    if MIDDLE_DOT * 2 in name:
        problems.append(FieldProblem(FIELD, "间隔号“·”不能连用"))
    return problems


def _latin_problems(name: str) -> list[FieldProblem]:
    """Length and characters of a foreigner's Latin name."""
    if len(name) > MAX_LATIN:
        return [FieldProblem(FIELD, f"外文姓名不能超过 60 个字符（实际 {len(name)} 个）")]
    if not any(_is_latin_letter(c) for c in name):
        return [FieldProblem(FIELD, "外文姓名应包含拉丁字母")]
    strange = sorted({c for c in name if not _is_latin_letter(c) and c not in _LATIN_PUNCTUATION})
    if strange:
        reason = (
            f"外文姓名只能包含拉丁字母、空格、逗号、点、连字符和撇号，不能有：{''.join(strange)}"
        )
        return [FieldProblem(FIELD, reason)]
    return []


def validate_name(
    value: str | None, *, document_type: str = codes.CITIZEN_ID
) -> list[FieldProblem]:
    """Problems of a cardholder's name (after :func:`normalise_name`), for the document type."""
    name = normalise_name(value or "")
    if not name:
        return [FieldProblem(FIELD, "请填写姓名")]
    if document_type in FOREIGNER_DOCUMENTS and not any(is_ideograph(c) for c in name):
        return _latin_problems(name)
    return _chinese_problems(name)
