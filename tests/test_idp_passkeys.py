"""Passkeys in the stand-in: registration and sign-in ceremonies verified with py_webauthn, against a software
authenticator built with ``cryptography``; the relying party follows the public address (APP_URL)."""

from __future__ import annotations

import json

import pytest

from altx10_helpers.b64 import b64url_decode, b64url_encode
from altx10_helpers.idp import create_app
from altx10_helpers.idp.passkeys import CHALLENGE_COOKIE
from altx10_helpers.idp.testing import Driver, FrozenClock, SoftPasskey, pkce_pair, seeded_random, session_cookie

PUBLIC = "http://localhost:8888/user/learner/proxy/41411"
ORIGIN = "http://localhost:8888"


@pytest.fixture
def driver() -> Driver:
    app = create_app(app_url=PUBLIC, internal_app_url="http://127.0.0.1:41411", clock=FrozenClock(),
                     random_bytes=seeded_random(3))
    return Driver(app)


def _cookies(d: Driver, session: str | None = None, challenge: str | None = None) -> dict[str, str]:
    parts = []
    if session:
        parts.append(f"{d.provider.cookie_name}={session}")
    if challenge:
        parts.append(f"{CHALLENGE_COOKIE}={challenge}")
    return {"Cookie": "; ".join(parts)} if parts else {}


def _register(d: Driver, session: str, key: SoftPasskey, **create_kwargs: str):
    start = d.http.get("/api/webauthn/register/start", headers=_cookies(d, session))
    assert start.status_code == 200, start.get_data(as_text=True)
    challenge = session_cookie(start, CHALLENGE_COOKIE)
    body = key.create(start.get_json(), **create_kwargs)
    return d.http.post("/api/webauthn/register/finish", json=body, headers=_cookies(d, session, challenge))


def _login(d: Driver, key: SoftPasskey, **get_kwargs: str):
    start = d.http.get("/api/webauthn/login/start")
    assert start.status_code == 200, start.get_data(as_text=True)
    challenge = session_cookie(start, CHALLENGE_COOKIE)
    return d.http.post("/api/webauthn/login/finish", json=key.get(start.get_json(), **get_kwargs),
                       headers=_cookies(d, challenge=challenge))


def test_registration_options_follow_the_public_address(driver):
    user = driver.user("alice")
    start = driver.http.get("/api/webauthn/register/start", headers=_cookies(driver, driver.sign_in(user["id"])))
    options = start.get_json()
    assert options["rp"] == {"id": "localhost", "name": "Pocket ID"}
    assert b64url_decode(options["user"]["id"]) == user["id"].encode() and options["user"]["name"] == "alice"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -8, -257]
    assert len(b64url_decode(options["challenge"])) == 32
    cookie = next(h for h in start.headers.getlist("Set-Cookie") if h.startswith(CHALLENGE_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_register_then_sign_in_with_the_passkey_gives_amr_phr(driver):
    user = driver.user("alice")
    key = SoftPasskey(ORIGIN)
    added = _register(driver, driver.sign_in(user["id"]), key)
    assert added.status_code == 201, added.get_data(as_text=True)
    assert added.get_json()["id"] == key.id and added.get_json()["name"] == "Passkey 1"

    signed_in = _login(driver, key)
    assert signed_in.status_code == 200, signed_in.get_data(as_text=True)
    assert signed_in.get_json()["id"] == user["id"]
    session = session_cookie(signed_in, driver.provider.cookie_name)

    client, secret = driver.client(callbackURLs=["https://app.example/callback"])
    verifier, challenge = pkce_pair()
    cb = driver.code({"client_id": client["id"], "redirect_uri": "https://app.example/callback",
                      "response_type": "code", "scope": "openid", "state": "state-123456",
                      "code_challenge": challenge, "code_challenge_method": "S256"}, session)
    tokens = driver.token({"grant_type": "authorization_code", "code": cb["code"],
                           "redirect_uri": "https://app.example/callback", "code_verifier": verifier},
                          auth=(client["id"], secret)).get_json()
    claims = json.loads(b64url_decode(tokens["id_token"].split(".")[1]))
    assert claims["amr"] == ["phr"] and claims["sub"] == user["id"] and claims["iss"] == PUBLIC


def test_login_code_sessions_stay_otp_even_after_adding_a_passkey(driver):
    user = driver.user("alice")
    session = driver.sign_in(user["id"])
    assert _register(driver, session, SoftPasskey(ORIGIN)).status_code == 201
    me = driver.http.get("/api/webauthn/credentials", headers=_cookies(driver, session)).get_json()
    assert [k["name"] for k in me] == ["Passkey 1"]
    stored = driver.provider.session_for(session)
    assert stored is not None and stored[0].amr == ["otp"]


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"origin": "https://evil.example"}, "origin"),
    ({"origin": "http://localhost:9999"}, "origin"),
    ({"rp_id": "evil.example"}, "RP ID"),
])
def test_registration_from_another_origin_or_rp_id_is_refused(driver, kwargs, why):
    user = driver.user("alice")
    answer = _register(driver, driver.sign_in(user["id"]), SoftPasskey(ORIGIN), **kwargs)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_request"
    assert why.lower() in answer.get_json()["error_description"].lower()
    assert driver.http.get("/api/webauthn/credentials",
                           headers=_cookies(driver, driver.sign_in(user["id"]))).get_json() == []


def test_registration_needs_a_signed_in_user_and_a_live_challenge(driver):
    user = driver.user("alice")
    assert driver.http.get("/api/webauthn/register/start").status_code == 401
    session = driver.sign_in(user["id"])
    key = SoftPasskey(ORIGIN)
    start = driver.http.get("/api/webauthn/register/start", headers=_cookies(driver, session))
    challenge = session_cookie(start, CHALLENGE_COOKIE)
    body = key.create(start.get_json())
    no_cookie = driver.http.post("/api/webauthn/register/finish", json=body, headers=_cookies(driver, session))
    assert no_cookie.status_code == 400 and "ceremony" in no_cookie.get_json()["error_description"]
    ok = driver.http.post("/api/webauthn/register/finish", json=body, headers=_cookies(driver, session, challenge))
    assert ok.status_code == 201
    replay = driver.http.post("/api/webauthn/register/finish", json=body, headers=_cookies(driver, session, challenge))
    assert replay.status_code == 400, "a challenge works once"


def test_registration_without_user_verification_is_refused(driver):
    user = driver.user("alice")
    answer = _register(driver, driver.sign_in(user["id"]), SoftPasskey(ORIGIN, user_verified=False))
    assert answer.status_code == 400 and "verif" in answer.get_json()["error_description"].lower()


def test_sign_in_refuses_wrong_origin_unknown_key_bad_signature_and_replay(driver):
    user = driver.user("alice")
    key = SoftPasskey(ORIGIN, sign_count=5)
    assert _register(driver, driver.sign_in(user["id"]), key).status_code == 201

    wrong_origin = _login(driver, key, origin="https://evil.example")
    assert wrong_origin.status_code == 400 and "origin" in wrong_origin.get_json()["error_description"].lower()
    assert driver.provider.cookie_name not in "".join(wrong_origin.headers.getlist("Set-Cookie"))

    stranger = _login(driver, SoftPasskey(ORIGIN))
    assert stranger.status_code == 400 and "not registered" in stranger.get_json()["error_description"]

    start = driver.http.get("/api/webauthn/login/start")
    challenge = session_cookie(start, CHALLENGE_COOKIE)
    body = key.get(start.get_json())
    forged = json.loads(json.dumps(body))
    sig = bytearray(b64url_decode(forged["response"]["signature"]))
    sig[-1] ^= 1
    forged["response"]["signature"] = b64url_encode(bytes(sig))
    bad = driver.http.post("/api/webauthn/login/finish", json=forged, headers=_cookies(driver, challenge=challenge))
    assert bad.status_code == 400
    replay = driver.http.post("/api/webauthn/login/finish", json=body, headers=_cookies(driver, challenge=challenge))
    assert replay.status_code == 400 and "ceremony" in replay.get_json()["error_description"], \
        "the failed attempt used the challenge up"

    assert _login(driver, key).status_code == 200


def test_a_cloned_authenticator_is_caught_by_its_sign_counter(driver):
    user = driver.user("alice")
    key = SoftPasskey(ORIGIN, sign_count=10)
    assert _register(driver, driver.sign_in(user["id"]), key).status_code == 201
    assert _login(driver, key).status_code == 200  # counter 11
    key.sign_count = 5  # a copy of the key that lags behind
    cloned = _login(driver, key)
    assert cloned.status_code == 400 and "count" in cloned.get_json()["error_description"].lower()


def test_a_user_handle_of_someone_else_is_refused(driver):
    alice, bob = driver.user("alice"), driver.user("bob")
    key = SoftPasskey(ORIGIN)
    assert _register(driver, driver.sign_in(alice["id"]), key).status_code == 201
    key.user_handle = bob["id"].encode()
    answer = _login(driver, key)
    assert answer.status_code == 400 and "user handle" in answer.get_json()["error_description"]


@pytest.mark.parametrize("body", [{}, {"id": 5}, {"rawId": "x" * 2000}, {"rawId": "AAAA", "response": "nope"}])
def test_malformed_sign_in_bodies_get_oauth_errors_not_500(driver, body):
    start = driver.http.get("/api/webauthn/login/start")
    answer = driver.http.post("/api/webauthn/login/finish", json=body,
                              headers=_cookies(driver, challenge=session_cookie(start, CHALLENGE_COOKIE)))
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_request"


def test_malformed_registration_body_gets_an_oauth_error(driver):
    user = driver.user("alice")
    session = driver.sign_in(user["id"])
    start = driver.http.get("/api/webauthn/register/start", headers=_cookies(driver, session))
    answer = driver.http.post("/api/webauthn/register/finish", json={"id": "AA", "response": {"clientDataJSON": "!"}},
                              headers=_cookies(driver, session, session_cookie(start, CHALLENGE_COOKIE)))
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_request"


def test_a_new_user_from_a_signup_token_registers_a_passkey_and_signs_in_with_it(driver):
    token = driver.admin("POST", "/api/signup-tokens", {"ttl": "1h"})["token"]
    signup = driver.http.post("/signup", data={"token": token, "username": "carol", "email": "carol@example.com",
                                               "firstName": "Carol"})
    assert signup.status_code == 303 and signup.headers["Location"] == f"{PUBLIC}/settings/passkeys"
    session = session_cookie(signup, driver.provider.cookie_name)
    page = driver.http.get("/settings/passkeys", headers=_cookies(driver, session))
    assert "Add a passkey" in page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    key = SoftPasskey(ORIGIN)
    assert _register(driver, session, key).status_code == 201
    signed_in = _login(driver, key)
    assert signed_in.status_code == 200 and signed_in.get_json()["username"] == "carol"


def test_passkeys_are_refused_with_a_clear_reason_on_an_ip_address():
    d = Driver(create_app(app_url="http://127.0.0.1:1411"))
    answer = d.http.get("/api/webauthn/login/start")
    assert answer.status_code == 400 and answer.get_json()["error"] == "passkeys_unavailable"
    assert "localhost" in answer.get_json()["error_description"]


def test_login_page_offers_the_passkey_and_the_script_is_served(driver):
    page = driver.http.get("/login?redirect=/authorize%3Fx%3D1")
    html = page.get_data(as_text=True)
    assert "Sign in with a passkey" in html and f'src="{PUBLIC}/static/passkeys.js"' in html
    assert 'data-next="/authorize?x=1"' in html
    script = driver.http.get("/static/passkeys.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert "/api/webauthn/login/finish" in script.get_data(as_text=True)


def test_passkeys_page_sends_a_signed_out_browser_to_sign_in_first(driver):
    answer = driver.http.get("/settings/passkeys?redirect=/authorize%3Fa%3Db")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(f"{PUBLIC}/login?redirect=%2Fsettings%2Fpasskeys")
