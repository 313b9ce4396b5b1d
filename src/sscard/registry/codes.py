"""Code sets of the registry, as plain data: the seeds of the code tables.

Each set maps our internal code to its Chinese name. Where a national standard defines the
codes, the internal code is the standard's:

- gender: GB/T 2261.1-2003 (0 未知的性别, 1 男, 2 女, 9 未说明的性别);
- ethnicity: GB 3304-1991 (01 汉族 ... 56 基诺族, 97 其他未识别民族, 98 外国血统中国籍人士);
- insurance type: the 人社 险种类型 codes (AAE140: 110 企业职工基本养老保险, 210 失业保险, ...).

Document types, insurance statuses and person statuses are sscard's own codes. Other systems
name and code the same things differently (the province system calls gender ``AAC004``; a
medical insurance system calls it ``SEX`` with ``M``/``F``/``U``): :data:`TRANSLATIONS` holds,
per external system and code set, that system's field name and its code for each of ours.
The registry loads these into its tables; deployments then edit the tables, not this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sscard.errors import FieldProblem


@dataclass(frozen=True, slots=True)
class CodeSet:
    """One code set: internal code -> Chinese name, and how to name a bad code."""

    key: str
    title: str
    entries: Mapping[str, str]
    expected: str
    """How a clerk is told the valid codes: ``01-56``, ``1（男）或 2（女）``."""


def _frozen(entries: dict[str, str]) -> Mapping[str, str]:
    """A read-only view of the entries."""
    return MappingProxyType(entries)


GENDER = CodeSet(
    "gender",
    "性别",
    _frozen({"0": "未知的性别", "1": "男", "2": "女", "9": "未说明的性别"}),
    "0、1、2 或 9（1 男，2 女）",
)

_ETHNIC_NAMES = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 "
    "哈尼族 哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 "
    "柯尔克孜族 土族 达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 "
    "塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 "
    "鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
).split()

ETHNICITY = CodeSet(
    "ethnicity",
    "民族",
    _frozen(
        {
            **{f"{number:02d}": name for number, name in enumerate(_ETHNIC_NAMES, start=1)},
            "97": "其他未识别民族",
            "98": "外国血统中国籍人士",
        }
    ),
    "01-56、97 或 98",
)

DOCUMENT_TYPE = CodeSet(
    "document_type",
    "证件类型",
    _frozen(
        {
            "01": "居民身份证",
            "02": "外国人永久居留身份证",
            "03": "港澳居民居住证",
            "04": "台湾居民居住证",
            "05": "港澳居民来往内地通行证",
            "06": "台湾居民来往大陆通行证",
            "07": "外国护照",
        }
    ),
    "01-07",
)
"""sscard's document types. 01-04 carry an 18-character number with birth date, gender and
a GB 11643 check character; 05-07 are travel documents whose numbers carry neither."""

CITIZEN_ID = "01"
FOREIGNER_PERMANENT_RESIDENCE = "02"
HK_MACAO_RESIDENCE_PERMIT = "03"
TAIWAN_RESIDENCE_PERMIT = "04"
HK_MACAO_TRAVEL_PERMIT = "05"
TAIWAN_TRAVEL_PERMIT = "06"
FOREIGN_PASSPORT = "07"

INSURANCE_TYPE = CodeSet(
    "insurance_type",
    "险种",
    _frozen(
        {
            "110": "企业职工基本养老保险",
            "120": "机关事业单位养老保险",
            "170": "城乡居民基本养老保险",
            "210": "失业保险",
            "310": "职工基本医疗保险",
            "390": "城乡居民基本医疗保险",
            "410": "工伤保险",
            "510": "生育保险",
        }
    ),
    "110、120、170、210、310、390、410 或 510",
)

INSURANCE_KIND: Mapping[str, str] = MappingProxyType(
    {
        "110": "pension",
        "120": "pension",
        "170": "pension",
        "210": "unemployment",
        "310": "medical",
        "390": "medical",
        "410": "work_injury",
        "510": "maternity",
    }
)
"""The five kinds of social insurance each insurance type belongs to."""

INSURANCE_STATUS = CodeSet(
    "insurance_status",
    "参保状态",
    _frozen({"enrolled": "参保缴费", "suspended": "暂停缴费", "terminated": "终止参保"}),
    "enrolled（参保缴费）、suspended（暂停缴费）或 terminated（终止参保）",
)

PERSON_STATUS = CodeSet(
    "person_status",
    "人员状态",
    _frozen({"normal": "正常", "deceased": "死亡", "moved_out": "迁出"}),
    "normal（正常）、deceased（死亡）或 moved_out（迁出）",
)

CODE_SETS: Mapping[str, CodeSet] = MappingProxyType(
    {
        s.key: s
        for s in (GENDER, ETHNICITY, DOCUMENT_TYPE, INSURANCE_TYPE, INSURANCE_STATUS, PERSON_STATUS)
    }
)


def _code_set(code_set: CodeSet | str) -> CodeSet:
    """The set itself, or the set registered under that key."""
    return code_set if isinstance(code_set, CodeSet) else CODE_SETS[code_set]


def name_of(code_set: CodeSet | str, code: str) -> str | None:
    """The Chinese name of ``code`` in the set (given as a :class:`CodeSet` or its key)."""
    return _code_set(code_set).entries.get(code)


def validate_code(
    code_set: CodeSet | str, code: str | None, *, field: str | None = None
) -> list[FieldProblem]:
    """No problem for a known code; otherwise ``民族代码 99 不存在，应为 01-56``."""
    chosen = _code_set(code_set)
    field = field or chosen.key
    if code is None or not code.strip():
        return [FieldProblem(field, f"请填写{chosen.title}")]
    if code not in chosen.entries:
        return [FieldProblem(field, f"{chosen.title}代码 {code} 不存在，应为 {chosen.expected}")]
    return []


INDICATORS: Mapping[str, str] = MappingProxyType(
    {
        "AAC002": "id_number",
        "AAC003": "name",
        "AAC004": "gender",
        "AAC005": "ethnicity",
        "AAC006": "birth_date",
        "AAC058": "document_type",
        "AAC147": "document_number",
        "AAC161": "nationality",
        "AAZ500": "card_number",
        "AAB301": "region_code",
        "AAE006": "address",
    }
)
"""人社 indicator names used in files exchanged with the province and the ministry -> our
field names (AAC002 is the social security number, i.e. the citizen ID number)."""


@dataclass(frozen=True, slots=True)
class ExternalField:
    """How one external system names a code set and codes its values."""

    field: str
    codes: Mapping[str, str]
    """Our internal code -> the system's code; one to one, so it reads both ways."""


def _same(code_set: CodeSet) -> Mapping[str, str]:
    """The identity table: the external system uses our codes."""
    return MappingProxyType({code: code for code in code_set.entries})


TRANSLATIONS: Mapping[str, Mapping[str, ExternalField]] = MappingProxyType(
    {
        "province": MappingProxyType(
            {
                "gender": ExternalField("AAC004", _same(GENDER)),
                "ethnicity": ExternalField("AAC005", _same(ETHNICITY)),
                "document_type": ExternalField("AAC058", _same(DOCUMENT_TYPE)),
                "insurance_type": ExternalField("AAE140", _same(INSURANCE_TYPE)),
                "insurance_status": ExternalField(
                    "AAC008",
                    _frozen({"enrolled": "1", "suspended": "2", "terminated": "3"}),
                ),
            }
        ),
        "medical_insurance": MappingProxyType(
            {
                "gender": ExternalField("SEX", _frozen({"1": "M", "2": "F", "0": "U"})),
                "ethnicity": ExternalField("NATION", _same(ETHNICITY)),
            }
        ),
    }
)
"""Default translation tables: external system -> code set -> field name and codes.

``province`` is the provincial card management system, which speaks 人社 indicator names
with the standard codes; ``medical_insurance`` is an example of another department: gender
as ``SEX`` with ``M``/``F``/``U``, and no code for 9 (未说明的性别), which therefore cannot be
sent to it.
"""
