"""What the key store shows and returns. Never private keys, data keys or secrets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class KeyVersionInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    status: str
    created_at: datetime
    activated_at: datetime | None = None
    retired_at: datetime | None = None
    revoked_at: datetime | None = None
    public_key_pem: str | None = None
    fingerprint: str | None = None
    """SM3 of the public key (SM2 kinds), first 8 bytes in hex."""


class KeyInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    description: str
    demo: bool
    created_at: datetime
    active_version: int | None
    versions: list[KeyVersionInfo]


@dataclass(frozen=True, slots=True)
class Signature:
    """An SM2 signature (DER) and the key version that made it."""

    key: str
    version: int
    signature: bytes


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of a verification; true when some non-revoked version accepted it."""

    valid: bool
    version: int | None = None

    def __bool__(self) -> bool:
        return self.valid


@dataclass(frozen=True, slots=True)
class DerivedKey:
    """A key derived from a ``secret`` key's version; the version lets verifiers re-derive."""

    name: str
    version: int
    key: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ReencryptReport:
    """Counts of one re-encryption run of a table (cumulative over resumed runs)."""

    table: str
    data_key_version: int
    index_key_version: int | None
    rows_scanned: int
    rows_updated: int
    chunks: int
    resumed: bool
    finished: bool
    last_pk: str | None
