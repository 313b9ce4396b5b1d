from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{2,32}$")]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioIn(Input):
    code: Code
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
    level: int = Field(ge=1, le=3)
    disclosure: list[str] = Field(min_length=1, max_length=20)


class ScenarioOut(BaseModel):
    code: str
    name: str
    level: int
    disclosure: list[str]


class TerminalIn(Input):
    code: Code
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
    institution_code: Code
    scenario_code: Code


class TerminalOut(BaseModel):
    code: str
    name: str
    institution_code: str
    scenario_code: str
    status: str
    created_at: datetime


class TerminalToken(BaseModel):
    terminal: TerminalOut
    token: str
    """Shown once; only its hash is kept."""
