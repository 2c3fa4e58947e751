"""/api/oidc/end-session: id_token_hint, client_id, post_logout_redirect_uri, state, revocation."""

from __future__ import annotations

import pytest
from idp_support import CALLBACK, ISSUER, code_login

SEED = 13
LOGGED_OUT = "https://app.example/logged-out"


@pytest.fixture
def setup(d):
    user = d.user("dave")
    client, secret = d.client()
    cookie = d.sign_in(user["id"])
    return client, secret, cookie, code_login(d, client, secret, cookie).get_json()


def end_session(d, cookie=None, method="GET", **params):
    headers = d.cookie_header(cookie)
    if method == "POST":
        return d.http.post("/api/oidc/end-session", data=params, headers=headers)
    return d.http.get("/api/oidc/end-session", query_string=params, headers=headers)


def test_logout_redirects_with_state_revokes_the_grant_and_ends_the_session(d, setup):
    client, secret, cookie, tokens = setup
    response = end_session(d, cookie, id_token_hint=tokens["id_token"], post_logout_redirect_uri=LOGGED_OUT,
                           state="bye-123")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{LOGGED_OUT}?state=bye-123"
    assert any(h.startswith("access_token=;") for h in response.headers.getlist("Set-Cookie"))
    assert d.http.get("/api/oidc/userinfo",
                      headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    refreshed = d.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                        auth=(client["id"], secret))
    assert refreshed.get_json()["error"] == "invalid_grant"
    again = d.authorize({"client_id": client["id"], "redirect_uri": CALLBACK, "response_type": "code",
                         "scope": "openid", "state": "state-123456"}, cookie)
    assert again.headers["Location"].startswith(f"{ISSUER}/login")


def test_post_works_too(d, setup):
    client, _, cookie, tokens = setup
    response = end_session(d, cookie, method="POST", id_token_hint=tokens["id_token"], client_id=client["id"],
                           post_logout_redirect_uri=LOGGED_OUT)
    assert response.headers["Location"] == LOGGED_OUT


def test_expired_id_token_hint_is_accepted(d, setup, clock):
    _, _, cookie, tokens = setup
    clock.advance(7 * 24 * 3600)
    response = end_session(d, cookie, id_token_hint=tokens["id_token"], post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code == 302


def test_access_token_as_hint_is_refused(d, setup):
    _, _, cookie, tokens = setup
    response = end_session(d, cookie, id_token_hint=tokens["access_token"], post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "Location" not in response.headers


def test_forged_hint_is_refused(d, setup):
    _, _, cookie, tokens = setup
    header, payload, _ = tokens["id_token"].split(".")
    response = end_session(d, cookie, id_token_hint=f"{header}.{payload}.AAAA")
    assert response.status_code == 400


def test_unregistered_post_logout_redirect_uri_is_refused(d, setup):
    _, _, cookie, tokens = setup
    for uri in ["https://evil.example/", LOGGED_OUT + "/", CALLBACK]:
        response = end_session(d, cookie, id_token_hint=tokens["id_token"], post_logout_redirect_uri=uri)
        assert response.status_code == 400 and "Location" not in response.headers


def test_post_logout_redirect_uri_needs_a_client(d, setup):
    response = end_session(d, setup[2], post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code == 400 and "needs a client_id" in response.get_data(as_text=True)


def test_client_id_only_is_enough_for_the_redirect(d, setup):
    client, _, cookie, _ = setup
    response = end_session(d, cookie, client_id=client["id"], post_logout_redirect_uri=LOGGED_OUT, state="s")
    assert response.headers["Location"] == f"{LOGGED_OUT}?state=s"


def test_client_id_must_match_the_hints_audience(d, setup):
    _, _, cookie, tokens = setup
    other = d.client(name="other", logoutCallbackURLs=[LOGGED_OUT])[0]
    response = end_session(d, cookie, id_token_hint=tokens["id_token"], client_id=other["id"],
                           post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code == 400


def test_without_redirect_the_signed_out_page_is_shown(d, setup):
    response = end_session(d, setup[2])
    assert response.status_code == 200 and "Signed out" in response.get_data(as_text=True)


def test_repeated_parameter_is_refused(d, setup):
    response = d.http.get("/api/oidc/end-session?state=a&state=b")
    assert response.status_code == 400 and response.mimetype == "text/html"
