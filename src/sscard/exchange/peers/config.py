"""How to reach each peer: base URL, timeouts, retries and (optionally) mutual TLS.

The base URLs and the read timeout are read from the platform's settings, as always
(``SSCARD_PROVINCE_URL``, ``SSCARD_BANK_URLS``, ``SSCARD_TRANSPORT_URL``,
``SSCARD_PEER_TIMEOUT_SECONDS``). The rest comes from these variables:

``SSCARD_PEER_CONNECT_TIMEOUT_SECONDS``
    how long to wait for a connection (default: the read timeout).
``SSCARD_PEER_RETRIES`` / ``SSCARD_PEER_BACKOFF_SECONDS``
    how often a read is tried again after a connection error, a timeout or a
    502/503/504 (default 2), and the first pause (default 0.25 s, doubled each time).
``SSCARD_PEER_TLS``
    JSON, peer -> files for mutual TLS: ``{"province": {"cert": "/etc/sscard/city.crt",
    "key": "/etc/sscard/city.key", "ca": "/etc/sscard/province-ca.pem"}}``. A bank is
    looked up as ``bank:<institution code>``, then ``bank``. ``cert`` and ``key`` are the
    platform's client certificate and its private key (PEM); ``ca`` the bundle that signs
    the peer's server certificate (without it, the system's trusted roots).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sscard.exchange.errors import PeerUnavailable
from sscard.settings import Settings, get_settings


class PeerTLS(BaseModel):
    """Mutual TLS with one peer: our client certificate and key, the peer's CA bundle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None

    @model_validator(mode="after")
    def _cert_with_key(self) -> PeerTLS:
        if (self.cert is None) != (self.key is None):
            raise ValueError("cert and key go together")
        return self


class PeerSettings(BaseSettings):
    """The peer knobs that the platform's settings do not carry (see the module docstring)."""

    model_config = SettingsConfigDict(
        env_prefix="SSCARD_PEER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    connect_timeout_seconds: float | None = Field(default=None, gt=0)
    retries: int = Field(default=2, ge=0, le=5)
    backoff_seconds: float = Field(default=0.25, ge=0, le=10)
    tls: dict[str, PeerTLS] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Peer:
    """One peer as the client reaches it."""

    name: str
    """``bank``, ``province`` or ``transport``: names the error codes (``bank_refused``)."""
    title: str
    """How messages name it: ``合作银行 BANK-ICBC``, ``省卡管``."""
    base_url: str
    connect_timeout: float
    read_timeout: float
    retries: int
    backoff: float
    label: str
    """How log lines and ``SSCARD_PEER_TLS`` name it: ``bank:BANK-ICBC``, ``province``."""
    tls: PeerTLS | None = None


_cached: tuple[Settings, PeerSettings] | None = None


def peer_settings() -> PeerSettings:
    """The peer settings, read again whenever the platform's settings are (``reset_settings``)."""
    global _cached
    main = get_settings()
    cached = _cached
    if cached is None or cached[0] is not main:
        cached = _cached = (main, PeerSettings())
    return cached[1]


URL_SETTINGS = {
    "province": "SSCARD_PROVINCE_URL",
    "bank": "SSCARD_BANK_URLS",
    "transport": "SSCARD_TRANSPORT_URL",
    "medical": "SSCARD_MEDICAL_URL",
}
"""The setting that gives each kind of peer its address (named when it is missing)."""


def peer(name: str, title: str, base_url: str | None, *, instance: str | None = None) -> Peer:
    """The peer ``name`` (one of its kind: ``instance``, a bank's code) at ``base_url``, with
    the timeouts, retries and TLS configured.

    Without an address the peer cannot be reached: ``PeerUnavailable`` (503) naming the
    setting to fill in, never a 500."""
    if not base_url or not base_url.strip():
        setting = URL_SETTINGS.get(name, f"SSCARD_{name.upper()}_URL")
        gap = " " if title[-1:].isascii() and title[-1:].isalnum() else ""
        raise PeerUnavailable(name, f"未配置{title}{gap}的地址（{setting}）")
    extra = peer_settings()
    read = get_settings().peer_timeout_seconds
    label = f"{name}:{instance}" if instance else name
    tls = extra.tls.get(label) or extra.tls.get(name)
    return Peer(
        name=name,
        title=title,
        base_url=base_url.rstrip("/"),
        connect_timeout=extra.connect_timeout_seconds or read,
        read_timeout=read,
        retries=extra.retries,
        backoff=extra.backoff_seconds,
        label=label,
        tls=tls,
    )


def ssl_context(tls: PeerTLS, peer_name: str = "peer") -> ssl.SSLContext:
    """A client TLS context presenting our certificate and trusting the peer's CA bundle.

    Files that cannot be read leave the peer unreachable: ``PeerUnavailable`` (503) naming
    ``SSCARD_PEER_TLS``."""
    try:
        context = ssl.create_default_context(cafile=str(tls.ca) if tls.ca else None)
        if tls.cert is not None and tls.key is not None:
            context.load_cert_chain(str(tls.cert), str(tls.key))
    except (OSError, ssl.SSLError) as exc:
        raise PeerUnavailable(
            peer_name,
            f"对端系统的 TLS 证书或密钥无法读取（SSCARD_PEER_TLS）：{type(exc).__name__}",
        ) from exc
    return context
