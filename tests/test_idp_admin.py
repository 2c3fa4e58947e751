"""The admin API (X-API-Key): users, groups, clients and secrets, custom claims, login codes, sign-up."""

from __future__ import annotations

import re
import uuid

import pytest
from idp_support import API_KEY, CALLBACK, ISSUER, code_login, unverified_claims

from altx10_helpers.idp import create_app, demo_key
from altx10_helpers.idp.store import ClientSecret
from altx10_helpers.idp.testing import Driver, session_cookie

SEED = 17


def call(d, method, path, payload=None, key=API_KEY):
    headers = {"X-API-Key": key} if key else {}
    return d.http.open(path, method=method, json=payload, headers=headers)


def login_tokens(d, user_id, client, secret, scope="openid profile email groups"):
    return code_login(d, client, secret, d.sign_in(user_id), scope=scope).get_json()


@pytest.mark.parametrize("key", [None, "", "wrong" * 8, API_KEY + "x"])
def test_admin_api_needs_the_api_key(d, key):
    response = call(d, "GET", "/api/users", key=key)
    assert response.status_code == 401
    assert set(response.get_json()) == {"error", "error_description"}


def test_create_user_answers_201_with_pocket_ids_user_shape(d):
    response = call(d, "POST", "/api/users", {"username": "erin", "email": "erin@example.com", "firstName": "Erin",
                                              "lastName": "Ek", "displayName": "Erin E.", "emailVerified": True,
                                              "isAdmin": True})
    assert response.status_code == 201
    user = response.get_json()
    assert uuid.UUID(user["id"]).version == 4
    for key in ("id", "username", "email", "emailVerified", "firstName", "lastName", "displayName", "isAdmin",
                "customClaims", "userGroups", "disabled"):
        assert key in user
    assert (user["username"], user["emailVerified"], user["isAdmin"], user["disabled"]) == ("erin", True, True, False)
    assert (user["customClaims"], user["userGroups"]) == ([], [])
    assert call(d, "GET", f"/api/users/{user['id']}").get_json() == user


def test_user_id_can_be_chosen(d):
    wanted = "0b0e9b33-6a43-4a5e-9b3e-1c2d3e4f5a6b"
    user = d.user("fay", id=wanted)
    assert user["id"] == wanted
    assert call(d, "POST", "/api/users", {"id": "not-a-uuid", "username": "gus", "email": "g@x.io",
                                          "firstName": "G"}).status_code == 400


@pytest.mark.parametrize("body", [
    {}, {"username": "x", "email": "x@x.io", "firstName": "X"}, {"username": "ok", "email": "nope", "firstName": "X"},
    {"username": "ok", "email": "x@x.io"}, {"username": 5, "email": "x@x.io", "firstName": "X"},
    {"username": "ok", "email": "x@x.io", "firstName": "X", "isAdmin": "yes"},
    {"username": "o k", "email": "x@x.io", "firstName": "X"}, [1, 2],
])
def test_invalid_user_bodies_are_400(d, body):
    response = call(d, "POST", "/api/users", body)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_username_and_email_are_unique(d):
    d.user("hal")
    assert call(d, "POST", "/api/users", {"username": "HAL", "email": "other@x.io", "firstName": "H"}) \
        .get_json()["error_description"] == "username is already in use"
    assert call(d, "POST", "/api/users", {"username": "hal2", "email": "hal@example.com", "firstName": "H"}) \
        .get_json()["error_description"] == "email is already in use"


def test_list_users_is_paginated_and_searchable(d):
    for name in ("ivy", "jon", "kim"):
        d.user(name)
    page = call(d, "GET", "/api/users?pagination[limit]=2&pagination[page]=2").get_json()
    assert [u["username"] for u in page["data"]] == ["kim"]
    assert page["pagination"] == {"totalPages": 2, "totalItems": 3, "currentPage": 2, "itemsPerPage": 2}
    assert [u["username"] for u in call(d, "GET", "/api/users?search=JO").get_json()["data"]] == ["jon"]


def test_groups_membership_and_the_groups_claim(d):
    user = d.user("lea")
    group = call(d, "POST", "/api/user-groups", {"friendlyName": "Editors", "name": "editors"})
    assert group.status_code == 201
    gid = group.get_json()["id"]
    members = call(d, "PUT", f"/api/user-groups/{gid}/users", {"userIds": [user["id"]]}).get_json()
    assert [u["username"] for u in members["users"]] == ["lea"]
    assert [g["name"] for g in call(d, "GET", f"/api/users/{user['id']}").get_json()["userGroups"]] == ["editors"]
    client, secret = d.client()
    tokens = login_tokens(d, user["id"], client, secret)
    assert unverified_claims(tokens["id_token"])["groups"] == ["editors"]
    call(d, "PUT", f"/api/users/{user['id']}/user-groups", {"userGroupIds": []})
    assert call(d, "GET", f"/api/user-groups/{gid}").get_json()["users"] == []


def test_create_user_with_groups_and_unknown_group_ids(d):
    gid = call(d, "POST", "/api/user-groups", {"friendlyName": "Ops", "name": "ops"}).get_json()["id"]
    user = d.user("max", userGroupIds=[gid])
    assert [g["name"] for g in user["userGroups"]] == ["ops"]
    bad = call(d, "POST", "/api/users", {"username": "ned", "email": "n@x.io", "firstName": "N",
                                         "userGroupIds": ["nope"]})
    assert bad.status_code == 400


def test_client_creation_answers_the_client_without_any_secret(d):
    response = call(d, "POST", "/api/oidc/clients", {
        "name": "Notes", "callbackURLs": [CALLBACK], "logoutCallbackURLs": [], "isPublic": False,
        "pkceEnabled": True, "skipConsent": False, "accessTokenDurationMinutes": 10,
        "refreshTokenDurationMinutes": 60})
    assert response.status_code == 201
    client = response.get_json()
    assert (client["name"], client["callbackURLs"], client["pkceEnabled"], client["skipConsent"]) == \
        ("Notes", [CALLBACK], True, False)
    assert (client["accessTokenDurationMinutes"], client["refreshTokenDurationMinutes"]) == (10, 60)
    assert "secret" not in str(client).lower()


@pytest.mark.parametrize("body", [
    {"name": ""}, {"name": "x", "callbackURLs": ["not a url"]}, {"name": "x", "callbackURLs": "https://a/b"},
    {"name": "x", "callbackURLs": ["https://a/b#frag"]}, {"name": "x", "accessTokenDurationMinutes": 0},
    {"name": "x", "id": "bad id!"}, {"name": "x", "isPublic": 1},
])
def test_invalid_client_bodies_are_400(d, body):
    assert call(d, "POST", "/api/oidc/clients", body).status_code == 400


def test_client_id_can_be_chosen_once(d):
    assert d.client(id="notes-app")[0]["id"] == "notes-app"
    response = call(d, "POST", "/api/oidc/clients", {"id": "notes-app", "name": "again"})
    assert response.status_code == 400 and response.get_json()["error_description"] == "Client ID already in use"


def test_secret_is_shown_once_and_stored_hashed(d):
    client, _ = d.client(secret=False)
    response = call(d, "POST", f"/api/oidc/clients/{client['id']}/secrets")
    assert response.status_code == 201
    created = response.get_json()
    assert set(created) == {"id", "prefix", "createdAt", "expiresAt", "isActive", "secret"}
    assert created["secret"].startswith(created["prefix"]) and len(created["secret"]) == 32
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created["createdAt"]) and created["isActive"] is True
    listed = call(d, "GET", f"/api/oidc/clients/{client['id']}/secrets").get_json()
    assert [s["id"] for s in listed] == [created["id"]] and "secret" not in listed[0]
    stored = d.provider.store.get(ClientSecret, created["id"])
    assert created["secret"] not in repr(stored)


def test_deleted_secret_stops_authenticating_and_others_keep_working(d):
    user = d.user("ola")
    client, first = d.client()
    second = call(d, "POST", f"/api/oidc/clients/{client['id']}/secrets", {}).get_json()
    assert login_tokens(d, user["id"], client, second["secret"])["access_token"]
    secret_id = call(d, "GET", f"/api/oidc/clients/{client['id']}/secrets").get_json()[0]["id"]
    assert call(d, "DELETE", f"/api/oidc/clients/{client['id']}/secrets/{secret_id}").status_code == 204
    response = d.token({"grant_type": "authorization_code", "code": "x"}, auth=(client["id"], first))
    assert response.status_code == 401
    assert login_tokens(d, user["id"], client, second["secret"])["access_token"]


def test_chosen_secret_must_be_long(d):
    client, _ = d.client(secret=False)
    assert call(d, "POST", f"/api/oidc/clients/{client['id']}/secrets", {"secret": "short"}).status_code == 400
    public = d.client(isPublic=True)[0]
    assert call(d, "POST", f"/api/oidc/clients/{public['id']}/secrets", {}).status_code == 400


def test_custom_claims_reach_tokens_and_reserved_names_are_refused(d):
    user = d.user("pam")
    gid = call(d, "POST", "/api/user-groups", {"friendlyName": "Staff", "name": "staff"}).get_json()["id"]
    call(d, "PUT", f"/api/user-groups/{gid}/users", {"userIds": [user["id"]]})
    call(d, "PUT", f"/api/custom-claims/user-group/{gid}", [{"key": "site", "value": "hq"},
                                                            {"key": "level", "value": "1"}])
    answer = call(d, "PUT", f"/api/custom-claims/user/{user['id']}", [{"key": "level", "value": "3"}])
    assert answer.status_code == 200 and answer.get_json() == [{"key": "level", "value": "3"}]
    client, secret = d.client()
    tokens = login_tokens(d, user["id"], client, secret, scope="openid profile")
    c = unverified_claims(tokens["id_token"])
    assert (c["site"], c["level"]) == ("hq", 3)
    info = d.http.get("/api/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.get_json()["level"] == 3
    for bad in ([{"key": "sub", "value": "x"}], [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}],
                [{"key": "a"}], [{"key": "a", "value": 1}], {"key": "a", "value": "1"}, ["x"]):
        assert call(d, "PUT", f"/api/custom-claims/user/{user['id']}", bad).status_code == 400


# -- one-time access tokens (login codes) ---------------------------------------------------------------------


@pytest.mark.parametrize(("ttl", "seconds"), [("15m", 900), ("1h30m", 5400), (120, 120), (None, 900)])
def test_login_code_ttl(d, clock, ttl, seconds):
    user = d.user("quinn")
    body = {} if ttl is None else {"ttl": ttl}
    response = call(d, "POST", f"/api/users/{user['id']}/one-time-access-token", body)
    assert response.status_code == 201 and set(response.get_json()) == {"token"}
    code = response.get_json()["token"]
    clock.advance(seconds)
    assert d.http.post(f"/api/one-time-access-token/{code}").status_code == 400
    code = call(d, "POST", f"/api/users/{user['id']}/one-time-access-token", body).get_json()["token"]
    clock.advance(seconds - 1)
    assert d.http.post(f"/api/one-time-access-token/{code}").status_code == 200


@pytest.mark.parametrize("ttl", ["15", "abc", "-1m", 0, -5, True, 10**9, "1d", [1]])
def test_bad_ttl_is_400(d, ttl):
    user = d.user("rae")
    assert call(d, "POST", f"/api/users/{user['id']}/one-time-access-token", {"ttl": ttl}).status_code == 400


def test_login_code_signs_in_once_with_pocket_ids_cookie(d):
    user = d.user("sam")
    code = d.login_code(user["id"])
    response = d.http.post(f"/api/one-time-access-token/{code}")
    assert response.status_code == 200 and response.get_json()["id"] == user["id"]
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("access_token=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    again = d.http.post(f"/api/one-time-access-token/{code}")
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_token"
    value = session_cookie(response, "access_token")
    me = d.http.get("/api/users/me", headers=d.cookie_header(value))
    assert me.status_code == 200 and me.get_json()["username"] == "sam"
    assert d.http.get("/api/users/me").status_code == 401


def test_https_issuer_uses_the_host_prefixed_cookie():
    d = Driver(create_app(app_url="https://id.example", api_key=API_KEY, key=demo_key()))
    user = d.user("tia")
    header = d.http.post(f"/api/one-time-access-token/{d.login_code(user['id'])}").headers["Set-Cookie"]
    assert header.startswith("__Host-access_token=") and "Secure" in header and "Domain" not in header


def test_login_code_for_unknown_user_is_404(d):
    response = call(d, "POST", "/api/users/nope/one-time-access-token", {"ttl": "15m"})
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_disabled_user_cannot_sign_in_with_a_code(d):
    user = d.user("uma")
    code = d.login_code(user["id"])
    call(d, "PUT", f"/api/users/{user['id']}", {**user, "disabled": True})
    assert d.http.post(f"/api/one-time-access-token/{code}").status_code == 400


# -- sign-up --------------------------------------------------------------------------------------------------


def test_signup_token_lets_a_new_user_register_in_the_tokens_groups(d):
    gid = call(d, "POST", "/api/user-groups", {"friendlyName": "Beta", "name": "beta"}).get_json()["id"]
    created = call(d, "POST", "/api/signup-tokens", {"ttl": "1h", "usageLimit": 1, "userGroupIds": [gid]})
    assert created.status_code == 201
    token = created.get_json()
    assert {"id", "token", "expiresAt", "usageLimit", "usageCount", "createdAt"} <= set(token)
    page = d.http.get(f"/signup?token={token['token']}")
    assert page.status_code == 200 and "Create your account" in page.get_data(as_text=True)
    response = d.http.post("/signup", data={"token": token["token"], "username": "vic", "email": "vic@x.io",
                                            "firstName": "Vic", "lastName": ""})
    assert response.status_code == 303 and response.headers["Location"] == f"{ISSUER}/settings/passkeys"
    value = session_cookie(response, "access_token")
    me = d.http.get("/api/users/me", headers=d.cookie_header(value)).get_json()
    assert me["username"] == "vic" and [g["name"] for g in me["userGroups"]] == ["beta"]
    used_up = d.http.get(f"/signup?token={token['token']}")
    assert used_up.status_code == 400 and used_up.mimetype == "text/html"
    listed = call(d, "GET", "/api/signup-tokens").get_json()["data"]
    assert listed[0]["usageCount"] == 1


def test_signup_form_errors_are_shown_on_the_form(d):
    token = call(d, "POST", "/api/signup-tokens", {}).get_json()["token"]
    response = d.http.post("/signup", data={"token": token, "username": "w", "email": "bad", "firstName": "W"})
    assert response.status_code == 400 and "Create your account" in response.get_data(as_text=True)
    assert d.http.get(f"/signup?token={token}").status_code == 200  # not used up by a failed attempt


def test_signup_api_and_expiry(d, clock):
    token = call(d, "POST", "/api/signup-tokens", {"ttl": 60, "usageLimit": 2}).get_json()["token"]
    ok = d.http.post("/api/signup", json={"token": token, "username": "xena", "email": "xena@x.io",
                                          "firstName": "Xena"})
    assert ok.status_code == 201 and ok.get_json()["username"] == "xena"
    clock.advance(60)
    late = d.http.post("/api/signup", json={"token": token, "username": "yann", "email": "y@x.io",
                                            "firstName": "Y"})
    assert late.status_code == 400 and late.get_json()["error"] == "invalid_token"


def test_deleting_a_user_ends_their_tokens(d):
    user = d.user("zed")
    client, secret = d.client()
    tokens = login_tokens(d, user["id"], client, secret)
    assert call(d, "DELETE", f"/api/users/{user['id']}").status_code == 204
    assert call(d, "GET", f"/api/users/{user['id']}").status_code == 404
    refreshed = d.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                        auth=(client["id"], secret))
    assert refreshed.get_json()["error"] == "invalid_grant"
