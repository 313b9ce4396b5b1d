"""Scenarios and terminals: the catalogue, terminal credentials, what a scenario may see.

A terminal authenticates with a bearer token (``stt_...``) issued once; the platform keeps
its SM3 hash. Resolved terminals are cached for a few seconds (a bounded
:class:`sscard.kit.cache.TTLCache`) so that a busy scanner does not cost a query per code;
disabling a terminal or rotating its token empties the cache at once.
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from sscard.crypto import primitives
from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import service as iam_service
from sscard.kit.cache import TTLCache
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

_terminals: TTLCache[str, tuple[Actor, str]] = TTLCache(max_entries=10_000, ttl=CACHE_SECONDS)
"""Resolved terminals by token hash: (the terminal as an actor, its scenario code)."""


def scenario_out(scenario: Scenario) -> ScenarioOut:
    return ScenarioOut(
        code=scenario.code,
        name=scenario.name,
        level=scenario.level,
        disclosure=list(scenario.disclosure),
    )


def get_scenario(session: Session, *, code: str) -> Scenario:
    """The scenario with ``code``, or ScenarioNotFound."""
    found = repository.scenario(session, code)
    if found is None:
        raise ScenarioNotFound(f"场景 {code} 不存在")
    return found


def disclosure_of(session: Session, *, code: str) -> list[str]:
    """What a terminal of the scenario may see of a cardholder, or ScenarioNotFound."""
    return list(get_scenario(session, code=code).disclosure)


def list_scenarios(session: Session) -> list[ScenarioOut]:
    """Every scenario with what it may see."""
    return [scenario_out(s) for s in repository.scenarios(session)]


def upsert_scenario(session: Session, *, data: ScenarioIn) -> ScenarioOut:
    """Create a scenario or change what it may see."""
    unknown = catalog.unknown_attributes(data.disclosure)
    if unknown:
        raise ValidationFailed([FieldProblem("disclosure", f"未知的信息项：{'、'.join(unknown)}")])
    found = repository.scenario(session, data.code) or Scenario(code=data.code, created_at=utcnow())
    found.name, found.level, found.disclosure = data.name, data.level, list(data.disclosure)
    repository.save(session, found)
    return scenario_out(found)


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
        code=terminal.code,
        name=terminal.name,
        institution_code=terminal.institution_code,
        scenario_code=terminal.scenario_code,
        status=terminal.status,
        created_at=terminal.created_at,
    )


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
        code=data.code,
        name=data.name,
        institution_code=data.institution_code,
        scenario_code=data.scenario_code,
        status="active",
        token_hash=_hash(token),
        created_at=now,
        updated_at=now,
    )
    repository.save(session, terminal)
    return TerminalToken(terminal=terminal_out(terminal), token=token)


def rotate_terminal_token(session: Session, *, code: str) -> TerminalToken:
    """Issue a new token for a terminal; the old one stops working."""
    terminal = get_terminal(session, code=code)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    terminal.token_hash, terminal.updated_at = _hash(token), utcnow()
    forget_cache()
    return TerminalToken(terminal=terminal_out(terminal), token=token)


def set_terminal_status(session: Session, *, code: str, status: str) -> TerminalOut:
    """Disable or re-enable a terminal."""
    terminal = get_terminal(session, code=code)
    terminal.status, terminal.updated_at = status, utcnow()
    forget_cache()
    return terminal_out(terminal)


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
    """Whether a bearer token is a terminal's (by its prefix)."""
    return raw.startswith(TOKEN_PREFIX)


def _load_terminal(session: Session, digest: str) -> tuple[Actor, str]:
    terminal = repository.terminal_by_token(session, digest)
    if terminal is None or terminal.status != "active":
        raise TerminalTokenInvalid()
    inst = iam_service.get_institution(session, code=terminal.institution_code)
    actor = Actor(
        kind=ActorKind.terminal,
        id=terminal.code,
        name=terminal.name,
        institution_id=inst.id,
        institution_code=inst.code,
        institution_type=inst.type,
        region_code=inst.region_code,
        permissions=frozenset({VERIFY_PERMISSION}),
    )
    return actor, terminal.scenario_code


def resolve_terminal(session: Session, *, raw: str) -> tuple[Actor, str]:
    """(the terminal as an actor, its scenario code) for a bearer token, or 401."""
    digest = _hash(raw)
    return _terminals.get_or_load(digest, lambda: _load_terminal(session, digest))


def forget_cache() -> None:
    """Drop the resolved-terminal cache (tests, or after restoring a database)."""
    _terminals.clear()
