"""The browser pages: sign-in with a login code, /lc/<code>, the page flow to the callback, headers."""

from __future__ import annotations

import base64
import hashlib
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from idp_support import API_KEY, CALLBACK, ISSUER

from altx10_helpers.idp import create_app, demo_key
from altx10_helpers.idp.testing import Driver, callback_params, session_cookie

SEED = 19


@pytest.fixture
def user(d):
    return d.user("nina", displayName="Nina N.")


def hidden_inputs(html: str) -> dict[str, str]:
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    return {unescape(name): unescape(value) for name, value in found}


def test_login_page_has_a_code_form_and_security_headers(d):
    response = d.http.get("/login?redirect=/authorize%3Fx%3D1")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f'action="{ISSUER}/login"' in html and 'name="code"' in html
    assert hidden_inputs(html)["redirect"] == "/authorize?x=1"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_lc_link_prefills_the_form_and_does_not_use_the_code_up(d, user):
    code = d.login_code(user["id"])
    page = d.http.get(f"/lc/{code}")
    assert page.status_code == 200 and f'value="{code}"' in page.get_data(as_text=True)
    assert d.http.post(f"/api/one-time-access-token/{code}").status_code == 200


def test_signing_in_on_the_page_sets_the_cookie_and_continues(d, user):
    code = d.login_code(user["id"])
    response = d.http.post("/login", data={"code": code, "redirect": "/authorize?client_id=x"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{ISSUER}/authorize?client_id=x"
    value = session_cookie(response, "access_token")
    home = d.http.get("/", headers=d.cookie_header(value))
    assert "Nina N." in home.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "evil", ""])
def test_sign_in_never_redirects_off_site(d, user, target):
    response = d.http.post("/login", data={"code": d.login_code(user["id"]), "redirect": target})
    assert response.headers["Location"] == f"{ISSUER}/"


def test_wrong_code_shows_the_form_again_with_an_error(d):
    response = d.http.post("/login", data={"code": "WRONGCODE", "redirect": "/"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "invalid, expired or already used" in html and 'name="code"' in html
    assert "Set-Cookie" not in response.headers


def test_whole_browser_flow_with_pages_sign_in_then_consent_then_callback(d, user):
    client = d.client(skipConsent=False, name="Photos")[0]
    query = {"client_id": client["id"], "redirect_uri": CALLBACK, "response_type": "code",
             "scope": "openid email", "state": "state-abcdefgh", "nonce": "nonce-abcdefgh"}
    first = d.authorize(query)
    login_url = urlsplit(first.headers["Location"])
    assert login_url.path == "/login"
    form = d.http.get(f"{login_url.path}?{login_url.query}").get_data(as_text=True)
    back = hidden_inputs(form)["redirect"]
    signed_in = d.http.post("/login", data={"code": d.login_code(user["id"]), "redirect": back})
    cookie = session_cookie(signed_in, "access_token")
    location = urlsplit(signed_in.headers["Location"])
    consent = d.http.get(f"{location.path}?{location.query}", headers=d.cookie_header(cookie))
    assert consent.status_code == 200 and "Authorize Photos" in consent.get_data(as_text=True)
    fields = hidden_inputs(consent.get_data(as_text=True))
    done = d.http.post("/authorize", data={**fields, "consent": "allow"}, headers=d.cookie_header(cookie))
    cb = callback_params(done.headers["Location"])
    assert done.headers["Location"].startswith(CALLBACK + "?")
    assert (cb["state"], cb["iss"], cb["scope"]) == ("state-abcdefgh", ISSUER, "openid email")


def test_form_post_script_is_allowed_by_exactly_its_hash(d, user):
    client = d.client()[0]
    cookie = d.sign_in(user["id"])
    response = d.authorize({"client_id": client["id"], "redirect_uri": CALLBACK, "response_type": "code",
                            "scope": "openid", "state": "state-123456", "response_mode": "form_post"}, cookie)
    script = re.search(r"<script>(.*?)</script>", response.get_data(as_text=True)).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in response.headers["Content-Security-Policy"]


def test_error_page_escapes_what_it_echoes(d):
    response = d.http.get("/authorize?client_id=%3Cscript%3Ealert(1)%3C/script%3E")
    assert response.status_code == 400
    assert "<script>" not in response.get_data(as_text=True)


def test_unknown_page_is_an_html_404_and_unknown_api_path_a_json_404(d):
    page = d.http.get("/nope")
    assert page.status_code == 404 and page.mimetype == "text/html"
    api = d.http.get("/api/nope")
    assert api.status_code == 404 and api.get_json()["error"] == "not_found"


def test_profile_picture_and_health(d, user):
    picture = d.http.get(f"/api/users/{user['id']}/profile-picture.png")
    assert picture.status_code == 200 and picture.mimetype == "image/svg+xml"
    assert ">NE<" in picture.get_data(as_text=True)
    assert d.http.get("/healthz").status_code == 204


def test_home_page_links_discovery(d):
    html = d.http.get("/").get_data(as_text=True)
    assert f"{ISSUER}/.well-known/openid-configuration" in html and "Not signed in" in html


def test_login_redirect_survives_a_path_prefix(d):
    prefixed = Driver(create_app(app_url="https://hub.example/user/x/proxy/1411", api_key=API_KEY,
                                 key=demo_key()))
    client = prefixed.client()[0]
    response = prefixed.authorize({"client_id": client["id"], "redirect_uri": CALLBACK, "response_type": "code",
                                   "scope": "openid", "state": "state-123456"})
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://hub.example/user/x/proxy/1411/login"
    assert parse_qs(location.query)["redirect"][0].startswith("/authorize?")
