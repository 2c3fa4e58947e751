"""Interop with client libraries we did not write: authlib's OAuth2Session drives code + PKCE S256, refresh and
userinfo; PyJWT's PyJWKClient fetches the JWKS and verifies the ID token. Headless via a login code."""

from __future__ import annotations

import secrets

import jwt
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from altx10_helpers.idp import LocalPocketId
from altx10_helpers.idp.testing import callback_params

REDIRECT = "http://127.0.0.1:8765/auth/callback"


@pytest.fixture(scope="module")
def idp():
    with LocalPocketId() as server:
        yield server


@pytest.fixture(scope="module")
def demo(idp):
    return idp.seed_demo([REDIRECT])


@pytest.fixture(scope="module")
def discovery(idp):
    return requests.get(idp.discovery_url, timeout=10).json()


def sign_in_cookie(idp: LocalPocketId, user_id: str) -> dict[str, str]:
    """A script's sign-in: admin login code, then the session cookie (sent back by hand, it is Secure)."""
    response = requests.post(f"{idp.url}/api/one-time-access-token/{idp.login_code(user_id)}", timeout=10)
    return {"access_token": response.cookies["access_token"]}


def authorize_headless(idp, oauth: OAuth2Session, discovery: dict, user_id: str, **extra) -> tuple[str, str, str]:
    verifier = generate_token(64)
    nonce = secrets.token_urlsafe(16)
    url, state = oauth.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier,
                                                nonce=nonce, **extra)
    response = requests.get(url, cookies=sign_in_cookie(idp, user_id), allow_redirects=False, timeout=10)
    assert response.status_code == 302 and response.headers["Location"].startswith(REDIRECT + "?")
    assert callback_params(response.headers["Location"])["state"] == state
    return response.headers["Location"], verifier, nonce


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_authlib_code_flow_with_pkce_refresh_and_userinfo(idp, demo, discovery, auth_method):
    oauth = OAuth2Session(demo.client_id, demo.client_secret, token_endpoint_auth_method=auth_method,
                          scope="openid profile email groups offline_access", redirect_uri=REDIRECT,
                          code_challenge_method="S256")
    callback, verifier, nonce = authorize_headless(idp, oauth, discovery, demo.user["id"])
    assert f"iss={requests.utils.quote(idp.url, safe='')}" in callback
    token = oauth.fetch_token(discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert token["token_type"] == "bearer"
    assert set(token["scope"].split()) == {"openid", "profile", "email", "groups", "offline_access"}

    signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token["id_token"])
    claims = jwt.decode(token["id_token"], signing_key.key, algorithms=discovery[
        "id_token_signing_alg_values_supported"], audience=demo.client_id, issuer=discovery["issuer"])
    assert claims["nonce"] == nonce and claims["sub"] == demo.user["id"] and claims["amr"] == ["otp"]

    info = oauth.get(discovery["userinfo_endpoint"], timeout=10)
    assert info.status_code == 200
    assert info.json()["sub"] == claims["sub"] and info.json()["groups"] == ["developers"]

    old_refresh = token["refresh_token"]
    refreshed = oauth.refresh_token(discovery["token_endpoint"])
    assert refreshed["refresh_token"] != old_refresh and refreshed["access_token"] != token["access_token"]
    assert oauth.get(discovery["userinfo_endpoint"], timeout=10).json()["email"] == "demo@altx10.dev"

    reuse = requests.post(discovery["token_endpoint"], data={"grant_type": "refresh_token",
                                                             "refresh_token": old_refresh},
                          auth=(demo.client_id, demo.client_secret), timeout=10)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert oauth.get(discovery["userinfo_endpoint"], timeout=10).status_code == 401


def test_authlib_public_client_with_pkce(idp, demo, discovery):
    client = idp.admin("POST", "/api/oidc/clients", {"name": "spa", "callbackURLs": [REDIRECT], "isPublic": True,
                                                     "skipConsent": True})
    oauth = OAuth2Session(client["id"], token_endpoint_auth_method="none", scope="openid email",
                          redirect_uri=REDIRECT, code_challenge_method="S256")
    callback, verifier, _ = authorize_headless(idp, oauth, discovery, demo.user["id"])
    token = oauth.fetch_token(discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert oauth.get(discovery["userinfo_endpoint"], timeout=10).json() == {
        "sub": demo.user["id"], "email": "demo@altx10.dev", "email_verified": True}
    assert token["refresh_token"]


def test_authlib_sees_a_wrong_verifier_refused(idp, demo, discovery):
    oauth = OAuth2Session(demo.client_id, demo.client_secret, scope="openid", redirect_uri=REDIRECT,
                          code_challenge_method="S256")
    callback, _, _ = authorize_headless(idp, oauth, discovery, demo.user["id"])
    with pytest.raises(OAuthError) as caught:
        oauth.fetch_token(discovery["token_endpoint"], authorization_response=callback,
                          code_verifier=generate_token(64))
    assert caught.value.error == "invalid_grant"
