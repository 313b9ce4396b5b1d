from sscard.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, SSCardError


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("用户名或密码错误")


class AccountLocked(SSCardError):
    status_code = 423
    code = "account_locked"


class AccountDisabled(NotAuthenticated):
    code = "account_disabled"

    def __init__(self) -> None:
        super().__init__("账户已停用，请联系管理员")


class TokenInvalid(NotAuthenticated):
    code = "token_invalid"


class TokenExpired(NotAuthenticated):
    code = "token_expired"

    def __init__(self) -> None:
        super().__init__("登录已过期，请重新登录")


class TokenRevoked(NotAuthenticated):
    code = "token_revoked"

    def __init__(self) -> None:
        super().__init__("登录凭证已注销，请重新登录")


class MissingPermission(PermissionDenied):
    def __init__(self, permission: str) -> None:
        super().__init__(f"当前账户没有“{permission}”权限")
        self.permission = permission


class InstitutionNotFound(NotFound):
    code = "institution_not_found"


class OperatorNotFound(NotFound):
    code = "operator_not_found"


class ChannelNotFound(NotFound):
    code = "channel_not_found"


class RoleNotFound(NotFound):
    code = "role_not_found"


class DuplicateCode(Conflict):
    code = "duplicate"


class WeakPassword(SSCardError):
    status_code = 422
    code = "weak_password"
