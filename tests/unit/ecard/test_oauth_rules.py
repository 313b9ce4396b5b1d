"""The pure rules of online authorisation: scopes, PKCE (RFC 7636), redirect URIs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.ecard.oauth import rules as oauth_rules
from sscard.ecard.oauth.errors import OAuthError

RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_the_s256_challenge_matches_the_example_of_rfc_7636() -> None:
    assert oauth_rules.s256(RFC7636_VERIFIER) == RFC7636_CHALLENGE
    assert oauth_rules.verifier_matches(RFC7636_VERIFIER, RFC7636_CHALLENGE)
    assert not oauth_rules.verifier_matches(RFC7636_VERIFIER[:-1] + "l", RFC7636_CHALLENGE)


def test_a_verifier_must_be_43_to_128_unreserved_characters() -> None:
    short = "a" * 42
    assert not oauth_rules.verifier_matches(short, oauth_rules.s256(short))
    spaced = "a" * 42 + " "
    assert not oauth_rules.verifier_matches(spaced, oauth_rules.s256(spaced))
    longest = "~" * 128
    assert oauth_rules.verifier_matches(longest, oauth_rules.s256(longest))
    assert not oauth_rules.verifier_matches(longest + "a", oauth_rules.s256(longest + "a"))


@given(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~",
        min_size=43,
        max_size=128,
    )
)
def test_every_wellformed_verifier_matches_only_its_own_challenge(verifier: str) -> None:
    assert oauth_rules.verifier_matches(verifier, oauth_rules.s256(verifier))
    assert oauth_rules.challenge_problem(oauth_rules.s256(verifier), "S256") is None
    assert not oauth_rules.verifier_matches(verifier, oauth_rules.s256(verifier + "x"))


def test_only_s256_challenges_are_accepted() -> None:
    assert oauth_rules.challenge_problem(RFC7636_CHALLENGE, "S256") is None
    assert oauth_rules.challenge_problem(None, "S256") == "须提供 PKCE 参数 code_challenge"
    assert (
        oauth_rules.challenge_problem(RFC7636_CHALLENGE, "plain")
        == "code_challenge_method 须为 S256"
    )
    assert (
        oauth_rules.challenge_problem(RFC7636_CHALLENGE, None) == "code_challenge_method 须为 S256"
    )
    assert oauth_rules.challenge_problem("too-short", "S256") is not None


def test_scopes_are_known_in_order_and_within_what_the_client_may_ask() -> None:
    assert oauth_rules.parse_scope("card profile card") == ["card", "profile"]
    with pytest.raises(OAuthError) as unknown:
        oauth_rules.parse_scope("profile email")
    assert (unknown.value.code, unknown.value.redirectable) == ("invalid_scope", True)
    with pytest.raises(OAuthError):
        oauth_rules.parse_scope("  ")
    assert oauth_rules.allowed_scopes(["profile"], ["profile", "card"]) == ["profile"]
    with pytest.raises(OAuthError) as refused:
        oauth_rules.allowed_scopes(["identity"], ["profile"])
    assert refused.value.code == "invalid_scope" and "identity" in refused.value.message


def test_redirect_uris_are_absolute_https_without_fragments() -> None:
    ok = oauth_rules.redirect_uri_problem
    assert ok("https://bank.example.cn/cb", production=True) is None
    assert ok("http://127.0.0.1:8080/cb", production=False) is None
    assert ok("http://localhost/cb", production=True) is not None
    assert ok("http://bank.example.cn/cb", production=False) is not None
    assert ok("https://bank.example.cn/cb#x", production=False) is not None
    assert ok("/relative/cb", production=False) is not None
    assert ok("javascript:alert(1)", production=False) is not None


def test_parameters_are_added_to_the_redirect_uri_keeping_its_own() -> None:
    assert (
        oauth_rules.with_params(
            "https://a.example/cb?x=1", {"code": "oac_1", "state": "s p", "y": None}
        )
        == "https://a.example/cb?x=1&code=oac_1&state=s+p"
    )


def test_client_errors_are_401_and_the_rest_400() -> None:
    assert OAuthError("invalid_client", "x").status_code == 401
    assert OAuthError("invalid_token", "x").status_code == 401
    assert OAuthError("invalid_grant", "x").status_code == 400
    assert OAuthError("invalid_client", "x", status_code=400).status_code == 400
