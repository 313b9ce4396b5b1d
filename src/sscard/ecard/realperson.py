"""Real-person checks (实人核验) when an e-card is signed: a pluggable interface.

Three methods ship:

- ``counter``: a clerk at a counter looked at the holder and the ID document (the
  operator's confirmation is the check; audited with the operator).
- ``demo``: deterministic, for development and tests: the image must be the person's own
  registry photo (byte for byte). Refused in production.
- ``face``: a real face-verification service, configured with ``SSCARD_FACE_VERIFIER`` =
  ``package.module:callable``; the callable receives the live image and the registry photo
  (JPEG bytes) and returns a similarity score in [0, 1]; 0.8 or more passes. See
  docs/ecard.md for how a vendor's SDK plugs in.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from sscard.settings import get_settings

PASS_SCORE = 0.8
FaceService = Callable[[bytes, bytes], float]


class RealPersonFailed(Exception):
    """The holder could not be seen to be the registered person (reason in Chinese)."""


def _face_service() -> FaceService:
    target = get_settings().face_verifier
    if not target or ":" not in target:
        raise RealPersonFailed("未配置人脸核验服务（SSCARD_FACE_VERIFIER）")
    module, _, name = target.partition(":")
    service: FaceService = getattr(importlib.import_module(module), name)
    return service


def check(method: str, *, image: bytes | None, photo: bytes | None, operator: bool) -> None:
    """Raise RealPersonFailed unless ``method`` shows the holder is the registered person."""
    if method == "counter":
        if not operator:
            raise RealPersonFailed("柜台核验须由窗口工作人员办理")
        return
    if image is None or photo is None:
        raise RealPersonFailed("缺少人脸图像或登记照片")
    if method == "demo":
        if get_settings().is_production:
            raise RealPersonFailed("演示核验方式不能在生产环境使用")
        if image != photo:
            raise RealPersonFailed("人脸与登记照片不一致")
        return
    if method == "face":
        if _face_service()(image, photo) < PASS_SCORE:
            raise RealPersonFailed("人脸核验未通过")
        return
    raise RealPersonFailed(f"未知的实人核验方式 {method}")
