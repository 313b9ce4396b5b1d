"""Scenarios and terminals: the catalogue, terminal credentials, what a scenario may see.

A terminal authenticates with a bearer token (``stt_...``) issued once; the platform keeps
its SM3 hash. Resolved terminals are cached for a few seconds so that a busy scanner does
not cost a query per code; disabling a terminal takes effect within that time.
"""

from __future__ import annotations

import secrets
import threading
import time

from sqlalchemy.orm import Session

from sscard.crypto import primitives
from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import service as iam_service
from sscard.kit.context import Actor, ActorKind
from sscard.scenarios import catalog, repository
from sscard.scenarios.errors import (
    ScenarioNotFound,
    TerminalExists,
    TerminalNotFound,
    TerminalTokenInvalid,
)
from sscard.scenarios.models import Scenario, Terminal
from sscard.scenarios.schemas import ScenarioIn, ScenarioOut, TerminalIn, TerminalOut, TerminalToken

TOKEN_PREFIX = "stt_"  # noqa: S105 - a visible prefix, not a secret
CACHE_SECONDS = 5.0
VERIFY_PERMISSION = "ecard.verify"

_cache: dict[str, tuple[float, Actor, str]] = {}
_lock = threading.Lock()


def scenario_out(scenario: Scenario) -> ScenarioOut:
    return ScenarioOut(
        code=scenario.code, name=scenario.name, level=scenario.level,
        disclosure=list(scenario.disclosure),
    )  # fmt: skip


def get_scenario(session: Session, *, code: str) -> Scenario:
    """The scenario with ``code``, or ScenarioNotFound."""
    found = repository.scenario(session, code)
    if found is None:
        raise ScenarioNotFound(f"场景 {code} 不存在")
    return found


def list_scenarios(session: Session) -> list[ScenarioOut]:
    """Every scenario with what it may see."""
    return [scenario_out(s) for s in repository.scenarios(session)]


def upsert_scenario(session: Session, *, data: ScenarioIn) -> Scenario:
    """Create a scenario or change what it may see."""
    unknown = catalog.unknown_attributes(data.disclosure)
    if unknown:
        raise ValidationFailed([FieldProblem("disclosure", f"未知的信息项：{'、'.join(unknown)}")])
    found = repository.scenario(session, data.code) or Scenario(code=data.code, created_at=utcnow())
    found.name, found.level, found.disclosure = data.name, data.level, list(data.disclosure)
    session.add(found)
    session.flush()
    return found


def ensure_default_scenarios(session: Session) -> int:
    """Create the default scenarios that are missing; how many were created."""
    created = 0
    for code, name, level, disclosure in catalog.DEFAULT_SCENARIOS:
        if repository.scenario(session, code) is None:
            upsert_scenario(
                session, data=ScenarioIn(code=code, name=name, level=level, disclosure=disclosure)
            )
            created += 1
    return created


def terminal_out(terminal: Terminal) -> TerminalOut:
    return TerminalOut(
        code=terminal.code, name=terminal.name, institution_code=terminal.institution_code,
        scenario_code=terminal.scenario_code, status=terminal.status,
        created_at=terminal.created_at,
    )  # fmt: skip


def _hash(token: str) -> str:
    return primitives.sm3(token.encode()).hex()


def register_terminal(session: Session, *, data: TerminalIn) -> TerminalToken:
    """Register a terminal and issue its token (shown once)."""
    if repository.terminal(session, data.code) is not None:
        raise TerminalExists(f"终端 {data.code} 已存在", fields=[FieldProblem("code", "已存在")])
    iam_service.get_institution(session, code=data.institution_code)
    get_scenario(session, code=data.scenario_code)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    terminal = Terminal(
        code=data.code, name=data.name, institution_code=data.institution_code,
        scenario_code=data.scenario_code, status="active", token_hash=_hash(token),
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(terminal)
    session.flush()
    return TerminalToken(terminal=terminal_out(terminal), token=token)


def rotate_terminal_token(session: Session, *, code: str) -> TerminalToken:
    """Issue a new token for a terminal; the old one stops working."""
    terminal = get_terminal(session, code=code)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    terminal.token_hash, terminal.updated_at = _hash(token), utcnow()
    _forget()
    return TerminalToken(terminal=terminal_out(terminal), token=token)


def set_terminal_status(session: Session, *, code: str, status: str) -> Terminal:
    """Disable or re-enable a terminal."""
    terminal = get_terminal(session, code=code)
    terminal.status, terminal.updated_at = status, utcnow()
    _forget()
    return terminal


def get_terminal(session: Session, *, code: str) -> Terminal:
    """The terminal with ``code``, or TerminalNotFound."""
    found = repository.terminal(session, code)
    if found is None:
        raise TerminalNotFound(f"终端 {code} 不存在")
    return found


def list_terminals(session: Session, *, institution_code: str | None = None) -> list[TerminalOut]:
    """Terminals, optionally of one institution."""
    return [terminal_out(t) for t in repository.terminals(session, institution_code)]


def is_terminal_token(raw: str) -> bool:
    return raw.startswith(TOKEN_PREFIX)


def resolve_terminal(session: Session, *, raw: str) -> tuple[Actor, str]:
    """(the terminal as an actor, its scenario code) for a bearer token, or 401."""
    digest = _hash(raw)
    now = time.monotonic()
    hit = _cache.get(digest)
    if hit is not None and hit[0] > now:
        return hit[1], hit[2]
    terminal = repository.terminal_by_token(session, digest)
    if terminal is None or terminal.status != "active":
        raise TerminalTokenInvalid()
    inst = iam_service.get_institution(session, code=terminal.institution_code)
    actor = Actor(
        kind=ActorKind.terminal, id=terminal.code, name=terminal.name,
        institution_id=inst.id, institution_code=inst.code, institution_type=inst.type,
        region_code=inst.region_code, permissions=frozenset({VERIFY_PERMISSION}),
    )  # fmt: skip
    with _lock:
        _cache[digest] = (now + CACHE_SECONDS, actor, terminal.scenario_code)
    return actor, terminal.scenario_code


def _forget() -> None:
    with _lock:
        _cache.clear()


def forget_cache() -> None:
    """Drop the resolved-terminal cache (tests, or after restoring a database)."""
    _forget()
