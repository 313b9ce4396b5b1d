"""What a key, a code, a field name or a name may be: one rule each, in a clerk's words."""

from __future__ import annotations

import re
from typing import Literal

Direction = Literal["out", "in"]
"""``out``: our code -> the external system's code; ``in``: theirs -> ours."""

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
FIELD_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
EXTERNAL_CODE_PATTERN = re.compile(r"^[^\s=+@]\S{0,31}$")
FORMULA_START = ("=", "+", "@", "\t", "\r")
"""Cells starting with these are read as formulas by spreadsheets; names may not."""

KEY_RULE = "应为 2-32 位小写字母、数字或下划线，以字母开头"
CODE_RULE = "应为 1-32 位字母、数字、下划线、点或连字符，以字母或数字开头"
FIELD_RULE = "应为 1-64 位字母、数字或下划线，不以数字开头"
EXTERNAL_CODE_RULE = "应为 1-32 个非空白字符，不以 =、+、@ 开头"


def key_problem(value: str) -> str | None:
    """Why ``value`` is not a code set or system key, or None."""
    return None if KEY_PATTERN.match(value) else KEY_RULE


def code_problem(value: str) -> str | None:
    """Why ``value`` is not one of our codes, or None."""
    return None if CODE_PATTERN.match(value) else CODE_RULE


def field_problem(value: str) -> str | None:
    """Why ``value`` is not an external field name, or None."""
    return None if FIELD_PATTERN.match(value) else FIELD_RULE


def external_code_problem(value: str) -> str | None:
    """Why ``value`` is not an external code, or None."""
    return None if EXTERNAL_CODE_PATTERN.match(value) else EXTERNAL_CODE_RULE


def name_problem(value: str, *, max_length: int) -> str | None:
    """Why ``value`` is not a name (of a code, a set or a system), or None."""
    if not value:
        return "请填写名称"
    if len(value) > max_length:
        return f"长度不能超过 {max_length} 个字符"
    if value.startswith(FORMULA_START) or any(ord(ch) < 32 for ch in value):
        return "不能含控制字符，也不能以 =、+、@ 开头"
    return None


def shown(value: str) -> str:
    """A value as quoted in a message: empty values and very long ones made visible."""
    if not value:
        return "（空值）"
    return value if len(value) <= 32 else value[:32] + "…"
