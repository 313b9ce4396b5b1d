"""Errors of the card photo use cases."""

from sscard.errors import NotFound


class PhotoNotFound(NotFound):
    code = "photo_not_found"

    def __init__(self) -> None:
        super().__init__("该人员尚未上传照片")
