"""The refresh_token grant: rotation on every use, reuse revoking the whole grant, scope and expiry."""

from __future__ import annotations

import pytest
from idp_support import NOW, code_login, unverified_claims, userinfo_status

SEED = 9


@pytest.fixture
def setup(d):
    user = d.user("bob")
    client, secret = d.client(refreshTokenDurationMinutes=60)
    cookie = d.sign_in(user["id"])
    return user, client, secret, cookie


def login(d, setup, scope="openid email profile") -> dict:
    _, client, secret, cookie = setup
    response = code_login(d, client, secret, cookie, scope=scope, nonce="nonce-123456")
    assert response.status_code == 200
    return response.get_json()


def refresh(d, setup, token, **form):
    _, client, secret, _ = setup
    return d.token({"grant_type": "refresh_token", "refresh_token": token, **form}, auth=(client["id"], secret))


def test_refresh_rotates_every_token_and_returns_a_new_id_token(d, setup, clock):
    first = login(d, setup)
    clock.advance(60)
    response = refresh(d, setup, first["refresh_token"])
    assert response.status_code == 200
    second = response.get_json()
    assert set(second) == {"access_token", "token_type", "expires_in", "scope", "id_token", "refresh_token"}
    assert second["token_type"] == "bearer"
    for name in ("access_token", "id_token", "refresh_token"):
        assert second[name] != first[name]
    old, new = (unverified_claims(t) for t in (first["id_token"], second["id_token"]))
    assert new["iat"] == NOW + 60 and new["auth_time"] == old["auth_time"] == NOW
    assert new["sub"] == old["sub"] and new["email"] == old["email"]
    assert "nonce" not in new
    assert userinfo_status(d, second["access_token"]) == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_grant(d, setup):
    first = login(d, setup)
    second = refresh(d, setup, first["refresh_token"]).get_json()
    reuse = refresh(d, setup, first["refresh_token"])
    assert reuse.status_code == 400 and reuse.get_json()["error"] == "invalid_grant"
    assert refresh(d, setup, second["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert userinfo_status(d, second["access_token"]) == 401
    assert userinfo_status(d, first["access_token"]) == 401


def test_reuse_does_not_touch_other_grants(d, setup):
    a, b = login(d, setup), login(d, setup)
    refresh(d, setup, a["refresh_token"])
    refresh(d, setup, a["refresh_token"])
    assert refresh(d, setup, b["refresh_token"]).status_code == 200


def test_refresh_token_of_another_client_is_invalid_grant(d, setup):
    tokens = login(d, setup)
    other, secret = d.client(name="other")
    response = d.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                       auth=(other["id"], secret))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert refresh(d, setup, tokens["refresh_token"]).status_code == 200


def test_refresh_token_expires_with_the_client_duration(d, setup, clock):
    tokens = login(d, setup)
    clock.advance(3600)
    assert refresh(d, setup, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_scope_can_be_narrowed_but_not_widened(d, setup):
    tokens = login(d, setup, scope="openid email")
    wide = refresh(d, setup, tokens["refresh_token"], scope="openid email groups")
    assert wide.status_code == 400 and wide.get_json()["error"] == "invalid_scope"
    narrow = refresh(d, setup, tokens["refresh_token"], scope="openid").get_json()
    assert narrow["scope"] == "openid"
    assert "email" not in unverified_claims(narrow["id_token"])
    again = refresh(d, setup, narrow["refresh_token"]).get_json()
    assert again["scope"] == "openid email"


def test_disabled_user_cannot_refresh(d, setup):
    user = setup[0]
    tokens = login(d, setup)
    d.admin("PUT", f"/api/users/{user['id']}", {**user, "disabled": True})
    assert refresh(d, setup, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize(("form", "error"), [({}, "invalid_request"), ({"refresh_token": "nope"}, "invalid_grant")])
def test_missing_or_unknown_refresh_token(d, setup, form, error):
    _, client, secret, _ = setup
    response = d.token({"grant_type": "refresh_token", **form}, auth=(client["id"], secret))
    assert response.status_code == 400 and response.get_json()["error"] == error
