"""The hash chain, as pure functions.

Design overview: entry *n* of a chain stores ``prev_hash`` (entry *n-1*'s hash, or 64
zeros for the first) and ``entry_hash = SM3(prev_hash || canonical(entry))``, where
``canonical`` is a JSON rendering of every stored field except the hashes, with sorted keys
and no spaces. Editing any field breaks that entry's hash; deleting or reordering rows
breaks the ``seq`` run or the ``prev_hash`` links; deleting the newest rows is caught by the
chain's head row, which keeps the tip (``sscard audit anchor`` prints the tips for keeping
elsewhere).

Parallel chains: appending locks the chain's head row until the transaction commits, so
one chain admits one writer at a time. A busy platform (thousands of audited verifications
a second) spreads its units of work over several chains (``SSCARD_AUDIT_CHAINS``; 1 on
SQLite, which has one writer anyway, 16 on PostgreSQL); each chain is verified on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sscard.crypto import primitives

GENESIS = "0" * 64

HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "recorded_at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "institution_code",
    "action",
    "subject_type",
    "subject_id",
    "subject_display",
    "fields",
    "purpose",
    "request_id",
    "client_ip",
    "channel",
    "outcome",
    "detail",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value


def canonical(entry: Mapping[str, Any]) -> bytes:
    body = {name: _plain(entry.get(name)) for name in HASHED_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    return primitives.sm3(prev_hash.encode() + canonical(entry)).hex()


@dataclass(frozen=True, slots=True)
class Break:
    """The first place the chain does not hold."""

    seq: int | None
    entry_id: int | None
    reason: str


def verify(entries: Iterable[Mapping[str, Any]], *, head: Mapping[str, Any] | None) -> Break | None:
    """Walk entries in ``seq`` order; return the first break, or None if the chain holds."""
    expected_seq = 1
    prev = GENESIS
    for entry in entries:
        seq = int(entry["seq"])
        if seq != expected_seq:
            missing = "missing" if seq > expected_seq else "out of order"
            return Break(expected_seq, entry.get("id"), f"entry {expected_seq} is {missing}")
        if entry["prev_hash"] != prev:
            return Break(seq, entry.get("id"), "its link to the previous entry does not match")
        if entry_hash(prev, entry) != entry["entry_hash"]:
            return Break(seq, entry.get("id"), "its content was changed after it was written")
        prev = entry["entry_hash"]
        expected_seq += 1
    last = expected_seq - 1
    if head is not None and (int(head["seq"]) != last or head["entry_hash"] != prev):
        if int(head["seq"]) > last:
            return Break(last + 1, None, f"entries {last + 1}..{head['seq']} were deleted")
        return Break(last, None, "the chain tip does not match the recorded head")
    return None
