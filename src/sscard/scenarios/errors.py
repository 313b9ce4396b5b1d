from sscard.errors import Conflict, NotAuthenticated, NotFound


class ScenarioNotFound(NotFound):
    code = "scenario_not_found"


class TerminalNotFound(NotFound):
    code = "terminal_not_found"


class TerminalExists(Conflict):
    code = "terminal_exists"


class TerminalTokenInvalid(NotAuthenticated):
    code = "terminal_token_invalid"

    def __init__(self) -> None:
        super().__init__("终端凭证无效或终端已停用")
