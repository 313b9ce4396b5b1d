"""The pure rules of online authorisation (no database): scopes, PKCE S256 (RFC 7636),
redirect URIs and the query parameters sent back to a client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sscard.ecard.oauth.errors import OAuthError
from sscard.ecard.oauth.schemas import ScopeOut

SCOPES: dict[str, str] = {
    "profile": "姓名（脱敏）",
    "identity": "姓名和身份证件号码",
    "card": "社会保障卡卡号和卡状态",
    "insurance": "参保信息",
}
"""What a client may ask for, as the consent page names it."""

_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


def parse_scope(text: str | None) -> list[str]:
    """Space-separated scopes, each known, in order, without repeats."""
    names = list(dict.fromkeys((text or "").split()))
    unknown = [n for n in names if n not in SCOPES]
    if unknown:
        raise OAuthError(
            "invalid_scope", f"不支持的授权范围：{' '.join(unknown)[:100]}", redirectable=True
        )
    if not names:
        raise OAuthError("invalid_scope", "未指明授权范围（scope）", redirectable=True)
    return names


def allowed_scopes(requested: list[str], allowed: list[str]) -> list[str]:
    """``requested`` when the client may ask for all of it, else invalid_scope."""
    refused = [s for s in requested if s not in allowed]
    if refused:
        raise OAuthError(
            "invalid_scope", f"该应用无权申请授权范围：{' '.join(refused)}", redirectable=True
        )
    return requested


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier: BASE64URL(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def verifier_matches(verifier: str, challenge: str) -> bool:
    """Whether ``verifier`` is well formed (RFC 7636: 43-128 unreserved) and hashes to
    ``challenge``."""
    if not _VERIFIER.fullmatch(verifier):
        return False
    return hmac.compare_digest(s256(verifier), challenge)


def challenge_problem(challenge: str | None, method: str | None) -> str | None:
    """Why a PKCE challenge is unacceptable (None when it is fine): S256 only."""
    if not challenge:
        return "须提供 PKCE 参数 code_challenge"
    if (method or "plain") != "S256":
        return "code_challenge_method 须为 S256"
    if not _CHALLENGE.fullmatch(challenge):
        return "code_challenge 格式不正确（43 位 BASE64URL）"
    return None


def redirect_uri_problem(uri: str, *, production: bool) -> str | None:
    """Why ``uri`` cannot be registered (None when it can): absolute https, no fragment;
    plain http only for this machine outside production."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "不是有效的网址"
    if parts.fragment or "#" in uri:
        return "回调地址不能包含 #片段"
    if not parts.netloc or parts.scheme not in ("https", "http"):
        return "回调地址须为完整的 https 网址"
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme == "http" and (production or not local):
        return "回调地址须使用 https（仅开发环境的本机地址可用 http）"
    return None


def with_params(uri: str, params: Mapping[str, str | None]) -> str:
    """``uri`` with ``params`` added to its query (the ones already there kept)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def scope_list(scopes: list[str]) -> list[ScopeOut]:
    """The scopes as the consent page names them."""
    return [ScopeOut(scope=s, description=SCOPES[s]) for s in scopes]
