"""/api/oidc/token with authorization_code: client auth, PKCE, code life and replay, token shapes."""

from __future__ import annotations

import base64
import hashlib

import jwt
import pytest
from idp_support import CALLBACK, ISSUER, NOW, unverified_claims, userinfo_status

from altx10_helpers.b64 import b64url_encode
from altx10_helpers.idp.testing import basic_auth, pkce_pair

SEED = 5


@pytest.fixture
def user(d):
    return d.user("alice", displayName="Alice A.", emailVerified=True)


@pytest.fixture
def cookie(d, user):
    return d.sign_in(user["id"])


@pytest.fixture
def confidential(d):
    return d.client()


def authorize(d, client, cookie, **extra):
    params = {"client_id": client["id"], "redirect_uri": CALLBACK, "response_type": "code",
              "scope": "openid profile email groups", "state": "state-123456", **extra}
    return d.code({k: v for k, v in params.items() if v is not None}, cookie)["code"]


def exchange(d, client, secret, code, **form):
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, **form}
    return d.token({k: v for k, v in body.items() if v is not None}, auth=(client["id"], secret) if secret else None)


# -- the token response and the tokens ------------------------------------------------------------------------


def test_token_response_shape(d, confidential, cookie):
    client, secret = confidential
    response = exchange(d, client, secret, authorize(d, client, cookie))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "id_token", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "openid profile email groups"
    assert body["refresh_token"].isalnum() and body["refresh_token"].count(".") == 0


def test_id_token_header_and_claims_match_pocket_id(d, confidential, cookie, user):
    client, secret = confidential
    group = d.admin("POST", "/api/user-groups", {"friendlyName": "Admins", "name": "admins"})
    d.admin("PUT", f"/api/user-groups/{group['id']}/users", {"userIds": [user["id"]]})
    d.admin("PUT", f"/api/custom-claims/user/{user['id']}", [{"key": "department", "value": "R&D"},
                                                              {"key": "roles", "value": '["a","b"]'}])
    body = exchange(d, client, secret, authorize(d, client, cookie, nonce="nonce-123456")).get_json()
    header = jwt.get_unverified_header(body["id_token"])
    assert header == {"alg": "RS256", "kid": d.provider.key.kid, "typ": "JWT"}
    c = unverified_claims(body["id_token"])
    assert c["iss"] == ISSUER and c["sub"] == user["id"] and c["aud"] == [client["id"]]
    assert (c["iat"], c["exp"], c["auth_time"]) == (NOW, NOW + 3600, NOW)
    assert c["amr"] == ["otp"] and c["type"] == "id-token" and c["nonce"] == "nonce-123456"
    assert len(c["jti"]) == 36
    digest = hashlib.sha256(body["access_token"].encode()).digest()
    assert c["at_hash"] == b64url_encode(digest[:16])
    assert (c["given_name"], c["family_name"], c["name"], c["display_name"]) == ("Alice", "Example",
                                                                                 "Alice Example", "Alice A.")
    assert c["preferred_username"] == "alice"
    assert c["picture"] == f"{ISSUER}/api/users/{user['id']}/profile-picture.png"
    assert (c["email"], c["email_verified"]) == ("alice@example.com", True)
    assert c["groups"] == ["admins"]
    assert (c["department"], c["roles"]) == ("R&D", ["a", "b"])
    assert not {"azp", "sid", "nbf"} & set(c)


def test_id_token_claims_follow_the_granted_scopes(d, confidential, cookie):
    client, secret = confidential
    body = exchange(d, client, secret, authorize(d, client, cookie, scope="openid")).get_json()
    c = unverified_claims(body["id_token"])
    assert set(c) == {"iss", "sub", "aud", "exp", "iat", "jti", "auth_time", "at_hash", "amr", "type"}
    body = exchange(d, client, secret, authorize(d, client, cookie, scope="openid groups")).get_json()
    assert unverified_claims(body["id_token"])["groups"] == []


def test_access_token_is_an_at_jwt_with_scope_scp_and_both_audiences(d, confidential, cookie, user):
    client, secret = confidential
    body = exchange(d, client, secret, authorize(d, client, cookie, scope="openid email")).get_json()
    assert jwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"
    c = unverified_claims(body["access_token"])
    assert set(c) == {"iss", "sub", "client_id", "jti", "iat", "exp", "scope", "scp", "aud"}
    assert (c["iss"], c["sub"], c["client_id"]) == (ISSUER, user["id"], client["id"])
    assert c["scope"] == "openid email" and c["scp"] == ["openid", "email"]
    assert c["aud"] == [client["id"], ISSUER]
    assert c["exp"] - c["iat"] == 3600


def test_access_token_duration_follows_the_client_setting(d, cookie):
    client, secret = d.client(accessTokenDurationMinutes=5)
    body = exchange(d, client, secret, authorize(d, client, cookie)).get_json()
    assert body["expires_in"] == 300
    c = unverified_claims(body["access_token"])
    assert c["exp"] - c["iat"] == 300


def test_no_nonce_means_no_nonce_claim(d, confidential, cookie):
    client, secret = confidential
    body = exchange(d, client, secret, authorize(d, client, cookie)).get_json()
    assert "nonce" not in unverified_claims(body["id_token"])


# -- client authentication ------------------------------------------------------------------------------------


def test_client_secret_post_works(d, confidential, cookie):
    client, secret = confidential
    code = authorize(d, client, cookie)
    response = d.token({"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                        "client_id": client["id"], "client_secret": secret})
    assert response.status_code == 200


def test_wrong_secret_with_basic_is_401_with_basic_challenge(d, confidential, cookie):
    client, _ = confidential
    response = exchange(d, client, "x" * 32, authorize(d, client, cookie))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert set(response.get_json()) == {"error", "error_description"}
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_wrong_secret_in_the_body_is_401_without_basic_challenge(d, confidential, cookie):
    client, _ = confidential
    response = d.token({"grant_type": "authorization_code", "code": authorize(d, client, cookie),
                        "redirect_uri": CALLBACK, "client_id": client["id"], "client_secret": "nope"})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize("header", ["Basic", "Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(),
                                    "Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "Bearer abc",
                                    "Basic " + base64.b64encode(b":secret").decode()])
def test_malformed_basic_credentials_are_invalid_client(d, header):
    response = d.token({"grant_type": "authorization_code", "code": "x"}, headers={"Authorization": header})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_unknown_client_is_invalid_client(d):
    response = d.token({"grant_type": "authorization_code", "code": "x"}, auth=("who", "x" * 32))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_confidential_client_without_secret_is_invalid_client(d, confidential, cookie):
    client, _ = confidential
    response = d.token({"grant_type": "authorization_code", "code": authorize(d, client, cookie),
                        "redirect_uri": CALLBACK, "client_id": client["id"]})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_two_authentication_methods_at_once_are_invalid_request(d, confidential, cookie):
    client, secret = confidential
    response = d.token({"grant_type": "authorization_code", "code": authorize(d, client, cookie),
                        "client_secret": secret}, auth=(client["id"], secret))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_basic_credentials_are_form_decoded(d, cookie):
    client, _ = d.client(secret=False)
    secret = "a+b/c:d%e&f=g" + "x" * 20
    d.admin("POST", f"/api/oidc/clients/{client['id']}/secrets", {"secret": secret})
    code = authorize(d, client, cookie)
    response = d.token({"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
                       headers={"Authorization": basic_auth(client["id"], secret)})
    assert response.status_code == 200


def test_public_client_sends_only_client_id(d, cookie):
    client, _ = d.client(isPublic=True)
    verifier, challenge = pkce_pair()
    code = authorize(d, client, cookie, code_challenge=challenge, code_challenge_method="S256")
    response = d.token({"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                        "client_id": client["id"], "code_verifier": verifier})
    assert response.status_code == 200 and response.get_json()["refresh_token"]


# -- PKCE -----------------------------------------------------------------------------------------------------


def test_s256_pkce_round_trip_and_mismatch(d, confidential, cookie):
    client, secret = confidential
    verifier, challenge = pkce_pair()
    code = authorize(d, client, cookie, code_challenge=challenge, code_challenge_method="S256")
    bad = exchange(d, client, secret, code, code_verifier="A" * 43)
    assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_grant"
    assert exchange(d, client, secret, code, code_verifier=verifier).status_code == 200


def test_plain_is_the_default_method(d, confidential, cookie):
    client, secret = confidential
    verifier = "v" * 43
    code = authorize(d, client, cookie, code_challenge=verifier)
    assert exchange(d, client, secret, code, code_verifier=pkce_pair(verifier)[1]).status_code == 400
    assert exchange(d, client, secret, code, code_verifier=verifier).status_code == 200


@pytest.mark.parametrize("verifier", [None, "a" * 42, "a" * 129, "a" * 42 + "!", "a" * 42 + " "])
def test_verifier_length_and_charset(d, confidential, cookie, verifier):
    client, secret = confidential
    code = authorize(d, client, cookie, code_challenge="a" * 43)
    response = exchange(d, client, secret, code, code_verifier=verifier)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_verifier_of_128_characters_with_every_allowed_symbol_is_fine(d, confidential, cookie):
    client, secret = confidential
    verifier = ("Az09-._~" * 16)[:128]
    code = authorize(d, client, cookie, code_challenge=pkce_pair(verifier)[1], code_challenge_method="S256")
    assert exchange(d, client, secret, code, code_verifier=verifier).status_code == 200


def test_verifier_without_a_challenge_is_refused(d, confidential, cookie):
    client, secret = confidential
    response = exchange(d, client, secret, authorize(d, client, cookie), code_verifier="a" * 43)
    assert response.get_json()["error"] == "invalid_grant"


# -- codes: single use, life time, binding --------------------------------------------------------------------


def test_code_works_once_and_replay_revokes_what_it_issued(d, confidential, cookie):
    client, secret = confidential
    code = authorize(d, client, cookie)
    first = exchange(d, client, secret, code).get_json()
    assert userinfo_status(d, first["access_token"]) == 200
    replay = exchange(d, client, secret, code)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    assert userinfo_status(d, first["access_token"]) == 401
    refreshed = d.token({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                        auth=(client["id"], secret))
    assert refreshed.get_json()["error"] == "invalid_grant"


def test_code_lives_15_minutes(d, confidential, cookie, clock):
    client, secret = confidential
    code = authorize(d, client, cookie)
    clock.advance(15 * 60 - 1)
    assert exchange(d, client, secret, code).status_code == 200
    code = authorize(d, client, cookie)
    clock.advance(15 * 60)
    response = exchange(d, client, secret, code)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_redirect_uri_sent_to_authorize_must_be_repeated_exactly(d, confidential, cookie):
    client, secret = confidential
    code = authorize(d, client, cookie)
    assert exchange(d, client, secret, code, redirect_uri=None).get_json()["error"] == "invalid_grant"
    assert exchange(d, client, secret, code, redirect_uri=CALLBACK + "/").get_json()["error"] == "invalid_grant"
    assert exchange(d, client, secret, code).status_code == 200


def test_redirect_uri_may_be_left_out_when_authorize_left_it_out(d, confidential, cookie):
    client, secret = confidential
    code = authorize(d, client, cookie, redirect_uri=None)
    assert exchange(d, client, secret, code, redirect_uri=None).status_code == 200


def test_code_of_another_client_is_invalid_grant(d, confidential, cookie):
    client, _ = confidential
    other, other_secret = d.client(name="other")
    code = authorize(d, client, cookie)
    assert exchange(d, other, other_secret, code).get_json()["error"] == "invalid_grant"


def test_unknown_code_is_invalid_grant(d, confidential):
    client, secret = confidential
    response = exchange(d, client, secret, "A" * 32)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


# -- request shape --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("form", "error"), [
    ({}, "invalid_request"), ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
    ({"grant_type": "password"}, "unsupported_grant_type"), ({"grant_type": "authorization_code"}, "invalid_request"),
])
def test_grant_type_and_code_are_required(d, confidential, form, error):
    client, secret = confidential
    response = d.token(form, auth=(client["id"], secret))
    assert response.status_code == 400 and response.get_json() == {"error": error,
                                                                    "error_description": response.get_json()[
                                                                        "error_description"]}


def test_json_body_is_invalid_request(d, confidential):
    client, secret = confidential
    response = d.http.post("/api/oidc/token", json={"grant_type": "authorization_code"},
                           headers={"Authorization": basic_auth(client["id"], secret)})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_get_on_the_token_endpoint_is_a_json_405(d):
    response = d.http.get("/api/oidc/token")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert set(response.get_json()) == {"error", "error_description"}
