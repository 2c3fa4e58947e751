"""/api/oidc/userinfo and /api/oidc/introspect: scope-filtered claims, Bearer errors, revocation."""

from __future__ import annotations

import pytest
from idp_support import ISSUER, code_login

from altx10_helpers.b64 import b64url_decode, b64url_encode
from altx10_helpers.idp.testing import basic_auth

SEED = 11


@pytest.fixture
def setup(d):
    user = d.user("carol", emailVerified=False)
    client, secret = d.client()
    return user, client, secret, d.sign_in(user["id"])


def tokens(d, setup, scope="openid profile email groups") -> dict:
    _, client, secret, cookie = setup
    return code_login(d, client, secret, cookie, scope=scope).get_json()


def userinfo(d, token, method="GET"):
    return d.http.open("/api/oidc/userinfo", method=method, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_userinfo_answers_the_scoped_user_claims_on_get_and_post(d, setup, method):
    user = setup[0]
    response = userinfo(d, tokens(d, setup)["access_token"], method)
    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "sub": user["id"], "given_name": "Carol", "family_name": "Example", "name": "Carol Example",
        "display_name": "Carol Example", "preferred_username": "carol",
        "picture": f"{ISSUER}/api/users/{user['id']}/profile-picture.png", "email": "carol@example.com",
        "email_verified": False, "groups": [],
    }


def test_userinfo_has_no_token_claims(d, setup):
    body = userinfo(d, tokens(d, setup)["access_token"]).get_json()
    assert not {"iss", "aud", "type", "exp", "iat", "jti", "nonce", "at_hash"} & set(body)


@pytest.mark.parametrize(("scope", "keys"), [
    ("openid", {"sub"}),
    ("openid email", {"sub", "email", "email_verified"}),
    ("openid groups", {"sub", "groups"}),
])
def test_userinfo_follows_the_granted_scopes(d, setup, scope, keys):
    assert set(userinfo(d, tokens(d, setup, scope)["access_token"]).get_json()) == keys


def test_userinfo_sees_profile_changes(d, setup):
    user = setup[0]
    token = tokens(d, setup)["access_token"]
    d.admin("PUT", f"/api/users/{user['id']}", {**user, "firstName": "Caroline"})
    assert userinfo(d, token).get_json()["given_name"] == "Caroline"


def assert_invalid_token(response):
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_missing_bearer_token(d):
    assert_invalid_token(d.http.get("/api/oidc/userinfo"))
    assert_invalid_token(d.http.get("/api/oidc/userinfo", headers={"Authorization": "Basic abc"}))


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", '"quoted\\" \x7f', "x" * 5000])
def test_garbage_bearer_tokens(d, token):
    assert_invalid_token(userinfo(d, token))


def test_id_token_is_not_an_access_token(d, setup):
    assert_invalid_token(userinfo(d, tokens(d, setup)["id_token"]))


def test_tampered_access_token(d, setup):
    header, payload, sig = tokens(d, setup)["access_token"].split(".")
    claims = b64url_decode(payload).replace(b'"scope":"openid', b'"scope":"admin openid')
    assert_invalid_token(userinfo(d, f"{header}.{b64url_encode(claims)}.{sig}"))


def test_expired_access_token(d, setup, clock):
    token = tokens(d, setup)["access_token"]
    clock.advance(3599)
    assert userinfo(d, token).status_code == 200
    clock.advance(1)
    assert_invalid_token(userinfo(d, token))


def test_deleted_user_token_stops_working(d, setup):
    token = tokens(d, setup)["access_token"]
    d.admin("DELETE", f"/api/users/{setup[0]['id']}")
    assert_invalid_token(userinfo(d, token))


# -- introspection --------------------------------------------------------------------------------------------


def introspect(d, client, secret, token):
    return d.http.post("/api/oidc/introspect", data={"token": token},
                       headers={"Authorization": basic_auth(client["id"], secret)})


def test_introspection_of_access_and_refresh_tokens(d, setup):
    user, client, secret, _ = setup
    t = tokens(d, setup, "openid email")
    access = introspect(d, client, secret, t["access_token"]).get_json()
    assert access["active"] is True and access["token_type"] == "access_token"
    assert (access["sub"], access["scope"], access["iss"]) == (user["id"], "openid email", ISSUER)
    assert access["aud"] == [client["id"], ISSUER]
    refresh = introspect(d, client, secret, t["refresh_token"]).get_json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    assert introspect(d, client, secret, t["id_token"]).get_json() == {"active": False}
    assert introspect(d, client, secret, "nonsense").get_json() == {"active": False}


def test_introspection_of_another_clients_token_is_inactive(d, setup):
    t = tokens(d, setup)
    other, other_secret = d.client(name="other")
    assert introspect(d, other, other_secret, t["access_token"]).get_json() == {"active": False}


def test_introspection_needs_client_authentication(d, setup):
    t = tokens(d, setup)
    response = d.http.post("/api/oidc/introspect", data={"token": t["access_token"]})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    public = d.client(isPublic=True)[0]
    response = d.http.post("/api/oidc/introspect", data={"token": t["access_token"], "client_id": public["id"]})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
