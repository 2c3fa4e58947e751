"""The altx10 demo app (altx10_helpers.webapp): login, decorators, cookies, redirectTo, CSRF, bad input."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from altx10_helpers.errors import ConfigurationError, WrongIssuer
from altx10_helpers.idp import LocalPocketId, demo_key
from altx10_helpers.idp.testing import FrozenClock
from altx10_helpers.jws import decode_unverified, sign
from altx10_helpers.oidc import PocketIdClient
from altx10_helpers.session import DenyList, SessionSigner, UserSession, app_origin
from altx10_helpers.webapp import AppServer, create_app, safe_redirect, sign_in_with_login_code, webapp
from tests.hostile_provider import CLIENT_ID, CLIENT_SECRET, DELETE, REDIRECT_URI, USER, HostileProvider
from tests.webapp_support import (
    CALLBACKS,
    LOGOUT_CALLBACKS,
    SECRET,
    add_demo_routes,
    login_hops,
    provider_session,
    serve,
    set_cookies,
)

APP_ID = "https://notes.altx10.dev"  # the app_server's configured app id: iss and aud of its session JWTs
SIGNER = SessionSigner(secret=SECRET, app_id=APP_ID)
USERINFO = {"sub": "7d0f3c52-1c1e-4f55-8f0e-2b7c1d9e4a11", "email": "ada@altx10.dev", "name": "Ada Lovelace",
            "given_name": "Ada", "family_name": "Lovelace", "email_verified": True, "groups": ["developers"]}

# Each would send the browser off this app (or smuggle a header) if it were used as the redirect target.
HOSTILE = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example/me",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%5Cevil.example",
    "/%255C%255Cevil.example",
    "/%252F%252Fevil.example",
    "%2F%2Fevil.example",
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/\t/evil.example",
    "/\n/evil.example",
    "/%09/evil.example",
    "/\r\nSet-Cookie: session=attacker",
    "/\x00/evil.example",
    " //evil.example",
    "https:evil.example",
    "http:/\\evil.example",
    "/..//evil.example",
    "/%2e%2e//evil.example",
    "/./me",
    "\uff0f\uff0fevil.example",
    "/\u2215\u2215evil.example",
    "evil.example",
    "me",
    "@evil.example",
    "/" + "a" * 5000,
]
GOOD = ["/", "/me", "/notes/3?sort=asc", "/a/b#top", "/search?q=%2F%2Fnot-a-host", "/caf%C3%A9", "/x:y@z"]


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalPocketId]:
    with LocalPocketId(key=demo_key()) as running:
        yield running


@pytest.fixture(scope="module")
def demo(idp: LocalPocketId):
    # PKCE required: every successful login below proves the app sends its verifier.
    return idp.seed_demo(callback_urls=CALLBACKS, logout_callback_urls=LOGOUT_CALLBACKS, pkce=True)


@pytest.fixture(scope="module")
def app_server(idp: LocalPocketId, demo) -> Iterator[AppServer]:
    with serve(idp, demo, signer=SIGNER) as server:
        yield server


@pytest.fixture
def browser(idp: LocalPocketId, demo) -> requests.Session:
    """A fresh "browser" signed in at the stand-in only (cookies ignore ports: keep one per test)."""
    return provider_session(idp, demo)


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=10, **kwargs)


def post(url: str, **kwargs) -> requests.Response:
    return requests.post(url, timeout=10, **kwargs)


def cookie(name: str, value: str) -> dict[str, str]:
    return {"Cookie": f"{name}={value}"}


def mint(**kwargs) -> str:
    return SIGNER.create_token(USERINFO, **kwargs)


# -- redirectTo ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_safe_redirect_refuses_anything_but_a_local_path(value: str) -> None:
    assert safe_redirect(value) == "/"


@pytest.mark.parametrize("value", GOOD)
def test_safe_redirect_keeps_paths_on_this_app(value: str) -> None:
    assert safe_redirect(value) == value


def test_safe_redirect_refuses_non_strings() -> None:
    assert safe_redirect(None) == "/" and safe_redirect(b"/me") == "/" and safe_redirect(["/me"]) == "/"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.from_regex(r"\A[/\\%25a-z.:@?#]{0,12}\Z"))
def test_safe_redirect_never_leaves_the_origin(value: str) -> None:
    result = safe_redirect(value)
    assert result in ("/", value)
    assert urlsplit(urljoin("https://app.example/a/b", result)).netloc == "app.example"
    assert result.startswith("/") and not result.startswith("//") and "\\" not in result
    assert result.isascii() and result.isprintable() and " " not in result


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_hostile_redirect_to_lands_on_root_after_a_real_login(app_server: AppServer, browser, value: str) -> None:
    *_, callback = login_hops(browser, app_server.url, value)
    assert callback.status_code == 302
    assert callback.headers["Location"] == "/"
    assert webapp(app_server.app).session_cookie in set_cookies(callback)


@pytest.mark.parametrize("value", ["/me", "/notes/3?sort=asc", "/whoami#top"])
def test_local_redirect_to_is_kept(app_server: AppServer, browser, value: str) -> None:
    *_, callback = login_hops(browser, app_server.url, value)
    assert callback.headers["Location"] == value


def test_repeated_redirect_to_falls_back_to_root(app_server: AppServer, browser) -> None:
    start = browser.get(f"{app_server.url}/login?redirectTo=/me&redirectTo=//evil.example", allow_redirects=False)
    authorize = browser.get(start.headers["Location"], allow_redirects=False)
    callback = browser.get(authorize.headers["Location"], allow_redirects=False)
    assert callback.headers["Location"] == "/"


# -- the whole login --------------------------------------------------------------------------------------


def test_full_login_with_requests_following_redirects(app_server: AppServer, idp: LocalPocketId, demo) -> None:
    http = requests.Session()
    page = http.get(f"{app_server.url}/me")
    assert page.status_code == 200 and page.url.startswith(f"{idp.url}/login?redirect=")
    assert [urlsplit(r.url).path for r in page.history] == ["/me", "/login", "/authorize"]

    final = sign_in_with_login_code(http, page.url, demo.login_code())

    assert final.status_code == 200 and final.url == f"{app_server.url}/me"
    body = final.json()
    assert body["sub"] == demo.user["id"] and body["design"] == "jwt"
    assert body["userInfo"]["email"] == "demo@altx10.dev" and body["userInfo"]["groups"] == ["developers"]
    assert "/auth/callback" in [urlsplit(r.url).path for r in final.history]
    claims = SIGNER.validate_token(http.cookies["session"])
    assert claims.userInfo.name == "Demo User" and claims.exp - claims.iat == 24 * 3600
    assert http.get(f"{app_server.url}/api/me").json()["sub"] == demo.user["id"]
    assert "login_state" not in http.cookies  # one login, one callback


def test_the_authorization_request_carries_state_nonce_and_pkce(app_server: AppServer) -> None:
    start = get(f"{app_server.url}/login", allow_redirects=False)
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 22 and len(query["nonce"][0]) >= 22
    assert query["scope"] == ["openid email profile groups"]
    # the verifier stays in this browser's signed cookie, never in the URL
    state_cookie = set_cookies(start)["login_state"].value
    payload = SessionSigner(secret=SECRET).validate_signed_state(state_cookie)
    assert payload["verifier"] not in start.headers["Location"]
    assert payload["state"] == query["state"][0] and payload["redirectTo"] == "/"


def test_auto_authorize_returns_to_the_same_path_and_query(app_server: AppServer, browser) -> None:
    http = browser
    first = http.get(f"{app_server.url}/notes/3?sort=asc", allow_redirects=False)
    assert first.status_code == 302
    assert first.headers["Location"] == "/login?redirectTo=%2Fnotes%2F3%3Fsort%3Dasc"
    final = http.get(f"{app_server.url}/notes/3?sort=asc")
    assert final.url == f"{app_server.url}/notes/3?sort=asc"
    assert final.json()["note"] == 3 and final.json()["owner"] == browser_sub(app_server, http)


def browser_sub(server: AppServer, http: requests.Session) -> str:
    return http.get(f"{server.url}/api/me").json()["sub"]


# -- decorators -------------------------------------------------------------------------------------------


def test_auto_authorize_redirects_when_signed_out(app_server: AppServer) -> None:
    answer = get(f"{app_server.url}/me", allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["Location"] == "/login?redirectTo=%2Fme"


def test_authorized_answers_401_json_when_signed_out(app_server: AppServer) -> None:
    for method in ("GET", "POST"):
        answer = requests.request(method, f"{app_server.url}/api/notes", allow_redirects=False, timeout=10)
        assert answer.status_code == 401
        assert answer.json()["error"] == "login_required" and "no session cookie" in answer.json()["error_description"]


def test_decorators_pass_the_session_through(app_server: AppServer) -> None:
    headers = cookie("session", mint())
    assert get(f"{app_server.url}/api/notes", headers=headers).json() == {
        "owner": USERINFO["sub"], "email": "ada@altx10.dev"}
    assert get(f"{app_server.url}/notes/7", headers=headers).json() == {"note": 7, "owner": USERINFO["sub"]}
    assert get(f"{app_server.url}/whoami", headers=headers).json() == {"sub": USERINFO["sub"]}
    assert "Signed in as <strong>Ada Lovelace</strong>" in get(app_server.url, headers=headers).text


@pytest.mark.parametrize("path", ["/api/notes", "/notes/7"])
def test_signed_in_cross_site_posts_are_refused_by_the_decorators(app_server: AppServer, path: str) -> None:
    """SameSite=Lax lets a sibling *.altx10.dev app POST with the cookie; the decorators refuse it."""
    signed_in = cookie("session", mint())
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://photos.altx10.dev"}):
        answer = post(f"{app_server.url}{path}", headers={**signed_in, **headers})
        assert answer.status_code == 403, headers
        assert answer.json()["error"] == "cross_site_request"
    host = app_server.url.split("://", 1)[1]
    for headers in ({"Sec-Fetch-Site": "same-origin"}, {"Origin": f"http://{host}"}, {}):
        answer = post(f"{app_server.url}{path}", headers={**signed_in, **headers})
        assert answer.status_code == 200, headers
    cross_site_get = get(f"{app_server.url}{path}", headers={**signed_in, "Sec-Fetch-Site": "cross-site"})
    assert cross_site_get.status_code == 200, "a GET changes nothing, so a link from another site still works"


def test_maybe_authorized_gives_none_and_never_refuses(app_server: AppServer) -> None:
    for headers in ({}, cookie("session", "garbage"), cookie("session", mint(now=time.time() - 3 * 86400))):
        answer = get(f"{app_server.url}/whoami", headers=headers)
        assert answer.status_code == 200 and answer.json() == {"sub": None}
    assert "Not signed in" in get(app_server.url).text


# -- refused session cookies ------------------------------------------------------------------------------


def _tampered() -> str:
    header, _, signature = mint().split(".")
    other = SIGNER.create_token({**USERINFO, "sub": "someone-else"}).split(".")[1]
    return f"{header}.{other}.{signature}"


def _claims(**changes) -> dict:
    now = int(time.time())
    return {"sub": USERINFO["sub"], "exp": now + 3600, "iat": now, "userInfo": USERINFO, "dynamic": {}, **changes}


def _rs256() -> str:
    pem = demo_key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    return sign(_claims(), serialization.load_pem_private_key(pem, None), "RS256")


REFUSED = {
    "tampered payload": (_tampered, "BadSignature"),
    "expired": (lambda: mint(now=time.time() - 2 * 86400), "Expired"),
    "issued in the future": (lambda: mint(now=time.time() + 3600), "NotYetValid"),
    "HS512 with the same secret": (lambda: sign(_claims(), SECRET, "HS512"), "DisallowedAlgorithm"),
    "alg none, no signature": (lambda: "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + mint().split(".")[1] + ".",
                               "MalformedToken"),
    "alg none, old signature": (lambda: "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + mint().split(".", 1)[1],
                                "DisallowedAlgorithm"),
    "RS256 with the demo key": (_rs256, "DisallowedAlgorithm"),
    "another secret": (lambda: SessionSigner(secret=b"x" * 32).create_token(USERINFO), "BadSignature"),
    "garbage": (lambda: "not-a-jwt", "MalformedToken"),
    "three empty parts": (lambda: "..", "MalformedToken"),
    "huge": (lambda: "a" * 3000 + "." + "b" * 3000 + ".c", "MalformedToken"),
    "valid JWT of another shape": (lambda: sign({"sub": "x", "exp": 2**40, "iat": 1}, SECRET, "HS256"),
                                   "MissingClaim"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_bad_session_cookies_are_refused_with_a_reason(app_server: AppServer, name: str) -> None:
    make, reason = REFUSED[name]
    answer = get(f"{app_server.url}/api/me", headers=cookie("session", make()))
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "login_required" and reason in answer.json()["error_description"]


def test_auto_authorize_clears_a_refused_cookie_and_sends_to_login(app_server: AppServer) -> None:
    answer = get(f"{app_server.url}/me", headers=cookie("session", _tampered()), allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?redirectTo=")
    cleared = set_cookies(answer)["session"]
    assert cleared.value == "" and cleared.attrs["max-age"] == "0"


def test_two_session_cookies_are_refused(app_server: AppServer) -> None:
    headers = {"Cookie": f"session={mint()}; session={mint()}"}
    answer = get(f"{app_server.url}/api/me", headers=headers)
    assert answer.status_code == 401 and "2 session cookies" in answer.json()["error_description"]


def test_another_app_with_the_same_secret_refuses_the_cookie(idp: LocalPocketId, demo) -> None:
    """notes and photos share JWT_SECRET; each app's cookie names it (iss, aud), so neither accepts the other's."""
    with serve(idp, demo, app_id="https://notes.altx10.dev") as notes, \
            serve(idp, demo, app_id="https://photos.altx10.dev") as photos, \
            serve(idp, demo, app_id="https://notes.altx10.dev") as notes_again:  # a second instance of notes
        *_, callback = login_hops(provider_session(idp, demo), notes.url, "/me")
        cookie_value = set_cookies(callback)["session"].value
        assert get(f"{notes.url}/api/me", headers=cookie("session", cookie_value)).status_code == 200
        assert get(f"{notes_again.url}/api/me", headers=cookie("session", cookie_value)).status_code == 200
        refused = get(f"{photos.url}/api/me", headers=cookie("session", cookie_value))
        assert refused.status_code == 401, refused.text
        assert "WrongIssuer" in refused.json()["error_description"]
        assert "https://photos.altx10.dev" in refused.json()["error_description"]
        with pytest.raises(WrongIssuer):
            webapp(photos.app).signer.validate_token(cookie_value)


def test_by_default_the_app_id_is_the_redirect_uri_origin(idp: LocalPocketId, demo) -> None:
    with serve(idp, demo) as first, serve(idp, demo) as second:  # same secret, two loopback ports: two apps
        assert webapp(first.app).signer.app_id == first.url
        *_, callback = login_hops(provider_session(idp, demo), first.url, "/me")
        value = set_cookies(callback)["session"].value
        assert decode_unverified(value)[1]["iss"] == decode_unverified(value)[1]["aud"] == first.url
        assert get(f"{first.url}/api/me", headers=cookie("session", value)).status_code == 200
        refused = get(f"{second.url}/api/me", headers=cookie("session", value))
        assert refused.status_code == 401 and "WrongIssuer" in refused.json()["error_description"]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=";"), max_size=300))
def test_random_cookies_never_cause_a_server_error(value: str) -> None:
    app = _offline_app()
    with app.test_client() as http:
        for path in ("/api/me", "/me", "/whoami", "/auth/callback"):
            answer = http.get(path, headers={"Cookie": f"session={value}; login_state={value}"})
            assert answer.status_code < 500, (path, answer.get_data(as_text=True))


def _offline_app(**kwargs):
    """An app whose provider is never reached (for requests that must not get that far)."""
    client = PocketIdClient("http://127.0.0.1:9", "client", "secret-secret-secret", "http://127.0.0.1:5000/auth/callback")
    app = create_app(client=client, signer=SessionSigner(secret=SECRET), **kwargs)
    add_demo_routes(app)
    return app


# -- cookie attributes, read from real Set-Cookie headers ---------------------------------------------------


def test_session_cookie_attributes_over_http(app_server: AppServer, browser) -> None:
    start, _, callback = login_hops(browser, app_server.url, "/me")
    state = set_cookies(start)["login_state"]
    assert state.attrs["max-age"] == "300" and state.attrs["httponly"] is True and state.attrs["path"] == "/"
    cookies = set_cookies(callback)
    session = cookies["session"]
    assert session.attrs["httponly"] is True
    assert session.attrs["samesite"] == "Lax"
    assert session.attrs["path"] == "/"
    assert "domain" not in session.attrs  # host-only: no other altx10 app receives it
    assert "secure" not in session.attrs  # plain http: a Secure cookie would be dropped or never sent back
    assert session.attrs["max-age"] == "86400" and "expires" in session.attrs
    assert cookies["login_state"].value == "" and cookies["login_state"].attrs["max-age"] == "0"


def test_https_app_uses_host_prefix_and_secure(idp: LocalPocketId, demo, browser) -> None:
    client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, "https://app.example/auth/callback")
    app = create_app(client=client, signer=SessionSigner(secret=SECRET))
    with app.test_client() as http:
        start = http.get("/login?redirectTo=/me", base_url="https://app.example")
        state = set_cookies(start)["__Host-login_state"]
        assert state.attrs["secure"] is True and state.attrs["path"] == "/" and "domain" not in state.attrs
        authorize = browser.get(start.headers["Location"], allow_redirects=False)
        callback_url = authorize.headers["Location"]
        assert callback_url.startswith("https://app.example/auth/callback?")
        done = http.get(callback_url[len("https://app.example"):], base_url="https://app.example")
        assert done.status_code == 302 and done.headers["Location"] == "/me"
        cookies = set_cookies(done)
        assert "session" not in cookies
        session = cookies["__Host-session"]
        assert session.attrs["secure"] is True and session.attrs["httponly"] is True
        assert session.attrs["samesite"] == "Lax" and session.attrs["path"] == "/" and "domain" not in session.attrs
        me = http.get("/api/me", base_url="https://app.example")
        assert me.status_code == 200 and me.get_json()["sub"] == demo.user["id"]
        out = http.post("/logout", base_url="https://app.example")
        cleared = set_cookies(out)["__Host-session"]
        assert cleared.value == "" and cleared.attrs["max-age"] == "0" and cleared.attrs["secure"] is True


def test_secure_flag_can_be_forced_on_http() -> None:
    app = _offline_app(secure_cookies=True)
    with app.test_client() as http:
        answer = http.get("/register")
    csrf = set_cookies(answer)["csrf"]
    assert csrf.attrs["secure"] is True and csrf.attrs["httponly"] is True


def test_cookie_expiry_follows_the_app_clock() -> None:
    clock = FrozenClock(1_800_000_000)
    app = _offline_app(now=clock)
    with app.test_client() as http:
        csrf = set_cookies(http.get("/register"))["csrf"]
    assert csrf.attrs["expires"] == "Fri, 15 Jan 2027 08:05:00 GMT"  # 1_800_000_000 + 300 s


def test_logout_clears_the_cookie(app_server: AppServer, browser) -> None:
    http = browser
    login_hops(http, app_server.url, "/me")
    assert http.get(f"{app_server.url}/api/me").status_code == 200
    out = http.post(f"{app_server.url}/logout", allow_redirects=False)
    assert out.status_code == 303 and out.headers["Location"] == "/"
    cleared = set_cookies(out)["session"]
    assert cleared.value == "" and cleared.attrs["max-age"] == "0" and cleared.attrs["path"] == "/"
    assert http.get(f"{app_server.url}/api/me").status_code == 401


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://photos.altx10.dev", "Sec-Fetch-Site": "same-site"},  # a sibling app is another origin
    {"Origin": "null"},
])
def test_logout_refuses_a_cross_site_post(app_server: AppServer, headers: dict[str, str]) -> None:
    answer = post(f"{app_server.url}/logout", headers={**cookie("session", mint()), **headers},
                  allow_redirects=False)
    assert answer.status_code == 403 and answer.json()["error"] == "cross_site_request"
    assert "Set-Cookie" not in answer.headers


def test_logout_page_is_a_form_not_an_action(app_server: AppServer) -> None:
    answer = get(f"{app_server.url}/logout", headers=cookie("session", mint()))
    assert answer.status_code == 200 and 'method="post" action="/logout"' in answer.text
    assert "Set-Cookie" not in answer.headers


def test_logout_through_pocket_id_end_session(idp: LocalPocketId, demo) -> None:
    http = provider_session(idp, demo)
    with serve(idp, demo, end_session=True) as server:
        login_hops(http, server.url, "/me")
        out = http.post(f"{server.url}/logout", allow_redirects=False)
        end = urlsplit(out.headers["Location"])
        assert f"{end.scheme}://{end.netloc}{end.path}" == f"{idp.url}/api/oidc/end-session"
        query = parse_qs(end.query)
        assert query["post_logout_redirect_uri"] == [f"{server.url}/"] and query["id_token_hint"][0].count(".") == 2
        back = http.get(out.headers["Location"], allow_redirects=False)
        assert back.status_code == 302 and back.headers["Location"].startswith(f"{server.url}/?state=")
        # signed out at Pocket ID too: the next login needs the sign-in page again
        start = http.get(f"{server.url}/login", allow_redirects=False)
        again = http.get(start.headers["Location"], allow_redirects=False)
        assert again.headers["Location"].startswith(f"{idp.url}/login?")


# -- the callback refuses bad input -------------------------------------------------------------------------


def _remac(state: str) -> str:
    """The same body with a well-formed MAC from another key (tampering that only the MAC check catches)."""
    other = SessionSigner(secret=b"another key, 32 bytes or longer!").sign_state({})
    return state.split(".")[0] + "." + other.split(".")[1]


def _started(server: AppServer, http: requests.Session) -> str:
    """Start a login; the state the provider would echo back."""
    start = http.get(f"{server.url}/login", allow_redirects=False)
    return parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]


def test_callback_without_a_login_in_this_browser(app_server: AppServer) -> None:
    answer = get(f"{app_server.url}/auth/callback?code=abc&state=abcdefgh")
    assert answer.status_code == 400 and answer.json()["error"] == "no_login_in_progress"


@pytest.mark.parametrize(("query", "error"), [
    ("code=abc&state=WRONG-STATE-VALUE&iss={iss}", "state_mismatch"),
    ("code=abc&iss={iss}", "missing_state"),
    ("state={state}&iss={iss}", "missing_code"),
    ("code=abc&state={state}&iss=https%3A%2F%2Fevil.example", "iss_mismatch"),
    ("code=abc&state={state}", "missing_iss"),
    ("error=access_denied&error_description=no&state={state}&iss={iss}", "access_denied"),
    ("code=abc&code=def&state={state}&iss={iss}", "invalid_request"),
    ("code=not-a-real-code&state={state}&iss={iss}", "invalid_grant"),
])
def test_callback_refuses_bad_parameters(app_server: AppServer, idp: LocalPocketId, query: str, error: str) -> None:
    http = requests.Session()
    state = _started(app_server, http)
    answer = http.get(f"{app_server.url}/auth/callback?" + query.format(state=state, iss=requests.utils.quote(
        idp.url, safe="")))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error
    assert "session" not in http.cookies and "login_state" not in http.cookies


def test_tampered_or_stale_login_cookie_is_refused(idp: LocalPocketId, demo, browser) -> None:
    clock = FrozenClock(time.time())
    with serve(idp, demo, now=clock) as server:
        start = browser.get(f"{server.url}/login", allow_redirects=False)
        authorize = browser.get(start.headers["Location"], allow_redirects=False)
        callback_url = authorize.headers["Location"]
        value = set_cookies(start)["login_state"].value
        forged = get(callback_url, headers=cookie("login_state", _remac(value)))
        assert forged.status_code == 400 and "BadSignature" in forged.json()["error_description"]
        clock.advance(301)
        stale = get(callback_url, headers=cookie("login_state", value))
        assert stale.status_code == 400 and "Expired" in stale.json()["error_description"]


def test_a_replayed_callback_is_refused(app_server: AppServer, browser) -> None:
    http = browser
    start, authorize, callback = login_hops(http, app_server.url, "/me")
    assert callback.status_code == 302
    replay = get(authorize.headers["Location"], headers=cookie("login_state",
                                                                        set_cookies(start)["login_state"].value))
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_unreachable_provider_is_a_502_not_a_500() -> None:
    with _offline_app().test_client() as http:
        answer = http.get("/login?redirectTo=/me")
    assert answer.status_code == 502 and answer.get_json()["error"] == "provider_error"


# -- the ID token is checked, not trusted (a provider that lies) --------------------------------------------


@pytest.fixture(scope="module")
def hostile_clock() -> FrozenClock:
    return FrozenClock(time.time())


@pytest.fixture(scope="module")
def hostile(hostile_clock: FrozenClock) -> Iterator[HostileProvider]:
    with HostileProvider(hostile_clock) as provider:
        yield provider


def _login_against(provider: HostileProvider, clock: FrozenClock):
    client = PocketIdClient(provider.url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, clock=clock)
    app = create_app(client=client, signer=SessionSigner(secret=SECRET), now=clock)
    base = "http://127.0.0.1:8765"
    http = app.test_client()
    start = http.get("/login?redirectTo=/me", base_url=base)
    callback = get(start.headers["Location"], allow_redirects=False).headers["Location"]
    return http.get(callback[len(base):], base_url=base)


def test_hostile_provider_honest_login_works(hostile: HostileProvider, hostile_clock: FrozenClock) -> None:
    hostile.reset()
    answer = _login_against(hostile, hostile_clock)
    assert answer.status_code == 302 and answer.headers["Location"] == "/me"
    assert "session" in set_cookies(answer)


@pytest.mark.parametrize(("knobs", "status", "error"), [
    ({"id_token_claims": {"nonce": "another-login-s-nonce"}}, 400, "invalid_id_token"),
    ({"id_token_claims": {"nonce": DELETE}}, 400, "invalid_id_token"),
    ({"id_token_claims": {"aud": ["someone-else"]}}, 400, "invalid_id_token"),
    ({"id_token_claims": {"iss": "https://evil.example"}}, 400, "invalid_id_token"),
    ({"signing": "none"}, 400, "invalid_id_token"),
    ({"signing": "bad-signature"}, 400, "invalid_id_token"),
    ({"signing": "HS256-client-secret"}, 400, "invalid_id_token"),
    ({"callback": {"iss": "https://evil.example"}}, 400, "iss_mismatch"),
    ({"userinfo": {"sub": "someone-else"}}, 502, "provider_error"),
    ({"userinfo": {"email": 42}}, 502, "provider_error"),
    ({"token_response": {"token_type": "mac"}}, 502, "provider_error"),
])
def test_a_lying_provider_does_not_sign_anyone_in(hostile: HostileProvider, hostile_clock: FrozenClock, knobs: dict,
                                                  status: int, error: str) -> None:
    hostile.reset()
    for name, value in knobs.items():
        setattr(hostile.knobs, name, value)
    answer = _login_against(hostile, hostile_clock)
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.get_json()["error"] == error
    assert "session" not in set_cookies(answer)


def test_the_hostile_fixture_user_is_what_the_session_holds(hostile: HostileProvider,
                                                            hostile_clock: FrozenClock) -> None:
    hostile.reset()
    answer = _login_against(hostile, hostile_clock)
    token = set_cookies(answer)["session"].value
    bound = SessionSigner(secret=SECRET, app_id=app_origin(REDIRECT_URI))  # what create_app bound its signer to
    session: UserSession = bound.validate_token(token, now=hostile_clock())
    assert session.sub == USER["sub"] and session.userInfo.email == USER["email"]


# -- /register: consent form, signed CSRF token, Pocket ID signup link ----------------------------------------


def _register_form(http: requests.Session, server: AppServer) -> str:
    page = http.get(f"{server.url}/register")
    assert page.status_code == 200
    return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_register_sends_to_a_pocket_id_signup_link(app_server: AppServer, idp: LocalPocketId) -> None:
    http = requests.Session()
    page = http.get(f"{app_server.url}/register")
    assert page.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page.headers[
        "Content-Security-Policy"]
    assert set_cookies(page)["csrf"].attrs["httponly"] is True
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = http.post(f"{app_server.url}/register", data={"csrf_token": token, "consent": "yes"},
                       allow_redirects=False)
    assert answer.status_code == 303
    link = answer.headers["Location"]
    assert link.startswith(f"{idp.url}/signup?token=")
    signup = get(link)
    assert signup.status_code == 200 and "Create your account" in signup.text
    assert set_cookies(answer)["csrf"].attrs["max-age"] == "0"


def test_register_refuses_a_post_without_a_valid_csrf_token(app_server: AppServer) -> None:
    http = requests.Session()
    token = _register_form(http, app_server)
    other = requests.Session()
    other_token = _register_form(other, app_server)
    cases = {
        "no token": (http, {"consent": "yes"}),
        "empty token": (http, {"csrf_token": "", "consent": "yes"}),
        "tampered token": (http, {"csrf_token": _remac(token), "consent": "yes"}),
        "another browser's token": (http, {"csrf_token": other_token, "consent": "yes"}),
        "no cookie (cross-site form)": (requests.Session(), {"csrf_token": token, "consent": "yes"}),
        "a login state is not a CSRF token": (http, {"csrf_token": SessionSigner(secret=SECRET).sign_state(
            {"purpose": "login", "csrf": http.cookies["csrf"]}), "consent": "yes"}),
    }
    for name, (session, form) in cases.items():
        answer = session.post(f"{app_server.url}/register", data=form, allow_redirects=False)
        assert answer.status_code == 403, name
        assert answer.json()["error"] == "csrf_failed", name


def test_register_token_expires_after_five_minutes(idp: LocalPocketId, demo) -> None:
    clock = FrozenClock(time.time())
    with serve(idp, demo, now=clock) as server:
        http = requests.Session()
        token = _register_form(http, server)
        clock.advance(301)
        answer = http.post(f"{server.url}/register", data={"csrf_token": token, "consent": "yes"},
                           allow_redirects=False)
        assert answer.status_code == 403 and "Expired" in answer.json()["error_description"]


def test_register_needs_consent_and_single_fields(app_server: AppServer) -> None:
    http = requests.Session()
    token = _register_form(http, app_server)
    no_consent = http.post(f"{app_server.url}/register", data={"csrf_token": token}, allow_redirects=False)
    assert no_consent.status_code == 400 and no_consent.json()["error"] == "consent_required"
    repeated = http.post(f"{app_server.url}/register", data=[("csrf_token", token), ("csrf_token", token),
                                                             ("consent", "yes")], allow_redirects=False)
    assert repeated.status_code == 400 and repeated.json()["error"] == "invalid_request"
    as_json = http.post(f"{app_server.url}/register", json={"csrf_token": token, "consent": "yes"},
                        allow_redirects=False)
    assert as_json.status_code == 403


def test_register_without_admin_key_is_503(idp: LocalPocketId, demo) -> None:
    with AppServer() as server:
        client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, server.url + "/auth/callback")
        server.mount(create_app(client=client, signer=SessionSigner(secret=SECRET)))
        http = requests.Session()
        token = _register_form(http, server)
        answer = http.post(f"{server.url}/register", data={"csrf_token": token, "consent": "yes"},
                           allow_redirects=False)
    assert answer.status_code == 503 and answer.json()["error"] == "not_configured"


# -- odd requests, and configuration mistakes ---------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("GET", "/auth/callback?code=%ff%fe&state=%00", {}),
    ("GET", "/auth/callback?state=%ff&code=%00%0d%0a", {"headers": {"Cookie": "login_state=%ff.%00"}}),
    ("GET", "/nowhere", {}),
    ("DELETE", "/me", {}),
    ("POST", "/register", {"data": b"\xff\xfe=\x00", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("POST", "/register", {"data": "csrf_token=" + "a" * 10000}),
    ("POST", "/logout", {"headers": {"Cookie": "session=\x7f\x01"}}),
    ("GET", "/me", {"headers": {"Cookie": "session=" + "%" * 4000}}),
])
def test_odd_requests_get_a_4xx_json_answer(method: str, path: str, kwargs: dict) -> None:
    with _offline_app().test_client() as http:
        answer = http.open(path, method=method, **kwargs)
    assert 300 <= answer.status_code < 500, answer.get_data(as_text=True)
    if answer.status_code >= 400:
        assert set(answer.get_json()) == {"error", "error_description"}


def test_configuration_mistakes_are_reported() -> None:
    client = PocketIdClient("http://127.0.0.1:9", "c", "s", "http://127.0.0.1:5000/auth/callback")
    signer = SessionSigner(secret=SECRET)
    with pytest.raises(ConfigurationError, match="design"):
        create_app(client=client, signer=signer, design="cookies")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="design='server'"):
        create_app(client=client, signer=signer, store=object())  # type: ignore[arg-type]
    wrong = PocketIdClient("http://127.0.0.1:9", "c", "s", "http://127.0.0.1:5000/callback")
    with pytest.raises(ConfigurationError, match="/auth/callback"):
        create_app(client=wrong, signer=signer)
    with pytest.raises(ConfigurationError, match="not made by"):
        webapp(Flask("other"))
    with pytest.raises(ConfigurationError, match="the signer is for app"):
        create_app(client=client, signer=SessionSigner(secret=SECRET, app_id="https://photos.altx10.dev"),
                   app_id="https://notes.altx10.dev")
    with pytest.raises(ConfigurationError, match="new_deny_list"):
        create_app(client=client, signer=SessionSigner(secret=SECRET, leeway=120), deny_list=DenyList())
    assert webapp(create_app(client=client, signer=signer)).signer.app_id == "http://127.0.0.1:5000"
    assert signer.app_id is None  # create_app bound a copy, not the signer it was given
