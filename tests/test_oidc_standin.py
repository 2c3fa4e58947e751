"""The full login against the local Pocket ID stand-in, through Pocket ID's own automation path."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from altx10_helpers.errors import CallbackError, OidcError, TokenResponseError
from altx10_helpers.idp import LocalPocketId
from altx10_helpers.oidc import HopLog, PocketIdClient

REDIRECT = "http://127.0.0.1:8765/auth/callback"
LOGOUT = "http://127.0.0.1:8765/"


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalPocketId]:
    with LocalPocketId() as running:
        yield running


@pytest.fixture(scope="module")
def demo(idp: LocalPocketId):
    return idp.seed_demo(callback_urls=[REDIRECT], logout_callback_urls=[LOGOUT])


def make_client(idp: LocalPocketId, demo, **kwargs) -> PocketIdClient:
    return PocketIdClient(idp.url, demo.client_id, demo.client_secret, REDIRECT, api_key=idp.api_key, **kwargs)


@pytest.fixture
def client(idp: LocalPocketId, demo) -> PocketIdClient:
    return make_client(idp, demo)


def test_five_call_login(idp: LocalPocketId, demo) -> None:
    client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, REDIRECT, api_key=idp.api_key)
    attempt = client.start_login()
    result = client.sign_in_headless(attempt, demo.user["id"])

    claims = result.id_token.claims
    assert result.sub == demo.user["id"]
    assert claims["aud"] == [demo.client_id] and claims["iss"] == idp.url and claims["nonce"] == attempt.nonce
    assert claims["amr"] == ["otp"] and claims["type"] == "id-token" and "at_hash" in claims
    assert len(result.id_token.header["kid"]) == 11
    assert result.userinfo is not None and result.userinfo["email"] == demo.user["email"]
    assert demo.group["name"] in result.userinfo["groups"]
    assert result.tokens.token_type == "bearer" and result.tokens.refresh_token
    assert result.describe().startswith("Signed in as ")


def test_every_hop_is_visible(client: PocketIdClient, demo) -> None:
    log = HopLog(client.session)
    client.sign_in_headless(client.start_login(), demo.user["id"])
    hops = [(h.method, urlsplit(h.url).path, h.status) for h in log.hops]
    assert hops[0] == ("GET", "/.well-known/openid-configuration", 200)
    assert ("POST", f"/api/users/{demo.user['id']}/one-time-access-token", 201) in hops
    assert [h for h in hops if h[1] == "/authorize"] == [("GET", "/authorize", 302)]
    assert ("POST", "/api/oidc/token", 200) in hops and ("GET", "/api/oidc/userinfo", 200) in hops
    token_hop = next(h for h in log.hops if h.url.endswith("/api/oidc/token"))
    assert token_hop.request_headers["Authorization"].startswith("Basic ")
    assert "code_verifier=" in token_hop.request_body


def test_step_by_step(client: PocketIdClient, demo) -> None:
    attempt = client.start_login()
    callback_url = client.authorize_headless(attempt, demo.user["id"])
    query = parse_qs(urlsplit(callback_url).query)
    assert query["state"] == [attempt.state] and query["iss"] == [client.issuer]
    callback = client.parse_callback(callback_url, attempt)
    tokens = client.exchange_code_for_tokens(callback.code, attempt)
    id_token = client.validate_id_token(tokens.id_token, nonce=attempt.nonce, access_token=tokens.access_token)
    info = client.get_user_info(tokens.access_token, expected_sub=id_token.sub)
    assert info["sub"] == demo.user["id"]
    with pytest.raises(TokenResponseError) as replay:
        client.exchange_code_for_tokens(callback.code, attempt)
    assert replay.value.error == "invalid_grant"


def test_tampered_state_never_reaches_the_token_endpoint(client: PocketIdClient, demo) -> None:
    log = HopLog(client.session)
    attempt = client.start_login()
    url = client.authorize_headless(attempt, demo.user["id"])
    with pytest.raises(CallbackError, match="state"):
        client.finish_login(url.replace(attempt.state, "forged-state-value"), attempt)
    assert not any(h.url.endswith("/api/oidc/token") for h in log.hops)
    with pytest.raises(CallbackError, match="already used"):
        client.finish_login(url, attempt)


def test_refresh_rotation_and_reuse_revokes(client: PocketIdClient, demo) -> None:
    result = client.sign_in_headless(client.start_login(), demo.user["id"])
    first = client.refresh_access_token(result.tokens.refresh_token, previous=result.id_token)
    assert first.sub == result.sub and first.tokens.refresh_token != result.tokens.refresh_token
    with pytest.raises(TokenResponseError) as reuse:
        client.refresh_access_token(result.tokens.refresh_token, previous=result.id_token)
    assert reuse.value.error == "invalid_grant"
    with pytest.raises(TokenResponseError):  # the reuse revoked the whole grant, the new token too
        client.refresh_access_token(first.tokens.refresh_token, previous=first.id_token)


def test_client_secret_post_works_too(idp: LocalPocketId, demo) -> None:
    result = make_client(idp, demo, auth_method="client_secret_post").sign_in_headless(
        make_client(idp, demo).start_login(), demo.user["id"])
    assert result.sub == demo.user["id"]


def test_key_rotation_one_refetch(idp: LocalPocketId, demo) -> None:
    offset = [0.0]
    client = make_client(idp, demo, clock=lambda: time.time() + offset[0])
    first = client.sign_in_headless(client.start_login(), demo.user["id"])
    idp.rotate_key()
    offset[0] = 61  # past the JWKS refetch rate limit
    second = client.sign_in_headless(client.start_login(), demo.user["id"])
    assert second.id_token.header["kid"] != first.id_token.header["kid"]
    assert client.keys.fetch_count == 2


def test_logout_ends_the_grant(client: PocketIdClient, demo) -> None:
    result = client.sign_in_headless(client.start_login(), demo.user["id"])
    url = client.build_end_session_url(result.id_token.token, post_logout_redirect_uri=LOGOUT, state="bye-12345")
    resp = requests.get(url, allow_redirects=False, timeout=5)
    assert resp.status_code in (302, 303)
    assert resp.headers["Location"].startswith(LOGOUT) and "state=bye-12345" in resp.headers["Location"]
    with pytest.raises(TokenResponseError):
        client.refresh_access_token(result.tokens.refresh_token, previous=result.id_token)


def test_signup_token_and_link(client: PocketIdClient) -> None:
    signup = client.create_signup_token()
    assert signup.id and signup.token
    resp = requests.get(client.build_token_link(signup.token), timeout=5)
    assert resp.status_code == 200 and "text/html" in resp.headers["Content-Type"]


def test_login_code_link_opens(client: PocketIdClient, demo) -> None:
    resp = requests.get(client.build_login_code_link(client.create_login_code(demo.user["id"])),
                        allow_redirects=False, timeout=5)
    assert resp.status_code in (200, 302, 303)


def test_unknown_user_is_a_clear_error(client: PocketIdClient) -> None:
    attempt = client.start_login()
    with pytest.raises(OidcError) as info:
        client.sign_in_headless(attempt, "00000000-0000-4000-8000-000000000000")
    assert info.value.step == "login_code" and attempt.consumed


def test_wrong_api_key_is_a_clear_error(idp: LocalPocketId, demo) -> None:
    client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, REDIRECT, api_key="wrong-key")
    with pytest.raises(OidcError, match=r"refused: .*\[HTTP 401\]") as info:
        client.sign_in_headless(client.start_login(), demo.user["id"])
    assert info.value.step == "login_code"


def test_consent_page_stops_headless_sign_in(idp: LocalPocketId, demo) -> None:
    admin = {"X-API-Key": idp.api_key}
    created = requests.post(f"{idp.url}/api/oidc/clients", headers=admin, timeout=5, json={
        "name": "Needs consent", "callbackURLs": [REDIRECT], "logoutCallbackURLs": [], "isPublic": False,
        "pkceEnabled": True, "skipConsent": False})
    created.raise_for_status()
    client_id = created.json()["id"]
    secret = requests.post(f"{idp.url}/api/oidc/clients/{client_id}/secrets", headers=admin, json={}, timeout=5)
    secret.raise_for_status()
    client = PocketIdClient(idp.url, client_id, secret.json()["secret"], REDIRECT, api_key=idp.api_key)
    attempt = client.start_login()
    with pytest.raises(OidcError, match="interaction") as info:
        client.sign_in_headless(attempt, demo.user["id"])
    assert info.value.step == "sign_in" and attempt.consumed


def test_binder_style_split_addresses() -> None:
    """Browser-facing APP_URL behind a proxy, kernel on loopback: the INTERNAL_APP_URL split."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app_url = f"https://hub.example.test/user/reader/proxy/{port}"
    with LocalPocketId(app_url=app_url, internal_app_url=f"http://127.0.0.1:{port}", port=port) as idp:
        demo = idp.seed_demo(callback_urls=[REDIRECT])
        client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, REDIRECT, api_key=idp.api_key,
                                internal_url=idp.internal_url)
        attempt = client.start_login()
        assert attempt.authorization_url.startswith(f"{app_url}/authorize?")
        result = client.sign_in_headless(attempt, demo.user["id"])
    assert result.id_token.claims["iss"] == app_url and result.sub == demo.user["id"]
