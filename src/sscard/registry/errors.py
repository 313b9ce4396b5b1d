from sscard.errors import Conflict, NotFound, PermissionDenied, SSCardError


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


class EmployerNotFound(NotFound):
    code = "employer_not_found"


class EmployerExists(Conflict):
    code = "employer_exists"


class CommunityNotFound(NotFound):
    code = "community_not_found"


class CommunityExists(Conflict):
    code = "community_exists"


class PhotoNotFound(NotFound):
    code = "photo_not_found"

    def __init__(self) -> None:
        super().__init__("该人员尚未上传照片")


class ImportJobNotFound(NotFound):
    code = "import_job_not_found"


class ImportFileInvalid(SSCardError):
    status_code = 422
    code = "import_file_invalid"


class ImportJobBusy(Conflict):
    code = "import_job_busy"
