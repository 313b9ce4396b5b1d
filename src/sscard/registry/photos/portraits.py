"""Demo portraits: deterministic head-and-shoulders placeholders that pass the photo rules."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter

from sscard.registry.photos.rules import DEFAULT_RULES, DPI, QUALITY

_BACKGROUNDS = ((214, 232, 248), (226, 240, 226), (245, 236, 222), (232, 226, 244))
_SKIN = ((240, 204, 178), (226, 185, 150), (198, 150, 115), (250, 218, 196))
_HAIR = ((30, 26, 24), (58, 42, 32), (92, 70, 50), (150, 150, 150))
_CLOTHES = ((40, 56, 96), (30, 30, 36), (70, 40, 50), (36, 70, 60))


def _draw_figure(draw: ImageDraw.ImageDraw, rng: random.Random, gender: str) -> None:
    """Shoulders, neck, head and hair of a head-and-shoulders silhouette."""
    w, h = 358, 441
    skin, hair, clothes = rng.choice(_SKIN), rng.choice(_HAIR), rng.choice(_CLOTHES)
    cx, top = w // 2 + rng.randint(-6, 6), 52 + rng.randint(-6, 6)
    head_w, head_h = 150 + rng.randint(-8, 8), 190 + rng.randint(-8, 8)
    draw.ellipse((cx - 175, 300, cx + 175, h + 200), fill=clothes)
    draw.rectangle((cx - 32, top + head_h - 30, cx + 32, 320), fill=skin)
    long_hair = gender == "2"
    if long_hair:
        draw.rounded_rectangle(
            (cx - head_w // 2 - 14, top - 6, cx + head_w // 2 + 14, top + head_h + 40),
            radius=50,
            fill=hair,
        )
    draw.ellipse((cx - head_w // 2, top, cx + head_w // 2, top + head_h), fill=skin)
    draw.chord(
        (cx - head_w // 2 - 4, top - 12, cx + head_w // 2 + 4, top + head_h // 2 + 10),
        start=180,
        end=360,
        fill=hair,
    )
    eye_y = top + head_h * 9 // 20
    for dx in (-head_w // 5, head_w // 5):
        draw.ellipse((cx + dx - 6, eye_y - 4, cx + dx + 6, eye_y + 4), fill=(40, 34, 30))
    mouth_y = top + head_h * 3 // 4
    draw.arc((cx - 18, mouth_y - 10, cx + 18, mouth_y + 8), start=20, end=160, fill=(150, 80, 80))


def demo_portrait(seed: int, *, gender: str = "1") -> bytes:
    """A deterministic placeholder portrait: a JPEG that passes the default rules."""
    rng = random.Random(f"portrait:{seed}")  # noqa: S311 - demo pictures, not secrets
    size = (DEFAULT_RULES.width, DEFAULT_RULES.height)
    image = Image.new("RGB", size, rng.choice(_BACKGROUNDS))
    _draw_figure(ImageDraw.Draw(image), rng, gender)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    grain = Image.frombytes("L", size, rng.randbytes(size[0] * size[1])).convert("RGB")
    image = Image.blend(image, grain, 0.06)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, dpi=(DPI, DPI))
    return out.getvalue()
