"""Opaque bearer tokens: a visible prefix and 32 random bytes; only their SM3 hash is stored."""

from __future__ import annotations

import secrets

from sscard.crypto import primitives

TOKEN_PREFIX = "sst_"  # noqa: S105 - a visible prefix, not a secret


def new_raw_token() -> str:
    """A fresh token as handed to the client (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(raw: str) -> str:
    """What the database keeps of a token: its SM3 digest, hex."""
    return primitives.sm3(raw.encode()).hex()
