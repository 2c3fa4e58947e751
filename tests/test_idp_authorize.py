"""/authorize: parameter rules, redirect-URI matching, PKCE at the front channel, sessions, consent, iss."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from idp_support import CALLBACK, ISSUER

from altx10_helpers.idp import match_redirect
from altx10_helpers.idp.testing import callback_params, pkce_pair

SEED = 3


@pytest.fixture
def user(d):
    return d.user("alice")


@pytest.fixture
def cookie(d, user):
    return d.sign_in(user["id"])


@pytest.fixture
def client(d):
    return d.client()[0]


def params(client, **extra):
    base = {"client_id": client["id"], "redirect_uri": CALLBACK, "response_type": "code", "scope": "openid",
            "state": "state-123456"}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def error_redirect(response) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    return callback_params(location)


# -- success --------------------------------------------------------------------------------------------------


def test_signed_in_user_and_skip_consent_client_get_code_state_scope_and_iss(d, client, cookie):
    response = d.authorize(params(client, scope="openid email profile"), cookie)
    assert response.status_code == 302
    cb = callback_params(response.headers["Location"])
    assert set(cb) == {"code", "state", "scope", "iss"}
    assert cb["state"] == "state-123456"
    assert cb["iss"] == ISSUER
    assert cb["scope"] == "openid email profile"
    assert re.fullmatch(r"[A-Za-z0-9]{32}", cb["code"])


def test_unknown_scopes_are_dropped(d, client, cookie):
    cb = d.code(params(client, scope="openid admin email write:all"), cookie)
    assert cb["scope"] == "openid email"


def test_post_authorize_works_like_get(d, client, cookie):
    response = d.authorize(params(client), cookie, method="POST")
    assert response.status_code == 302 and "code" in callback_params(response.headers["Location"])


def test_fragment_response_mode_puts_the_answer_in_the_fragment(d, client, cookie):
    response = d.authorize(params(client, response_mode="fragment"), cookie)
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "#")
    cb = parse_qs(urlsplit(location).fragment)
    assert cb["iss"] == [ISSUER] and cb["state"] == ["state-123456"] and cb["code"]


def test_form_post_response_mode_renders_an_auto_submitting_form(d, client, cookie):
    response = d.authorize(params(client, response_mode="form_post"), cookie)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f'action="{CALLBACK}"' in html
    assert f'name="iss" value="{ISSUER}"' in html.replace("&#34;", '"')
    assert 'name="state" value="state-123456"' in html
    assert "script-src 'sha256-" in response.headers["Content-Security-Policy"]


def test_registered_callback_with_query_keeps_it_and_appends(d, cookie):
    client = d.client(callbackURLs=["https://app.example/cb?tenant=a"])[0]
    response = d.authorize(params(client, redirect_uri="https://app.example/cb?tenant=a"), cookie)
    assert response.headers["Location"].startswith("https://app.example/cb?tenant=a&code=")


def test_redirect_uri_may_be_omitted_when_exactly_one_is_registered(d, client, cookie):
    response = d.authorize(params(client, redirect_uri=None), cookie)
    assert response.headers["Location"].startswith(CALLBACK + "?code=")


# -- the rules, each answered at the redirect URI with iss and state ------------------------------------------


@pytest.mark.parametrize("state", [None, "", "1234567"])
def test_state_must_have_at_least_8_characters(d, client, cookie, state):
    cb = error_redirect(d.authorize(params(client, state=state), cookie))
    assert cb["error"] == "invalid_state"
    assert cb["iss"] == ISSUER
    assert cb.get("state") == (state or None)
    assert "code" not in cb


def test_state_of_exactly_8_characters_is_enough(d, client, cookie):
    assert d.code(params(client, state="12345678"), cookie)["state"] == "12345678"


def test_nonce_when_sent_must_have_at_least_8_characters(d, client, cookie):
    cb = error_redirect(d.authorize(params(client, nonce="1234567"), cookie))
    assert (cb["error"], cb["iss"], cb["state"]) == ("insufficient_entropy", ISSUER, "state-123456")
    assert "code" in d.code(params(client, nonce="12345678"), cookie)


@pytest.mark.parametrize(("response_type", "error"), [
    (None, "invalid_request"), ("token", "unsupported_response_type"), ("code id_token", "unsupported_response_type"),
])
def test_response_type_must_be_code(d, client, cookie, response_type, error):
    cb = error_redirect(d.authorize(params(client, response_type=response_type), cookie))
    assert cb["error"] == error and cb["iss"] == ISSUER


def test_openid_scope_is_required(d, client, cookie):
    assert error_redirect(d.authorize(params(client, scope="email"), cookie))["error"] == "invalid_scope"


def test_repeated_parameter_is_invalid_request(d, client, cookie):
    response = d.http.get("/authorize?" + "&".join(f"{k}={v}" for k, v in params(client).items())
                          + "&scope=email", headers=d.cookie_header(cookie))
    cb = error_redirect(response)
    assert cb["error"] == "invalid_request" and "more than once" in cb["error_description"]


def test_request_objects_are_not_supported(d, client, cookie):
    assert error_redirect(d.authorize(params(client, request="e.y.z"), cookie))["error"] == "request_not_supported"


def test_errors_use_the_requested_response_mode(d, client, cookie):
    response = d.authorize(params(client, state="short", response_mode="fragment"), cookie)
    assert response.headers["Location"].startswith(CALLBACK + "#error=invalid_state")


# -- redirect URIs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("uri", [CALLBACK + "/", "https://app.example/callbacK", "http://app.example/callback",
                                 "https://app.example:8443/callback", CALLBACK + "?x=1", CALLBACK + "#frag",
                                 "https://evil.example/callback"])
def test_unregistered_redirect_uri_shows_the_error_page_and_never_redirects(d, client, cookie, uri):
    response = d.authorize(params(client, redirect_uri=uri), cookie)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers
    assert "redirect_uri is not registered" in response.get_data(as_text=True)


def test_unknown_client_shows_the_error_page(d, cookie):
    response = d.authorize({"client_id": "nope", "redirect_uri": CALLBACK, "response_type": "code",
                            "scope": "openid", "state": "state-123456"}, cookie)
    assert response.status_code == 400 and "invalid_client" in response.get_data(as_text=True)
    assert "Location" not in response.headers


def test_redirect_uri_is_required_with_several_registered(d, cookie):
    client = d.client(callbackURLs=[CALLBACK, "https://app.example/other"])[0]
    response = d.authorize(params(client, redirect_uri=None), cookie)
    assert response.status_code == 400 and "redirect_uri parameter is required" in response.get_data(as_text=True)


def test_loopback_callback_registered_without_port_matches_any_port(d, cookie):
    client = d.client(callbackURLs=["http://127.0.0.1/cb", "http://localhost/cb", "http://[::1]/cb"])[0]
    for uri in ["http://127.0.0.1:51234/cb", "http://localhost:8080/cb", "http://[::1]:9999/cb",
                "http://127.0.0.1/cb"]:
        response = d.authorize(params(client, redirect_uri=uri), cookie)
        assert response.status_code == 302 and response.headers["Location"].startswith(uri + "?code="), uri
    assert d.authorize(params(client, redirect_uri="http://127.0.0.1:5/cb/"), cookie).status_code == 400
    assert d.authorize(params(client, redirect_uri="https://127.0.0.1:5/cb"), cookie).status_code == 400


def test_loopback_callback_registered_with_a_port_matches_only_that_port(d, cookie):
    client = d.client(callbackURLs=["http://127.0.0.1:5000/cb"])[0]
    assert d.authorize(params(client, redirect_uri="http://127.0.0.1:5000/cb"), cookie).status_code == 302
    assert d.authorize(params(client, redirect_uri="http://127.0.0.1:5001/cb"), cookie).status_code == 400


@pytest.mark.parametrize(("pattern", "uri", "ok"), [
    ("https://app.example/*/callback", "https://app.example/tenant1/callback", True),
    ("https://app.example/*/callback", "https://app.example/a/b/callback", False),
    ("https://app.example/*/callback", "https://app.example//callback", False),
    ("https://app.example/**/callback", "https://app.example/a/b/c/callback", True),
    ("https://app.example/**", "https://app.example/anything/at/all", True),
    ("https://*.app.example/cb", "https://pr-42.app.example/cb", True),
    ("https://*.app.example/cb", "https://app.example.evil/cb", False),
    ("https://*.app.example/cb", "https://evil.example\\@x.app.example/cb", False),
    ("https://*.app.example/cb", "https://user@x.app.example/cb", False),
    ("https://app.example/cb?tenant=*", "https://app.example/cb?tenant=blue", True),
    ("https://app.example/cb?tenant=*", "https://app.example/cb?tenant=blue&x=1", False),
    ("https://app.example:*/cb", "https://app.example:8443/cb", True),
    ("*", "https://anything.example/at/all", True),
])
def test_pocket_id_wildcards(pattern, uri, ok):
    assert match_redirect([pattern], uri) is ok


def test_wildcard_registration_works_through_authorize(d, cookie):
    client = d.client(callbackURLs=["https://*.app.example/**"])[0]
    uri = "https://pr-7.app.example/auth/callback"
    assert d.authorize(params(client, redirect_uri=uri), cookie).headers["Location"].startswith(uri + "?code=")


# -- PKCE at the front channel --------------------------------------------------------------------------------


def test_public_client_must_send_a_code_challenge(d, cookie):
    client = d.client(isPublic=True)[0]
    cb = error_redirect(d.authorize(params(client), cookie))
    assert cb["error"] == "invalid_request" and "PKCE" in cb["error_description"]
    assert "code" in d.code(params(client, code_challenge=pkce_pair()[1], code_challenge_method="S256"), cookie)


def test_pkce_flagged_client_must_send_a_code_challenge(d, cookie):
    client = d.client(pkceEnabled=True)[0]
    assert error_redirect(d.authorize(params(client), cookie))["error"] == "invalid_request"


@pytest.mark.parametrize(("challenge", "method"), [
    (None, "S256"), (pkce_pair()[1], "S512"), (pkce_pair()[1], "s256"), ("a" * 42, "plain"), ("a" * 129, None),
    ("a" * 42 + "+", None),
])
def test_malformed_pkce_parameters_are_invalid_request(d, client, cookie, challenge, method):
    cb = error_redirect(d.authorize(params(client, code_challenge=challenge, code_challenge_method=method), cookie))
    assert cb["error"] == "invalid_request"


# -- sessions, prompt, max_age --------------------------------------------------------------------------------


def test_without_session_the_browser_is_sent_to_sign_in_and_back(d, client):
    response = d.authorize(params(client))
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{ISSUER}/login"
    back = parse_qs(location.query)["redirect"][0]
    assert back.startswith("/authorize?")
    assert parse_qs(urlsplit(back).query)["state"] == ["state-123456"]


def test_prompt_none_without_session_is_login_required(d, client):
    cb = error_redirect(d.authorize(params(client, prompt="none")))
    assert (cb["error"], cb["state"], cb["iss"]) == ("login_required", "state-123456", ISSUER)


def test_prompt_login_forces_a_new_sign_in_and_does_not_loop(d, client, cookie):
    response = d.authorize(params(client, prompt="login"), cookie)
    back = parse_qs(urlsplit(response.headers["Location"]).query)["redirect"][0]
    assert "prompt" not in parse_qs(urlsplit(back).query)


def test_max_age_older_than_the_session_forces_sign_in(d, client, cookie, clock):
    clock.advance(120)
    assert d.authorize(params(client, max_age="60"), cookie).headers["Location"].startswith(ISSUER + "/login")
    assert "code" in d.code(params(client, max_age="600"), cookie)


def test_session_expires_after_an_hour(d, client, cookie, clock):
    clock.advance(3600)
    assert d.authorize(params(client), cookie).headers["Location"].startswith(ISSUER + "/login")


def test_disabled_user_session_no_longer_counts(d, client, user, cookie):
    d.admin("PUT", f"/api/users/{user['id']}", {**user, "disabled": True})
    assert d.authorize(params(client), cookie).headers["Location"].startswith(ISSUER + "/login")


# -- consent --------------------------------------------------------------------------------------------------


def consent_form(response) -> dict[str, str]:
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', response.get_data(as_text=True))
    return {unescape(name): unescape(value) for name, value in found}


def test_client_without_skip_consent_shows_the_consent_page(d, cookie):
    client = d.client(skipConsent=False, name="Photo <b>App</b>")[0]
    response = d.authorize(params(client, scope="openid email groups"), cookie)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Photo &lt;b&gt;App&lt;/b&gt;" in html and "<b>App</b>" not in html
    assert "See your email address" in html and "See the groups you belong to" in html
    assert response.headers["X-Frame-Options"] == "DENY"


def test_allowing_consent_issues_the_code_and_is_remembered(d, cookie):
    client = d.client(skipConsent=False)[0]
    form = consent_form(d.authorize(params(client, scope="openid email"), cookie))
    response = d.http.post("/authorize", data={**form, "consent": "allow"}, headers=d.cookie_header(cookie))
    cb = callback_params(response.headers["Location"])
    assert cb["state"] == "state-123456" and cb["iss"] == ISSUER and cb["code"]
    assert d.authorize(params(client, scope="openid"), cookie).status_code == 302
    assert d.authorize(params(client, scope="openid groups"), cookie).status_code == 200
    assert d.authorize(params(client, scope="openid", prompt="consent"), cookie).status_code == 200


def test_denying_consent_is_access_denied_at_the_redirect_uri(d, cookie):
    client = d.client(skipConsent=False)[0]
    form = consent_form(d.authorize(params(client), cookie))
    cb = error_redirect(d.http.post("/authorize", data={**form, "consent": "deny"}, headers=d.cookie_header(cookie)))
    assert (cb["error"], cb["state"], cb["iss"]) == ("access_denied", "state-123456", ISSUER)


def test_consent_needs_the_sessions_csrf_token(d, cookie):
    client = d.client(skipConsent=False)[0]
    form = consent_form(d.authorize(params(client), cookie))
    response = d.http.post("/authorize", data={**form, "csrf_token": "forged", "consent": "allow"},
                           headers=d.cookie_header(cookie))
    assert response.status_code == 400 and "Location" not in response.headers


def test_prompt_none_when_consent_is_missing_is_consent_required(d, cookie):
    client = d.client(skipConsent=False)[0]
    assert error_redirect(d.authorize(params(client, prompt="none"), cookie))["error"] == "consent_required"
