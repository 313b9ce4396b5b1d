"""Errors of the person use cases (status and stable code each)."""

from sscard.errors import Conflict, NotFound, PermissionDenied


class PersonNotFound(NotFound):
    code = "person_not_found"

    def __init__(self) -> None:
        super().__init__("未找到该人员（或不在本机构服务区域内）")


class PersonExists(Conflict):
    code = "person_exists"


class StaleVersion(Conflict):
    code = "stale_version"

    def __init__(self) -> None:
        super().__init__("该人员信息已被他人修改，请刷新后重试")


class PersonDeceasedAlready(Conflict):
    code = "person_deceased"


class OutOfRegion(PermissionDenied):
    code = "out_of_region"
