"""Card photo rules: what a photo must meet, and stripping its metadata (pure).

The card photo (社会保障卡制证用数字相片) follows the public-security ID photo rules (GA
461-2004) as published by 人社 offices: 358×441 pixels (26 mm × 32 mm at 350 dpi), 24-bit
RGB colour, JPEG. Offices state different file-size bounds (9-20 KB is the most common,
14-40 KB in some cities); sscard defaults to 9-60 KB, wide enough for a 358×441 photo
re-encoded at quality 90, and every bound is a field of :class:`PhotoRules` so a deployment
can tighten it.

:func:`normalise_photo` turns the photo upright (the EXIF orientation), then re-encodes its
pixels alone, so no EXIF (camera, time, GPS position), XMP, ICC profile or comment survives.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from sscard.errors import FieldProblem

FIELD = "photo"
KB = 1024
QUALITY = 90
DPI = 350
MAX_PIXELS = 40_000_000
"""Refuse to decode anything larger (decompression bombs): a phone photo is about 12 M."""


@dataclass(frozen=True, slots=True)
class PhotoRules:
    """What a stored card photo must be; the defaults are the card photo's."""

    format: str = "JPEG"
    width: int = 358
    height: int = 441
    min_bytes: int = 9 * KB
    max_bytes: int = 60 * KB
    mode: str = "RGB"


DEFAULT_RULES = PhotoRules()


def _kb(size: int) -> str:
    """Bytes as kilobytes for a clerk: ``9``, ``12.5``."""
    return f"{size / KB:.1f}".rstrip("0").rstrip(".")


def _size_problems(size: int, rules: PhotoRules) -> list[FieldProblem]:
    """A file smaller or larger than the rules allow."""
    if size < rules.min_bytes:
        reason = f"照片文件过小（{_kb(size)} KB），应不小于 {_kb(rules.min_bytes)} KB"
        return [FieldProblem(FIELD, reason)]
    if size > rules.max_bytes:
        reason = f"照片文件过大（{_kb(size)} KB），应不大于 {_kb(rules.max_bytes)} KB"
        return [FieldProblem(FIELD, reason)]
    return []


def _open(data: bytes) -> Image.Image | FieldProblem:
    """The image header, or the problem that stops it being read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return FieldProblem(FIELD, "文件不是图片，或图片格式无法识别")
    except OSError:
        return FieldProblem(FIELD, "照片文件已损坏，无法读取")
    if image.width * image.height > MAX_PIXELS:
        return FieldProblem(FIELD, f"照片像素过多（{image.width}×{image.height}）")
    return image


def _image_problems(image: Image.Image, rules: PhotoRules) -> list[FieldProblem]:
    """Format, dimensions and colour mode against the rules."""
    problems: list[FieldProblem] = []
    if image.format != rules.format:
        problems.append(
            FieldProblem(FIELD, f"照片格式应为 {rules.format}（实际为 {image.format}）")
        )
    if image.size != (rules.width, rules.height):
        reason = (
            f"照片尺寸应为 {rules.width}×{rules.height} 像素（实际 {image.width}×{image.height}）"
        )
        problems.append(FieldProblem(FIELD, reason))
    if image.mode != rules.mode:
        reason = f"照片颜色模式应为 {rules.mode}（24 位真彩色），实际为 {image.mode}"
        problems.append(FieldProblem(FIELD, reason))
    return problems


def _is_complete(image: Image.Image) -> bool:
    """True when every pixel can be decoded (the file is not cut short)."""
    try:
        image.load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


def check_photo(data: bytes, rules: PhotoRules = DEFAULT_RULES) -> list[FieldProblem]:
    """Problems of a photo against the rules: format, dimensions, colour, file size, damage."""
    if not data:
        return [FieldProblem(FIELD, "照片文件为空")]
    opened = _open(data)
    if isinstance(opened, FieldProblem):
        return [opened]
    with opened:
        problems = _image_problems(opened, rules) + _size_problems(len(data), rules)
        if not _is_complete(opened):
            problems.append(FieldProblem(FIELD, "照片文件已损坏，无法完整读取"))
    return problems


def normalise_photo(data: bytes, *, quality: int = QUALITY) -> bytes:
    """Upright RGB JPEG of the same pixels and nothing else (no EXIF, GPS, XMP, ICC, comment).

    Raises ``ValueError`` when the data is not a readable image; run :func:`check_photo`
    first to tell the clerk why.
    """
    opened = _open(data)
    if isinstance(opened, FieldProblem):
        raise ValueError(opened.reason)
    with opened:
        try:
            upright = ImageOps.exif_transpose(opened).convert("RGB")
        except (OSError, SyntaxError) as exc:
            raise ValueError("照片文件已损坏，无法完整读取") from exc
    pixels_only = Image.frombytes("RGB", upright.size, upright.tobytes())
    out = io.BytesIO()
    pixels_only.save(out, "JPEG", quality=quality, optimize=True, dpi=(DPI, DPI))
    return out.getvalue()
