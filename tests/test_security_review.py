"""Regression tests for the security review: each test failed before its fix.

* a wildcard redirect URI could be escaped with dot segments (``/cb/*`` accepted ``/cb/..``);
* a provider's odd-but-legal JSON (a lone surrogate in ``nonce``, a non-ASCII access token) crashed the
  relying party with ``UnicodeEncodeError`` (a 500 in the demo app) instead of refusing the login;
* ``verify_token`` handed out the verifier's cached header, so a caller changing it changed later results;
* a NaN leeway or clock made every time check pass (expired tokens accepted).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hostile_provider import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, HostileProvider

from altx10_helpers import jws
from altx10_helpers.claims import check_claims
from altx10_helpers.errors import ClaimMismatch, ConfigurationError, Expired, TokenResponseError
from altx10_helpers.idp import match_redirect
from altx10_helpers.idp.app import create_app
from altx10_helpers.idp.keys import demo_key
from altx10_helpers.jwk import JWK, JWKS
from altx10_helpers.oidc import PocketIdClient
from altx10_helpers.oidc.tokens import parse_token_response, validate_id_token

NOW = 1_750_000_000
ISSUER = "https://idp.example"
API_KEY = "security-review-api-key-0123456789"


# -- redirect URIs: a wildcard must not be a way out of the registered path ---------------------------------


@pytest.mark.parametrize(("pattern", "uri"), [
    ("https://app.example/cb/*", "https://app.example/cb/.."),
    ("https://app.example/cb/*", "https://app.example/cb/."),
    ("https://app.example/cb/**", "https://app.example/cb/../../admin/steal"),
    ("https://app.example/cb/**", "https://app.example/cb/x/./../../y"),
    ("https://app.example/cb/*", "https://app.example/cb/%2e%2e"),
    ("https://app.example/cb/*", "https://app.example/cb/%2E."),
    ("https://app.example/cb/*", "https://app.example/cb/a%2F..%2F..%2Fadmin"),
    ("https://app.example/cb/*", "https://app.example/cb/a%5c..%5cadmin"),
    ("https://*.app.example/cb/**", "https://pr-1.app.example/cb/../logout"),
])
def test_wildcard_redirect_refuses_dot_segments_and_encoded_separators(pattern: str, uri: str) -> None:
    assert match_redirect([pattern], uri) is False


@pytest.mark.parametrize(("pattern", "uri"), [
    ("https://app.example/cb/*", "https://app.example/cb/tenant-1"),
    ("https://app.example/cb/*", "https://app.example/cb/.well-known"),  # a name starting with a dot is fine
    ("https://app.example/cb/**", "https://app.example/cb/a/b/c"),
])
def test_wildcard_redirect_still_matches_ordinary_paths(pattern: str, uri: str) -> None:
    assert match_redirect([pattern], uri) is True


def test_authorize_shows_an_error_page_for_a_climbing_redirect_uri() -> None:
    app = create_app(app_url="http://localhost:1411", api_key=API_KEY, key=demo_key(), clock=lambda: NOW)
    http = app.test_client()
    client = http.post("/api/oidc/clients", headers={"X-API-Key": API_KEY},
                       json={"name": "wild", "callbackURLs": ["https://app.example/cb/*"]}).get_json()
    query = {"client_id": client["id"], "response_type": "code", "scope": "openid", "state": "state-123456"}

    good = http.get("/authorize", query_string={**query, "redirect_uri": "https://app.example/cb/tenant"})
    assert good.status_code == 302  # on to sign in: the redirect URI was accepted
    bad = http.get("/authorize", query_string={**query, "redirect_uri": "https://app.example/cb/.."})
    assert bad.status_code == 400
    assert "Location" not in bad.headers
    assert "redirect_uri is not registered" in bad.get_data(as_text=True)


# -- the relying party: unusual provider JSON is refused, never a crash --------------------------------------


@pytest.fixture(scope="module")
def signer() -> tuple[JWK, JWKS]:
    key = JWK.from_key(rsa.generate_private_key(public_exponent=65537, key_size=2048), alg="RS256", kid="k1")
    return key, JWKS([key.public()])


def _id_token(signer: tuple[JWK, JWKS], **claims: object) -> str:
    base = {"iss": ISSUER, "sub": "user-1", "aud": ["client-1"], "exp": NOW + 3600, "iat": NOW}
    return jws.sign({**base, **claims}, signer[0], "RS256")


def _validate(signer: tuple[JWK, JWKS], token: str, **kwargs: object) -> object:
    return validate_id_token(token, keys=signer[1], issuer=ISSUER, client_id="client-1", algorithms=["RS256"],
                             now=NOW, **kwargs)


def test_nonce_with_a_lone_surrogate_is_a_mismatch_not_a_crash(signer: tuple[JWK, JWKS]) -> None:
    token = _id_token(signer, nonce="\ud800-forged-nonce")  # legal JSON: "\ud800" escaped
    with pytest.raises(ClaimMismatch, match="nonce"):
        _validate(signer, token, nonce="the-nonce-we-sent")


def test_at_hash_with_a_non_ascii_access_token_is_a_mismatch_not_a_crash(signer: tuple[JWK, JWKS]) -> None:
    token = _id_token(signer, at_hash="AAAAAAAAAAAAAAAAAAAAAA")
    with pytest.raises(ClaimMismatch, match="at_hash"):
        _validate(signer, token, nonce=None, access_token="t\u00f6k\u00e9n")


@pytest.mark.parametrize("name", ["access_token", "refresh_token"])
def test_token_response_with_non_ascii_tokens_is_refused(name: str) -> None:
    body = {"access_token": "abc", "token_type": "bearer", "id_token": "x.y.z", "refresh_token": "r", name: "\u00e9"}
    with pytest.raises(TokenResponseError, match=name):
        parse_token_response(body, step="token", require_id_token=True)


class _Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def hostile() -> Iterator[tuple[HostileProvider, _Clock]]:
    clock = _Clock()
    with HostileProvider(clock) as provider:
        yield provider, clock


def _login(hostile: tuple[HostileProvider, _Clock]) -> None:
    provider, clock = hostile
    client = PocketIdClient(provider.url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, clock=clock)
    client.sign_in_headless(client.start_login())


def test_login_with_a_non_ascii_access_token_fails_cleanly(hostile: tuple[HostileProvider, _Clock]) -> None:
    provider, _ = hostile
    provider.reset()
    provider.knobs.token_response = {"access_token": "t\u00f6k\u00e9n"}
    with pytest.raises(TokenResponseError, match="access_token"):
        _login(hostile)


def test_login_with_a_surrogate_nonce_fails_cleanly(hostile: tuple[HostileProvider, _Clock]) -> None:
    provider, _ = hostile
    provider.reset()
    provider.knobs.id_token_claims = {"nonce": "\udcff-not-ours"}
    with pytest.raises(ClaimMismatch, match="nonce"):
        _login(hostile)


def test_honest_login_still_succeeds(hostile: tuple[HostileProvider, _Clock]) -> None:
    hostile[0].reset()
    _login(hostile)  # the control: the refusals above come from the checks under test


# -- jws: the header cache is never shared with callers ---------------------------------------------------------


def test_verified_header_is_the_callers_own_copy() -> None:
    secret = b"s" * 32
    token = jws.sign({"sub": "a"}, secret, "HS256", headers={"kid": "k", "ext": {"chain": ["a", "b"]}})
    first = jws.verify_token(token, secret, ["HS256"])
    first.header["ext"]["chain"].append("evil")
    first.header["kid"] = "changed"
    again = jws.verify_token(token, secret, ["HS256"])
    assert again.header == {"alg": "HS256", "typ": "JWT", "kid": "k", "ext": {"chain": ["a", "b"]}}


# -- claims: a NaN leeway or clock must not switch the time checks off ----------------------------------------


def test_nan_leeway_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="leeway"):
        check_claims({"exp": NOW - 3600}, now=NOW, leeway=math.nan)


@pytest.mark.parametrize("now", [math.nan, math.inf, -math.inf])
def test_non_finite_now_is_a_configuration_error(now: float) -> None:
    with pytest.raises(ConfigurationError, match="now"):
        check_claims({"exp": NOW - 3600}, now=now)


def test_expired_token_is_still_expired_with_a_finite_leeway() -> None:
    with pytest.raises(Expired):
        check_claims({"exp": NOW - 3600}, now=NOW, leeway=60)
