"""Hostile input to every endpoint: always a well-formed 4xx (OAuth/API JSON, or the HTML error page on
browser endpoints) or a normal answer, never a 500 or a traceback.

Runs against the Flask test client for speed; the app is seeded with real users, clients, codes and tokens
so that fuzzed requests also reach the deeper checks, not only the first "unknown client" answer.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from idp_support import CALLBACK, make_driver

from altx10_helpers.idp.testing import Driver, basic_auth, pkce_pair


def _seeded() -> tuple[Driver, dict[str, str]]:
    d = make_driver(23)
    user = d.user("fuzz")
    group = d.admin("POST", "/api/user-groups", {"friendlyName": "Fuzzers", "name": "fuzzers"})
    client, secret = d.client()
    public = d.client(isPublic=True, name="public")[0]
    consenting = d.client(skipConsent=False, name="consent")[0]
    cookie = d.sign_in(user["id"])
    verifier, challenge = pkce_pair()
    cb = d.code({"client_id": client["id"], "redirect_uri": CALLBACK, "response_type": "code", "scope": "openid",
                 "state": "state-123456", "code_challenge": challenge, "code_challenge_method": "S256"}, cookie)
    tokens = d.token({"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": CALLBACK,
                      "code_verifier": verifier}, auth=(client["id"], secret)).get_json()
    fresh = d.code({"client_id": client["id"], "redirect_uri": CALLBACK, "response_type": "code",
                    "scope": "openid", "state": "state-123456"}, cookie)
    signup = d.admin("POST", "/api/signup-tokens", {"usageLimit": 100})
    known = {
        "user_id": user["id"], "group_id": group["id"], "client_id": client["id"], "secret": secret,
        "public_id": public["id"], "consent_id": consenting["id"], "cookie": cookie, "code": fresh["code"],
        "used_code": cb["code"], "verifier": verifier, "challenge": challenge,
        "access_token": tokens["access_token"], "id_token": tokens["id_token"],
        "refresh_token": tokens["refresh_token"], "login_code": d.login_code(user["id"]),
        "signup_token": signup["token"],
        "secret_id": d.admin("GET", f"/api/oidc/clients/{client['id']}/secrets")[0]["id"],
    }
    return d, known


D, KNOWN = _seeded()

PATHS = [
    "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/.well-known/jwks.json",
    "/authorize", "/api/oidc/token", "/api/oidc/userinfo", "/api/oidc/end-session", "/api/oidc/introspect",
    "/api/users", "/api/users/me", "/api/users/{user_id}", "/api/users/{user_id}/groups",
    "/api/users/{user_id}/user-groups", "/api/users/{user_id}/one-time-access-token",
    "/api/users/{user_id}/profile-picture.png", "/api/one-time-access-token/{login_code}",
    "/api/user-groups", "/api/user-groups/{group_id}", "/api/user-groups/{group_id}/users",
    "/api/oidc/clients", "/api/oidc/clients/{client_id}", "/api/oidc/clients/{client_id}/meta",
    "/api/oidc/clients/{client_id}/secrets", "/api/oidc/clients/{client_id}/secrets/{secret_id}",
    "/api/custom-claims/user/{user_id}", "/api/custom-claims/user-group/{group_id}", "/api/signup-tokens",
    "/api/signup", "/signup", "/login", "/lc/{login_code}", "/", "/healthz",
]
BROWSER = ("/authorize", "/api/oidc/end-session", "/signup", "/login", "/lc/", "/")
PARAM_NAMES = ["client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge",
               "code_challenge_method", "response_mode", "prompt", "max_age", "request", "request_uri", "grant_type",
               "code", "code_verifier", "refresh_token", "client_secret", "token", "id_token_hint",
               "post_logout_redirect_uri", "consent", "csrf_token", "redirect", "username", "email", "firstName",
               "ttl", "usageLimit", "userGroupIds", "userIds", "pagination[page]", "pagination[limit]", "search"]
GOOD_VALUES = [*KNOWN.values(), CALLBACK, "code", "openid", "openid profile email groups", "authorization_code",
               "refresh_token", "S256", "plain", "none", "login", "consent", "form_post", "fragment", "allow",
               "state-123456", "15m", "1", "0", "-1", "/authorize?x=1", "//evil.example"]
HOSTILE = ["", " ", "\x00", "%", "%zz", "\u202e", "\ud800", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "A" * 5000, "a" * 200_000, '"', "'",
           "<script>alert(1)</script>", "../../etc/passwd", "Basic", "null", "[]", "{}", "1e999", "NaN",
           "http://127.0.0.1:1/cb", "javascript:alert(1)", "https://app.example/callback/../x"]

def encode_pairs(pairs: list[tuple[str, str]]) -> str:
    """Form/query encoding that keeps lone surrogates as the invalid UTF-8 a hostile client would send."""
    return "&".join(f"{quote(k, safe='', errors='surrogatepass')}={quote(v, safe='', errors='surrogatepass')}"
                    for k, v in pairs)


latin1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60)
values = st.one_of(st.sampled_from(GOOD_VALUES), st.sampled_from(HOSTILE), st.text(max_size=40))
params = st.lists(st.tuples(st.one_of(st.sampled_from(PARAM_NAMES), st.text(max_size=12)), values), max_size=8)


def _json_values():
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), values)
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from([
            *PARAM_NAMES, "name", "callbackURLs", "logoutCallbackURLs", "isPublic", "pkceEnabled", "skipConsent",
            "key", "value", "secret", "friendlyName", "lastName", "displayName", "id", "isAdmin", "disabled",
            "token"]),
            st.text(max_size=8)), inner, max_size=6)), max_leaves=12)


authorization = st.one_of(
    st.none(),
    st.just(basic_auth(KNOWN["client_id"], KNOWN["secret"])),
    st.just(f"Bearer {KNOWN['access_token']}"),
    st.builds(lambda raw: "Basic " + base64.b64encode(raw).decode(), st.binary(max_size=40)),
    st.builds(lambda text: "Basic " + text, latin1),
    st.builds(lambda text: "Bearer " + text, latin1),
    latin1,
)
content_types = st.sampled_from([None, "application/x-www-form-urlencoded", "application/json", "text/plain",
                                 "multipart/form-data", "multipart/form-data; boundary=x", "application/json; x",
                                 "application/x-www-form-urlencoded; charset=utf-16"])


@st.composite
def bodies(draw):
    kind = draw(st.sampled_from(["none", "form", "json", "bytes", "bad-json"]))
    if kind == "form":
        return encode_pairs(draw(params)).encode()
    if kind == "json":
        return json.dumps(draw(_json_values())).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "bad-json":
        return draw(st.sampled_from([b"{", b'{"a":', b"[" * 5000, b'{"a":NaN}', b"\xff\xfe{}", b'"\xed\xa0\x80"']))
    return b""


@st.composite
def paths(draw):
    template = draw(st.sampled_from(PATHS))
    for name in ("user_id", "group_id", "client_id", "login_code", "secret_id"):
        slot = "{" + name + "}"
        if slot in template:
            value = draw(st.one_of(st.just(KNOWN[name]), st.text(min_size=1, max_size=30)))
            template = template.replace(slot, quote(value, safe="", errors="replace"))
    return template


def _check(path: str, method: str, response) -> None:
    assert response.status_code < 500, (method, path, response.status_code, response.get_data(as_text=True)[:300])
    if 300 <= response.status_code < 400:
        assert response.headers.get("Location"), (method, path)
        return
    if response.status_code < 400 or method == "HEAD":
        return
    api = (path.startswith(("/api/", "/.well-known/")) and not path.startswith("/api/oidc/end-session")) \
        or path.startswith("/healthz")
    if api:
        assert response.mimetype == "application/json", (method, path, response.get_data(as_text=True)[:200])
        body = response.get_json()
        assert isinstance(body, dict) and set(body) == {"error", "error_description"}, body
        assert isinstance(body["error"], str) and body["error"] and isinstance(body["error_description"], str)
    else:
        assert path.startswith(BROWSER) or path == "/", path
        assert response.mimetype == "text/html"
        assert "Traceback" not in response.get_data(as_text=True)


FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(path=paths(), method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
       query=params, body=bodies(), content_type=content_types, auth=authorization,
       api_key=st.one_of(st.none(), st.just("k" * 32), latin1),
       cookie=st.one_of(st.none(), st.just(KNOWN["cookie"]), latin1))
def test_any_request_to_any_endpoint_is_answered_well(path, method, query, body, content_type, auth, api_key,
                                                      cookie):
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if auth is not None:
        headers["Authorization"] = auth
    if api_key is not None:
        headers["X-API-Key"] = api_key
    if cookie is not None:
        headers["Cookie"] = f"access_token={cookie}"
    response = D.http.open(path, method=method, query_string=encode_pairs(query), data=body, headers=headers)
    _check(path, method, response)


@FUZZ
@given(query=params, signed_in=st.booleans(), client=st.sampled_from(["client_id", "public_id", "consent_id"]),
       method=st.sampled_from(["GET", "POST"]))
def test_authorize_with_a_valid_client_and_fuzzed_parameters(query, signed_in, client, method):
    pairs = [("client_id", KNOWN[client]), ("redirect_uri", CALLBACK), *query]
    headers = D.cookie_header(KNOWN["cookie"]) if signed_in else {}
    if method == "GET":
        response = D.http.get("/authorize", query_string=encode_pairs(pairs), headers=headers)
    else:
        response = D.http.post("/authorize", data=encode_pairs(pairs), headers={
            **headers, "Content-Type": "application/x-www-form-urlencoded"})
    _check("/authorize", method, response)


@FUZZ
@given(form=params, auth=authorization)
def test_token_endpoint_with_fuzzed_forms(form, auth):
    headers = {"Content-Type": "application/x-www-form-urlencoded", **({"Authorization": auth} if auth else {})}
    response = D.http.post("/api/oidc/token", data=encode_pairs(form), headers=headers)
    _check("/api/oidc/token", "POST", response)
    if response.status_code == 401 and auth and auth.lower().startswith("basic"):
        assert response.headers["WWW-Authenticate"].startswith("Basic")


@FUZZ
@given(payload=_json_values(), path=st.sampled_from(["/api/users", "/api/user-groups", "/api/oidc/clients",
                                                      "/api/signup-tokens", "/api/signup",
                                                      f"/api/users/{KNOWN['user_id']}/one-time-access-token",
                                                      f"/api/oidc/clients/{KNOWN['client_id']}/secrets"]))
def test_admin_api_with_fuzzed_json(payload, path):
    response = D.http.post(path, json=payload, headers={"X-API-Key": "k" * 32})
    _check(path, "POST", response)


@FUZZ
@given(payload=_json_values(), path=st.sampled_from([
    f"/api/users/{KNOWN['user_id']}", f"/api/user-groups/{KNOWN['group_id']}",
    f"/api/oidc/clients/{KNOWN['consent_id']}", f"/api/custom-claims/user/{KNOWN['user_id']}",
    f"/api/custom-claims/user-group/{KNOWN['group_id']}", f"/api/user-groups/{KNOWN['group_id']}/users",
    f"/api/users/{KNOWN['user_id']}/user-groups"]))
def test_admin_updates_with_fuzzed_json(payload, path):
    response = D.http.put(path, json=payload, headers={"X-API-Key": "k" * 32})
    _check(path, "PUT", response)


@pytest.mark.parametrize(("path", "method", "body", "content_type"), [
    ("/api/users", "POST", b"[" * 100_000, "application/json"),
    ("/api/users", "POST", b"{" + b'"a":1,' * 200_000 + b"}", "application/json"),
    ("/api/oidc/token", "POST", b"grant_type=" + b"a" * (2 * 1024 * 1024), "application/x-www-form-urlencoded"),
    ("/api/oidc/token", "POST", b"grant_type=\xff\xfe&code=\xc3", "application/x-www-form-urlencoded"),
    ("/api/oidc/token", "POST", b"&".join(b"a%d=1" % i for i in range(5000)), "application/x-www-form-urlencoded"),
    ("/api/oidc/introspect", "POST", b"token=%00%ZZ", "application/x-www-form-urlencoded"),
    ("/authorize", "POST", b"client_id=" + b"x" * 100_000, "application/x-www-form-urlencoded"),
    ("/api/" + "a" * 20_000, "GET", b"", None),
])
def test_big_deep_and_broken_bodies(path, method, body, content_type):
    headers = {"X-API-Key": "k" * 32, **({"Content-Type": content_type} if content_type else {})}
    response = D.http.open(path, method=method, data=body, headers=headers)
    _check(path, method, response)
    assert 400 <= response.status_code < 500


def test_oversized_body_is_a_json_413():
    response = D.http.post("/api/users", data=b"x" * (2 * 1024 * 1024), headers={"X-API-Key": "k" * 32,
                                                                                 "Content-Type": "application/json"})
    assert response.status_code == 413 and response.get_json()["error"] == "invalid_request"
