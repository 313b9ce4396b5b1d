import io

import pytest
from PIL import ExifTags, Image, ImageChops, ImageStat

from sscard.errors import FieldProblem
from sscard.registry.photos.portraits import demo_portrait
from sscard.registry.photos.rules import PhotoRules, check_photo, normalise_photo


def encode(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def camera_exif() -> Image.Exif:
    """EXIF as a phone writes it: maker, model, a timestamp and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    exif[ExifTags.Base.DateTime] = "2026:01:15 09:30:00"
    exif[ExifTags.Base.Orientation] = 1
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (35.0, 24.0, 36.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 35.0, 24.0)
    return exif


def reasons(problems: list[FieldProblem]) -> list[str]:
    assert all(problem.field == "photo" for problem in problems)
    return [problem.reason for problem in problems]


def test_a_demo_portrait_passes_the_card_photo_rules() -> None:
    for seed in range(5):
        for gender in ("1", "2"):
            assert check_photo(demo_portrait(seed, gender=gender)) == []


def test_demo_portraits_are_the_same_for_the_same_seed_and_differ_between_seeds() -> None:
    assert demo_portrait(7, gender="2") == demo_portrait(7, gender="2")
    assert demo_portrait(7, gender="2") != demo_portrait(8, gender="2")


def test_a_png_is_refused_as_the_wrong_format() -> None:
    png = encode(Image.open(io.BytesIO(demo_portrait(1))), "PNG")
    assert "照片格式应为 JPEG（实际为 PNG）" in reasons(check_photo(png))


def test_a_photo_of_the_wrong_size_says_what_it_measures() -> None:
    photo = Image.open(io.BytesIO(demo_portrait(1))).resize((400, 500))
    assert reasons(check_photo(encode(photo, quality=90))) == [
        "照片尺寸应为 358×441 像素（实际 400×500）"
    ]


def test_a_photo_too_small_or_too_large_in_bytes_is_refused_with_its_size() -> None:
    photo = demo_portrait(1)
    tight = PhotoRules(min_bytes=len(photo) + 1024)
    [too_small] = reasons(check_photo(photo, tight))
    assert too_small.startswith("照片文件过小（") and too_small.endswith("KB")
    [too_large] = reasons(check_photo(photo, PhotoRules(max_bytes=len(photo) - 1024)))
    assert too_large.startswith("照片文件过大（")


def test_a_black_and_white_photo_is_refused() -> None:
    grey = Image.open(io.BytesIO(demo_portrait(1))).convert("L")
    assert reasons(check_photo(encode(grey, quality=95))) == [
        "照片颜色模式应为 RGB（24 位真彩色），实际为 L"
    ]


@pytest.mark.parametrize("data", [b"not a picture at all", b"%PDF-1.7\n"])
def test_a_file_that_is_not_a_picture_is_refused(data: bytes) -> None:
    assert reasons(check_photo(data)) == ["文件不是图片，或图片格式无法识别"]


def test_an_empty_upload_is_refused() -> None:
    assert reasons(check_photo(b"")) == ["照片文件为空"]


def test_a_truncated_jpeg_is_reported_as_damaged() -> None:
    photo = demo_portrait(1)
    cut = photo[: len(photo) * 2 // 3]
    assert "照片文件已损坏，无法完整读取" in reasons(check_photo(cut, PhotoRules(min_bytes=0)))


def test_normalising_strips_exif_and_the_gps_position() -> None:
    portrait = Image.open(io.BytesIO(demo_portrait(1)))
    uploaded = encode(portrait, quality=92, exif=camera_exif(), comment=b"taken at home")
    before = Image.open(io.BytesIO(uploaded))
    assert before.getexif()[ExifTags.Base.Make] == "PhoneMaker"
    assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)

    cleaned = normalise_photo(uploaded)
    after = Image.open(io.BytesIO(cleaned))
    assert len(after.getexif()) == 0
    assert (
        b"Exif" not in cleaned and b"PhoneMaker" not in cleaned and b"taken at home" not in cleaned
    )
    assert "icc_profile" not in after.info and "comment" not in after.info
    assert check_photo(cleaned) == []


def test_normalising_turns_a_photo_upright_before_dropping_its_orientation() -> None:
    upright = Image.open(io.BytesIO(demo_portrait(1))).convert("RGB")
    stored_sideways = upright.transpose(Image.Transpose.ROTATE_270)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 8  # viewers turn it 90 degrees anticlockwise
    uploaded = encode(stored_sideways, quality=95, exif=exif)
    cleaned = Image.open(io.BytesIO(normalise_photo(uploaded))).convert("RGB")
    assert cleaned.size == (358, 441)
    difference = ImageStat.Stat(ImageChops.difference(cleaned, upright)).mean
    assert max(difference) < 4


def test_normalising_something_that_is_not_a_picture_raises() -> None:
    with pytest.raises(ValueError, match="不是图片"):
        normalise_photo(b"plain text")
