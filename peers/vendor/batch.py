"""Routes of this peer (see docs/peers.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
