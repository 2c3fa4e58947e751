"""The OIDC client against a provider that lies: every corrupted answer must stop the login.

Each test turns one knob of ``HostileProvider`` and asserts the precise refusal; ``test_honest_login``
proves the same login succeeds untouched, so a refusal can only come from the check under test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Response, jsonify
from hostile_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    DELETE,
    REDIRECT_URI,
    USER,
    HostileProvider,
    new_rsa_key,
)

from altx10_helpers.errors import (
    BadSignature,
    CallbackError,
    ClaimMismatch,
    ConfigurationError,
    DisallowedAlgorithm,
    DiscoveryError,
    Expired,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    OidcError,
    TokenResponseError,
    UserInfoError,
    WrongAudience,
    WrongIssuer,
    WrongType,
)
from altx10_helpers.oidc import LoginAttempt, LoginResult, PocketIdClient

T0 = 1_750_000_000.0


class Clock:
    """A settable clock shared by the provider and the client."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def running(clock: Clock) -> Iterator[HostileProvider]:
    with HostileProvider(clock) as provider:
        yield provider


@pytest.fixture
def provider(running: HostileProvider, clock: Clock) -> HostileProvider:
    running.reset()
    clock.now = T0
    return running


def make_client(provider: HostileProvider, clock: Clock, **kwargs) -> PocketIdClient:
    return PocketIdClient(provider.url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, clock=clock, **kwargs)


@pytest.fixture
def client(provider: HostileProvider, clock: Clock) -> PocketIdClient:
    return make_client(provider, clock)


def login(client: PocketIdClient) -> tuple[LoginAttempt, LoginResult]:
    attempt = client.start_login()
    return attempt, client.sign_in_headless(attempt)


def refused(client: PocketIdClient, exc: type[Exception], match: str | None = None) -> pytest.ExceptionInfo:
    attempt = client.start_login()
    with pytest.raises(exc, match=match) as info:
        client.sign_in_headless(attempt)
    assert attempt.consumed, "a failed login must leave no reusable attempt behind"
    return info


# -- the control ------------------------------------------------------------------------------------


def test_honest_login(client: PocketIdClient) -> None:
    _, result = login(client)
    assert result.sub == USER["sub"]
    assert result.userinfo is not None and result.userinfo["email"] == USER["email"]
    assert result.id_token.claims["iss"] == client.issuer
    assert result.tokens.refresh_token
    assert result.describe() == f"Signed in as Ada Lovelace <ada@example.test> (sub {USER['sub']}, groups admins)"


# -- ID token: OIDC Core 3.1.3.7 --------------------------------------------------------------------


@pytest.mark.parametrize(("patch", "exc", "match"), [
    ({"iss": "https://evil.example"}, WrongIssuer, "iss"),
    ({"sub": DELETE}, MissingClaim, "sub"),
    ({"aud": ["someone-else"]}, WrongAudience, None),
    ({"aud": [CLIENT_ID, "untrusted-api"]}, WrongAudience, "untrusted-api"),
    ({"azp": "someone-else"}, WrongAudience, "azp"),
    ({"iat": DELETE}, MissingClaim, "iat"),
    ({"iat": int(T0) + 3600}, NotYetValid, None),
    ({"exp": int(T0) - 120}, Expired, None),
    ({"nonce": "a-nonce-from-another-login"}, ClaimMismatch, "nonce"),
    ({"nonce": DELETE}, MissingClaim, "nonce"),
    ({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, ClaimMismatch, "at_hash"),
    ({"sub": ""}, MalformedToken, "sub"),
])
def test_id_token_claims_refused(provider: HostileProvider, client: PocketIdClient, patch, exc, match) -> None:
    provider.knobs.id_token_claims = patch
    info = refused(client, exc, match)
    assert any("id_token" in note for note in getattr(info.value, "__notes__", []))


def test_extra_audience_accepted_when_trusted(provider: HostileProvider, clock: Clock) -> None:
    provider.knobs.id_token_claims = {"aud": [CLIENT_ID, "untrusted-api"]}
    _, result = login(make_client(provider, clock, trusted_audiences=["untrusted-api"]))
    assert result.id_token.claims["aud"] == [CLIENT_ID, "untrusted-api"]


def test_iat_slightly_ahead_is_within_leeway(provider: HostileProvider, client: PocketIdClient) -> None:
    provider.knobs.id_token_claims = {"iat": int(T0) + 30}
    _, result = login(client)
    assert result.id_token.claims["iat"] == int(T0) + 30


@pytest.mark.parametrize(("signing", "exc"), [
    ("bad-signature", BadSignature),
    ("other-key", BadSignature),
    ("none", MalformedToken),
    ("none-with-signature", DisallowedAlgorithm),
    ("HS256-client-secret", DisallowedAlgorithm),
])
def test_signature_refused(provider: HostileProvider, client: PocketIdClient, signing: str, exc) -> None:
    provider.knobs.signing = signing
    refused(client, exc)


def test_hs256_with_client_secret_only_when_configured(provider: HostileProvider, clock: Clock) -> None:
    provider.knobs.signing = "HS256-client-secret"
    _, result = login(make_client(provider, clock, id_token_algorithms=["HS256"]))
    assert result.id_token.header["alg"] == "HS256"


def test_alg_pinned_to_discovery_even_if_key_would_fit(provider: HostileProvider, client: PocketIdClient) -> None:
    provider.knobs.discovery = {"id_token_signing_alg_values_supported": ["ES256"]}
    provider.knobs.id_token_header = {}
    refused(client, DisallowedAlgorithm, "RS256")


def test_discovery_advertising_only_none_or_hmac_is_refused(provider: HostileProvider, client: PocketIdClient) -> None:
    provider.knobs.discovery = {"id_token_signing_alg_values_supported": ["none", "HS256"]}
    with pytest.raises(ConfigurationError, match="asymmetric"):
        client.validate_id_token(provider.sign({"sub": "x"}), nonce=None)


def test_access_token_typ_refused_as_id_token(provider: HostileProvider, client: PocketIdClient) -> None:
    provider.knobs.id_token_header = {"typ": "at+jwt"}
    refused(client, WrongType, "at\\+jwt")


def test_token_without_kid_accepted_with_single_key(provider: HostileProvider, clock: Clock) -> None:
    provider.kid = None
    try:
        _, result = login(make_client(provider, clock))
    finally:
        provider.kid = "hostile-key-1"
    assert "kid" not in result.id_token.header


def test_key_rotation_costs_exactly_one_refetch(provider: HostileProvider, clock: Clock) -> None:
    old_key, old_kid = provider.key, provider.kid
    client = make_client(provider, clock)
    before = provider.jwks_fetches
    login(client)
    assert provider.jwks_fetches == before + 1
    login(client)
    assert provider.jwks_fetches == before + 1, "the JWKS is cached between logins"
    provider.rotate_key(new_rsa_key(), "hostile-key-2")
    try:
        clock.now += 61  # past the refetch rate limit
        _, result = login(client)
        assert result.id_token.header["kid"] == "hostile-key-2"
        assert provider.jwks_fetches == before + 2
        assert client.keys.fetch_count == 2
    finally:
        provider.rotate_key(old_key, old_kid)


def test_unknown_kid_within_rate_limit_is_refused_without_refetch(provider: HostileProvider, clock: Clock) -> None:
    client = make_client(provider, clock)
    login(client)
    fetches = provider.jwks_fetches
    provider.knobs.id_token_header = {"kid": "made-up"}
    refused(client, BadSignature, "made-up")
    assert provider.jwks_fetches == fetches, "no refetch right after a fetch"
    clock.now += 61
    refused(client, BadSignature, "made-up")
    assert provider.jwks_fetches == fetches + 1, "one refetch for the unknown kid"
    refused(client, BadSignature, "made-up")
    assert provider.jwks_fetches == fetches + 1, "and no more within the rate limit"


# -- discovery and JWKS -------------------------------------------------------------------------------


def test_discovery_issuer_mismatch_stops_before_login(provider: HostileProvider, client: PocketIdClient) -> None:
    provider.knobs.discovery = {"issuer": provider.url + "/"}
    with pytest.raises(DiscoveryError, match="issuer") as info:
        client.start_login()
    assert info.value.step == "discovery"


@pytest.mark.parametrize(("patch", "match"), [
    ({"token_endpoint": DELETE}, "token_endpoint"),
    ({"jwks_uri": "not a url"}, "jwks_uri"),
    ({"authorization_endpoint": 42}, "authorization_endpoint"),
    ({"id_token_signing_alg_values_supported": "RS256"}, "id_token_signing_alg_values_supported"),
    ({"authorization_response_iss_parameter_supported": "yes"}, "authorization_response_iss_parameter_supported"),
])
def test_discovery_bad_members(provider: HostileProvider, client: PocketIdClient, patch, match) -> None:
    provider.knobs.discovery = patch
    with pytest.raises(DiscoveryError, match=match):
        client.discover()


@pytest.mark.parametrize(("answer", "match"), [
    (lambda: Response("<html>maintenance</html>", status=200, content_type="text/html"), "text/html"),
    (lambda: Response("oops", status=500), "HTTP 500"),
    (lambda: jsonify({"no": "keys"}), "keys"),
    (lambda: jsonify({"keys": [{"kty": "RSA", "n": "!!", "e": "AQAB"}]}), "keys\\[0\\]"),
])
def test_bad_jwks(provider: HostileProvider, client: PocketIdClient, answer, match) -> None:
    provider.knobs.jwks = answer
    info = refused(client, DiscoveryError, match)
    assert info.value.step == "jwks"


# -- the callback ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("patch", "error"), [
    ({"state": "tampered-state-value"}, "state_mismatch"),
    ({"state": DELETE}, "missing_state"),
    ({"iss": "https://evil.example"}, "iss_mismatch"),
    ({"iss": DELETE}, "missing_iss"),
    ({"code": DELETE}, "missing_code"),
    ({"code": DELETE, "error": "access_denied", "error_description": "the user said no"}, "access_denied"),
])
def test_callback_refused(provider: HostileProvider, client: PocketIdClient, patch, error) -> None:
    provider.knobs.callback = patch
    info = refused(client, CallbackError)
    assert (info.value.step, info.value.error) == ("callback", error)


def test_missing_iss_accepted_when_not_advertised(provider: HostileProvider, client: PocketIdClient) -> None:
    provider.knobs.discovery = {"authorization_response_iss_parameter_supported": DELETE}
    provider.knobs.callback = {"iss": DELETE}
    _, result = login(client)
    assert result.sub == USER["sub"]


def test_wrong_iss_refused_even_when_not_advertised(provider: HostileProvider, client: PocketIdClient) -> None:
    provider.knobs.discovery = {"authorization_response_iss_parameter_supported": DELETE}
    provider.knobs.callback = {"iss": "https://evil.example"}
    assert refused(client, CallbackError).value.error == "iss_mismatch"


def test_callback_replay_refused(client: PocketIdClient) -> None:
    attempt = client.start_login()
    url = client.authorize_headless(attempt)
    client.finish_login(url, attempt)
    with pytest.raises(CallbackError, match="already used"):
        client.finish_login(url, attempt)


def test_code_replay_refused_by_provider(client: PocketIdClient) -> None:
    attempt = client.start_login()
    callback = client.parse_callback(client.authorize_headless(attempt), attempt)
    client.exchange_code_for_tokens(callback.code, attempt)
    with pytest.raises(TokenResponseError) as info:
        client.exchange_code_for_tokens(callback.code, attempt)
    assert (info.value.step, info.value.error) == ("token", "invalid_grant")


def test_expired_attempt_refused(client: PocketIdClient, clock: Clock) -> None:
    attempt = client.start_login()
    url = client.authorize_headless(attempt)
    clock.now += client.login_ttl + 1
    with pytest.raises(CallbackError, match="expired"):
        client.finish_login(url, attempt)


@pytest.mark.parametrize(("url", "match"), [
    ("http://127.0.0.1:8765/somewhere/else?code=x&state={state}", "not at the redirect URI"),
    ("http://127.0.0.1:8765/auth/callback?code=x&code=y&state={state}", "repeats parameter"),
    ("http://127.0.0.1:8765/auth/callback?code&state={state}", "malformed"),
    ("http://[::1/auth/callback?code=x&state={state}", "malformed"),
    (42, "URL string"),
])
def test_malformed_callback_urls(client: PocketIdClient, url, match: str) -> None:
    attempt = client.start_login()
    if isinstance(url, str):
        url = url.format(state=attempt.state)
    with pytest.raises(CallbackError, match=match) as info:
        client.finish_login(url, attempt)
    assert info.value.step == "callback" and attempt.consumed


def test_exchange_requires_checked_callback(client: PocketIdClient) -> None:
    attempt = client.start_login()
    with pytest.raises(ConfigurationError, match="parse_callback"):
        client.exchange_code_for_tokens("a-code", attempt)


# -- the token response ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("patch", "match"), [
    ({"access_token": DELETE}, "access_token"),
    ({"access_token": 12345}, "access_token"),
    ({"token_type": "mac"}, "token_type"),
    ({"token_type": DELETE}, "token_type"),
    ({"expires_in": "3600"}, "expires_in"),
    ({"id_token": DELETE}, "id_token"),
    ({"refresh_token": ["a"]}, "refresh_token"),
])
def test_bad_token_response(provider: HostileProvider, client: PocketIdClient, patch, match) -> None:
    provider.knobs.token_response = patch
    info = refused(client, TokenResponseError, match)
    assert info.value.step == "token"


@pytest.mark.parametrize(("answer", "match"), [
    (lambda: Response("<html><body>Bad gateway</body></html>", status=502, content_type="text/html"), "HTTP 502"),
    (lambda: Response("<html>ok</html>", status=200, content_type="text/html"), "not JSON"),
    (lambda: Response("[1, 2]", status=200, content_type="application/json"), "JSON list"),
    (lambda: Response('{"a": 1, "a": 2}', status=200, content_type="application/json"), "invalid JSON"),
    (lambda: (jsonify(error="invalid_grant", error_description="nope"), 400), "invalid_grant"),
])
def test_token_endpoint_garbage(provider: HostileProvider, client: PocketIdClient, answer, match) -> None:
    provider.knobs.token_raw = answer
    refused(client, TokenResponseError, match)


def test_token_type_is_case_insensitive(provider: HostileProvider, client: PocketIdClient) -> None:
    provider.knobs.token_response = {"token_type": "BeArEr"}
    _, result = login(client)
    assert result.tokens.token_type == "BeArEr"


@pytest.mark.parametrize("method", ["client_secret_post", "none"])
def test_client_auth_methods_selectable(provider: HostileProvider, clock: Clock, method: str) -> None:
    provider.knobs.auth_method = method
    secret = None if method == "none" else CLIENT_SECRET
    client = PocketIdClient(provider.url, CLIENT_ID, secret, REDIRECT_URI, clock=clock, auth_method=method)
    _, result = login(client)
    assert result.sub == USER["sub"]


def test_default_is_client_secret_basic(provider: HostileProvider, clock: Clock) -> None:
    provider.knobs.auth_method = "client_secret_post"
    refused(make_client(provider, clock), TokenResponseError, "invalid_client")


# -- userinfo -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("patch", "match"), [
    ({"sub": "someone-else"}, "sub"),
    ({"sub": DELETE}, "sub"),
    ({"email_verified": "yes"}, "email_verified"),
    ({"groups": "admins"}, "groups"),
    ({"groups": [1, 2]}, "groups"),
])
def test_userinfo_refused(provider: HostileProvider, client: PocketIdClient, patch, match) -> None:
    provider.knobs.userinfo = patch
    info = refused(client, UserInfoError, match)
    assert info.value.step == "userinfo"


@pytest.mark.parametrize(("answer", "match"), [
    (lambda: Response("<!doctype html><p>Sign in</p>", status=200, content_type="text/html"), "text/html"),
    (lambda: Response("boom", status=500), "HTTP 500"),
    (lambda: Response("", status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}),
     "invalid_token"),
])
def test_userinfo_garbage(provider: HostileProvider, client: PocketIdClient, answer, match) -> None:
    provider.knobs.userinfo_raw = answer
    refused(client, UserInfoError, match)


# -- refresh ----------------------------------------------------------------------------------------------


def test_refresh_rotates_and_keeps_subject(provider: HostileProvider, client: PocketIdClient, clock: Clock) -> None:
    _, result = login(client)
    clock.now += 600
    refreshed = client.refresh_access_token(result.tokens.refresh_token, previous=result.id_token)
    assert refreshed.tokens.refresh_token != result.tokens.refresh_token
    assert refreshed.sub == result.sub
    assert refreshed.id_token.claims["iat"] == int(clock.now)
    with pytest.raises(TokenResponseError) as info:
        client.refresh_access_token(result.tokens.refresh_token, previous=result.id_token)
    assert (info.value.step, info.value.error) == ("refresh", "invalid_grant")


@pytest.mark.parametrize(("patch", "exc"), [
    ({"sub": "another-user"}, ClaimMismatch),
    ({"iss": "https://evil.example"}, WrongIssuer),
    ({"auth_time": int(T0) + 5}, ClaimMismatch),
])
def test_refreshed_id_token_must_match(provider: HostileProvider, client: PocketIdClient, patch, exc) -> None:
    _, result = login(client)
    provider.knobs.refresh_claims = patch
    with pytest.raises(exc):
        client.refresh_access_token(result.tokens.refresh_token, previous=result.id_token)


# -- logout -------------------------------------------------------------------------------------------------


def test_end_session_url(client: PocketIdClient, provider: HostileProvider) -> None:
    _, result = login(client)
    url = client.build_end_session_url(result.id_token.token, post_logout_redirect_uri="http://127.0.0.1:8765/",
                                       state="after-logout")
    assert url == (f"{provider.url}/end-session?id_token_hint={result.id_token.token}&client_id={CLIENT_ID}"
                   "&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2F&state=after-logout")


def test_unreachable_provider_is_an_oidc_error(clock: Clock) -> None:
    client = PocketIdClient("http://127.0.0.1:9", CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, clock=clock, timeout=2)
    with pytest.raises(OidcError, match="could not reach") as info:
        client.start_login()
    assert info.value.step == "discovery"


def test_refused_authorization_request_is_a_clear_error(provider: HostileProvider, clock: Clock) -> None:
    client = PocketIdClient(provider.url, "unknown-client", CLIENT_SECRET, REDIRECT_URI, clock=clock)
    info = refused(client, OidcError, "refused the authorization request.*HTTP 400 'unknown client")
    assert info.value.step == "sign_in"
