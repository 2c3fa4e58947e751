"""Discovery, JWKS, keys, rotation, determinism and persistence of the Pocket ID stand-in."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from idp_support import code_login, make_driver

from altx10_helpers.errors import ConfigurationError, InvalidKey, WeakKey
from altx10_helpers.idp import demo_key
from altx10_helpers.idp.testing import Driver, seeded_random

ISSUER = "https://id.example.test"
API_KEY = "test-api-key-0123456789"
SCOPES = "openid profile email groups"


def make(**overrides):
    return make_driver(7, **{"app_url": ISSUER, "api_key": API_KEY, **overrides})


def login(d: Driver, *, nonce: str | None = "n-0123456789") -> dict:
    """A whole headless login; the token response."""
    user = d.user("alice")
    client, secret = d.client()
    params = {"state": "state-0123456789", **({"nonce": nonce} if nonce else {})}
    response = code_login(d, client, secret, d.sign_in(user["id"]), scope=SCOPES, pkce=True, **params)
    assert response.status_code == 200, response.get_json()
    return {"client_id": client["id"], "user": user, **response.get_json()}


def test_discovery_lists_pocket_id_endpoints_and_capabilities():
    d = make()
    doc = d.http.get("/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == ISSUER
    assert doc["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert doc["token_endpoint"] == f"{ISSUER}/api/oidc/token"
    assert doc["userinfo_endpoint"] == f"{ISSUER}/api/oidc/userinfo"
    assert doc["end_session_endpoint"] == f"{ISSUER}/api/oidc/end-session"
    assert doc["introspection_endpoint"] == f"{ISSUER}/api/oidc/introspect"
    assert doc["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert doc["scopes_supported"] == ["openid", "profile", "email", "groups", "offline_access"]
    assert doc["claims_supported"] == ["sub", "given_name", "family_name", "name", "display_name", "email",
                                       "email_verified", "preferred_username", "picture", "groups", "auth_time",
                                       "amr"]
    assert doc["response_types_supported"] == ["code"]
    assert doc["response_modes_supported"] == ["query", "fragment", "form_post"]
    assert doc["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert doc["subject_types_supported"] == ["public"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post", "none"]
    assert doc["code_challenge_methods_supported"] == ["plain", "S256"]
    assert doc["authorization_response_iss_parameter_supported"] is True


def test_both_well_known_paths_answer_the_same_json():
    d = make()
    a = d.http.get("/.well-known/openid-configuration")
    b = d.http.get("/.well-known/oauth-authorization-server")
    assert a.status_code == b.status_code == 200
    assert a.mimetype == "application/json"
    assert a.get_data() == b.get_data()


def test_issuer_has_no_trailing_slash_even_if_configured_with_one():
    d = make(app_url=ISSUER + "/")
    assert d.http.get("/.well-known/openid-configuration").get_json()["issuer"] == ISSUER


def test_back_channel_endpoints_are_advertised_on_internal_app_url():
    d = make(internal_app_url="http://127.0.0.1:1411")
    doc = d.http.get("/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == ISSUER
    assert doc["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert doc["end_session_endpoint"] == f"{ISSUER}/api/oidc/end-session"
    for name, path in [("token_endpoint", "/api/oidc/token"), ("userinfo_endpoint", "/api/oidc/userinfo"),
                       ("introspection_endpoint", "/api/oidc/introspect"), ("jwks_uri", "/.well-known/jwks.json")]:
        assert doc[name] == "http://127.0.0.1:1411" + path


def test_jwks_holds_exactly_one_rsa_signing_key():
    d = make()
    keys = d.http.get("/.well-known/jwks.json").get_json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert set(key) == {"kty", "n", "e", "alg", "kid", "use"}
    assert (key["kty"], key["alg"], key["use"], key["e"]) == ("RSA", "RS256", "sig", "AQAB")
    assert len(key["kid"]) == 11  # 8 random bytes, base64url
    public = jwt.PyJWK(key).key
    assert public.public_numbers() == demo_key().public_key().public_numbers()


def test_tokens_verify_with_pyjwt_against_the_published_jwks():
    d = make()
    tokens = login(d)
    jwk = jwt.PyJWK(d.http.get("/.well-known/jwks.json").get_json()["keys"][0])
    claims = jwt.decode(tokens["id_token"], jwk.key, algorithms=["RS256"], audience=tokens["client_id"],
                        issuer=ISSUER, options={"verify_exp": False, "verify_iat": False})
    assert claims["sub"] == tokens["user"]["id"]
    assert jwt.get_unverified_header(tokens["id_token"]) == {"alg": "RS256", "kid": jwk.key_id, "typ": "JWT"}


@pytest.mark.parametrize(("key", "alg", "kty"), [
    (ec.generate_private_key(ec.SECP256R1()), "ES256", "EC"),
    (ed25519.Ed25519PrivateKey.generate(), "EdDSA", "OKP"),
])
def test_es256_and_eddsa_keys_are_selectable(key, alg, kty):
    d = make(key=key)
    assert d.http.get("/.well-known/openid-configuration").get_json()["id_token_signing_alg_values_supported"] \
        == [alg]
    jwk_dict = d.http.get("/.well-known/jwks.json").get_json()["keys"][0]
    assert (jwk_dict["kty"], jwk_dict["alg"], jwk_dict["use"]) == (kty, alg, "sig")
    tokens = login(d)
    claims = jwt.decode(tokens["id_token"], jwt.PyJWK(jwk_dict).key, algorithms=[alg],
                        audience=tokens["client_id"], options={"verify_exp": False, "verify_iat": False})
    assert claims["type"] == "id-token"


def test_weak_or_unsupported_keys_are_refused():
    with pytest.raises(WeakKey):
        make(key=rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505
    with pytest.raises(InvalidKey):
        make(key=ec.generate_private_key(ec.SECP384R1()))


def test_rotation_publishes_a_new_kid_and_old_tokens_stop_working():
    d = make()
    tokens = login(d)
    old_kid = d.http.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]
    d.provider.rotate_key()
    keys = d.http.get("/.well-known/jwks.json").get_json()["keys"]
    assert len(keys) == 1 and keys[0]["kid"] != old_kid
    answer = d.http.get("/api/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert answer.status_code == 401
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tokens["id_token"], jwt.PyJWK(keys[0]).key, algorithms=["RS256"], options={
            "verify_aud": False, "verify_exp": False, "verify_iat": False})


def test_demo_key_is_the_same_published_rsa_2048_key_every_time():
    a, b = demo_key(), demo_key()
    assert isinstance(a, rsa.RSAPrivateKey) and a.key_size == 2048
    assert a.private_numbers() == b.private_numbers()


def test_pinned_clock_random_and_key_give_byte_identical_exchanges():
    first, second = login(make()), login(make())
    assert first == second
    assert login(make(random_bytes=seeded_random(8)))["id_token"] != first["id_token"]


def test_sqlite_file_keeps_users_clients_and_the_signing_key(tmp_path):
    db = tmp_path / "pocket-id.sqlite"
    d = make(db_path=db, key=None, random_bytes=None)
    tokens = login(d)
    kid = d.http.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]
    d.provider.store.close()
    again = make(db_path=db, key=None, random_bytes=None)
    assert again.http.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"] == kid
    users = again.admin("GET", "/api/users")["data"]
    assert [u["username"] for u in users] == ["alice"]
    answer = again.http.get("/api/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert answer.status_code == 200 and answer.get_json()["sub"] == tokens["user"]["id"]


@pytest.mark.parametrize("url", ["localhost:1411", "ftp://x", "http://", "http://x/?q=1"])
def test_bad_app_url_is_a_configuration_error(url):
    with pytest.raises(ConfigurationError):
        make(app_url=url)


def test_short_static_api_key_is_a_configuration_error():
    with pytest.raises(ConfigurationError):
        make(api_key="short")


def test_generated_api_key_is_long_and_random():
    a, b = make(api_key=None, random_bytes=None), make(api_key=None, random_bytes=None)
    assert len(a.provider.api_key) == 32 and a.provider.api_key != b.provider.api_key
    assert a.provider.api_key_generated
