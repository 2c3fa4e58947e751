"""The OIDC client's pieces without a provider: PKCE, the authorization URL, discovery and token parsing,
the callback checks, configuration from the author's variables."""

from __future__ import annotations

import random
from urllib.parse import parse_qs, urlsplit

import pytest

from altx10_helpers.b64 import b64url_decode
from altx10_helpers.config import Settings
from altx10_helpers.errors import CallbackError, ConfigurationError, DiscoveryError, TokenResponseError
from altx10_helpers.oidc import (
    HopLog,
    LoginAttempt,
    Pkce,
    PocketIdClient,
    ProviderMetadata,
    code_challenge,
    make_verifier,
    parse_callback,
    parse_metadata,
    parse_token_response,
    token_hash,
)

ISSUER = "http://127.0.0.1:1411"
META = ProviderMetadata(issuer=ISSUER, authorization_endpoint=f"{ISSUER}/authorize",
                        token_endpoint=f"{ISSUER}/api/oidc/token", jwks_uri=f"{ISSUER}/.well-known/jwks.json",
                        end_session_endpoint=f"{ISSUER}/api/oidc/end-session",
                        id_token_signing_alg_values_supported=("RS256",),
                        authorization_response_iss_parameter_supported=True)
REDIRECT = "http://localhost:8080/auth/callback"


def client(**kwargs) -> PocketIdClient:
    args = {"metadata": META, "clock": lambda: 1_000.0, "random_bytes": random.Random(7).randbytes} | kwargs
    return PocketIdClient(ISSUER, "my-app", "a-secret-of-enough-length-000000", REDIRECT, **args)


# -- PKCE ---------------------------------------------------------------------------------------------


def test_rfc7636_appendix_b(vectors) -> None:
    v = vectors["rfc7636_B_pkce_s256"]
    assert code_challenge(v["code_verifier"]) == v["code_challenge"]
    octets = b64url_decode(v["code_verifier"])
    assert make_verifier(lambda n: octets[:n]) == v["code_verifier"]
    pkce = Pkce.generate(random_bytes=lambda n: octets[:n])
    assert (pkce.verifier, pkce.challenge, pkce.method) == (v["code_verifier"], v["code_challenge"], "S256")


def test_plain_challenge_is_the_verifier(vectors) -> None:
    verifier = vectors["rfc7636_B_pkce_s256"]["code_verifier"]
    assert code_challenge(verifier, "plain") == verifier


@pytest.mark.parametrize("verifier", ["short", "x" * 129, "a" * 42 + "!", "a" * 43 + " "])
def test_bad_verifiers_refused(verifier: str) -> None:
    with pytest.raises(ConfigurationError, match="43 to 128"):
        code_challenge(verifier)


def test_unknown_pkce_method_refused() -> None:
    with pytest.raises(ConfigurationError, match="unknown PKCE method"):
        code_challenge("a" * 43, "S512")


# -- the authorization request -----------------------------------------------------------------------


def test_authorization_url_carries_state_nonce_and_s256() -> None:
    attempt = client().start_login()
    parts = urlsplit(attempt.authorization_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == META.authorization_endpoint
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q == {"response_type": "code", "client_id": "my-app", "redirect_uri": REDIRECT,
                 "scope": "openid email profile groups", "state": attempt.state, "nonce": attempt.nonce,
                 "code_challenge": code_challenge(attempt.code_verifier), "code_challenge_method": "S256"}
    assert len(attempt.state) >= 8 and len(attempt.nonce or "") >= 8 and attempt.state != attempt.nonce
    assert "%20" in parts.query  # spaces in scope encoded as %20, which every provider reads


def test_attempts_are_deterministic_with_seeded_randomness_and_fresh_otherwise() -> None:
    assert client().start_login().authorization_url == client().start_login().authorization_url
    real = PocketIdClient(ISSUER, "my-app", "s" * 32, REDIRECT, metadata=META)
    a, b = real.start_login(), real.start_login()
    assert len({a.state, b.state, a.nonce, b.nonce, a.code_verifier, b.code_verifier}) == 6


def test_repr_hides_the_verifier() -> None:
    attempt = client().start_login()
    assert attempt.code_verifier and attempt.code_verifier not in repr(attempt)


def test_start_login_options() -> None:
    attempt = client().start_login(scope="openid offline_access", pkce=None, nonce=False,
                                   extra_params={"prompt": "consent"})
    q = parse_qs(urlsplit(attempt.authorization_url).query)
    assert q["scope"] == ["openid offline_access"] and q["prompt"] == ["consent"]
    assert "nonce" not in q and "code_challenge" not in q and attempt.code_verifier is None
    with pytest.raises(ConfigurationError, match="public client must use PKCE"):
        PocketIdClient(ISSUER, "pub", None, REDIRECT, auth_method="none", metadata=META).start_login(pkce=None)


def test_extra_params_cannot_replace_what_is_checked_later() -> None:
    with pytest.raises(ConfigurationError, match="state"):
        client().start_login(extra_params={"state": "mine-12345"})


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"auth_method": "private_key_jwt"}, "auth_method"),
    ({"scope": "email profile"}, "openid"),
    ({"id_token_algorithms": ["none"]}, "not usable"),
    ({"id_token_algorithms": []}, "non-empty"),
])
def test_bad_configuration(kwargs, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        client(**kwargs)


def test_confidential_client_needs_secret() -> None:
    with pytest.raises(ConfigurationError, match="client_secret"):
        PocketIdClient(ISSUER, "my-app", None, REDIRECT)


# -- configuration from the author's variables --------------------------------------------------------


def test_from_settings_reads_the_authors_variables() -> None:
    env = {"POCKET_ID_ENDPOINT": "https://id.altx10.dev/", "OIDC_CLIENT_ID": "cid", "OIDC_CLIENT_SECRET": "sec",
           "OIDC_REDIRECT_URI": "https://app.altx10.dev/auth/callback", "POCKET_ID_API_KEY": "key"}
    c = PocketIdClient.from_settings(Settings.from_env(env), metadata=META)
    assert (c.issuer, c.client_id, c.client_secret, c.redirect_uri, c.api_key) == (
        "https://id.altx10.dev", "cid", "sec", "https://app.altx10.dev/auth/callback", "key")


def test_from_settings_without_endpoint_says_what_to_do() -> None:
    with pytest.raises(ConfigurationError, match="POCKET_ID_ENDPOINT"):
        PocketIdClient.from_settings(Settings.from_env({}))
    with pytest.raises(ConfigurationError, match="OIDC_CLIENT_ID"):
        PocketIdClient.from_settings(Settings.from_env({"POCKET_ID_ENDPOINT": ISSUER}))


def test_author_link_builders() -> None:
    c = client()
    assert c.build_token_link("abc/def") == f"{ISSUER}/signup?token=abc%2Fdef"
    assert c.build_login_code_link("XYZ123") == f"{ISSUER}/lc/XYZ123"


def test_admin_calls_need_the_api_key() -> None:
    with pytest.raises(ConfigurationError, match="POCKET_ID_API_KEY"):
        client().create_signup_token()


def test_end_session_url_gets_random_state_for_a_redirect() -> None:
    url = client().build_end_session_url("h.p.s", post_logout_redirect_uri="http://localhost:8080/")
    q = parse_qs(urlsplit(url).query)
    assert q["id_token_hint"] == ["h.p.s"] and q["client_id"] == ["my-app"] and len(q["state"][0]) >= 8


def test_internal_url_rewrites_browser_hops() -> None:
    c = client(internal_url="http://127.0.0.1:5000")
    assert c._browser_url(f"{ISSUER}/authorize?x=1") == "http://127.0.0.1:5000/authorize?x=1"
    assert c._browser_url("https://elsewhere/authorize") == "https://elsewhere/authorize"


# -- discovery ---------------------------------------------------------------------------------------


def doc(**changes) -> dict:
    base = {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize",
            "token_endpoint": f"{ISSUER}/api/oidc/token", "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
            "id_token_signing_alg_values_supported": ["RS256"]}
    return {k: v for k, v in (base | changes).items() if v is not None}


def test_parse_metadata_defaults() -> None:
    meta = parse_metadata(doc(), ISSUER)
    assert meta.token_endpoint_auth_methods_supported == ("client_secret_basic",)
    assert meta.authorization_response_iss_parameter_supported is False and meta.userinfo_endpoint is None


@pytest.mark.parametrize("issuer", [ISSUER + "/", ISSUER.upper(), "http://localhost:1411", ""])
def test_issuer_must_match_exactly(issuer: str) -> None:
    with pytest.raises(DiscoveryError, match="issuer"):
        parse_metadata(doc(issuer=issuer), ISSUER)


@pytest.mark.parametrize(("changes", "match"), [
    ({"jwks_uri": None}, "'jwks_uri' is missing"),
    ({"token_endpoint": "ftp://x/token"}, "token_endpoint"),
    ({"userinfo_endpoint": "/relative"}, "userinfo_endpoint"),
    ({"id_token_signing_alg_values_supported": []}, "id_token_signing_alg_values_supported"),
    ({"scopes_supported": ["openid", 3]}, "scopes_supported"),
])
def test_bad_discovery_members(changes: dict, match: str) -> None:
    with pytest.raises(DiscoveryError, match=match):
        parse_metadata(doc(**changes), ISSUER)


# -- token responses and hashes -------------------------------------------------------------------------


def test_oidc_core_at_hash_example() -> None:
    # OpenID Connect Core 1.0, appendix A.3/A.4: the example access token and its at_hash.
    assert token_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "RS256") == "77QmUPtjPfzWtF2AnpK9RQ"
    assert len(token_hash("x", "ES384")) == 32 and len(token_hash("x", "EdDSA")) == 43


def test_token_response_minimal_refresh_answer() -> None:
    tokens = parse_token_response({"access_token": "at", "token_type": "Bearer"}, step="refresh",
                                  require_id_token=False)
    assert (tokens.access_token, tokens.id_token, tokens.refresh_token, tokens.expires_in) == ("at", None, None, None)


@pytest.mark.parametrize("expires_in", [True, -1, 1.5])
def test_expires_in_must_be_a_count(expires_in) -> None:
    with pytest.raises(TokenResponseError, match="expires_in"):
        parse_token_response({"access_token": "at", "token_type": "bearer", "expires_in": expires_in},
                             step="token", require_id_token=False)


def test_token_set_shortens_for_printing() -> None:
    long = "x" * 100
    tokens = parse_token_response({"access_token": long, "token_type": "bearer", "expires_in": 60},
                                  step="token", require_id_token=False)
    assert tokens.shortened() == {"access_token": "xxxxxxxxxxxx...xxxxxxxxxxxx", "token_type": "bearer",
                                  "expires_in": 60}
    assert long not in repr(tokens)


# -- callback parsing -------------------------------------------------------------------------------------


def attempt(**changes) -> LoginAttempt:
    base = {"authorization_url": "", "redirect_uri": REDIRECT, "scope": "openid", "state": "state-12345",
            "nonce": "n", "code_verifier": None, "code_challenge_method": None, "created_at": 0.0,
            "expires_at": 600.0}
    return LoginAttempt(**(base | changes))


def test_callback_accepts_a_mapping() -> None:
    result = parse_callback({"code": "c", "state": "state-12345", "iss": ISSUER}, attempt(), issuer=ISSUER,
                            iss_required=True, now=1.0)
    assert (result.code, result.iss) == ("c", ISSUER)


def test_callback_compares_path_not_query_of_the_redirect_uri() -> None:
    url = "HTTP://LOCALHOST:8080/auth/callback?state=state-12345&code=c&iss=http%3A%2F%2F127.0.0.1%3A1411"
    assert parse_callback(url, attempt(), issuer=ISSUER, iss_required=True, now=1.0).code == "c"
    with pytest.raises(CallbackError, match="redirect URI"):
        parse_callback(url.replace("/auth/callback", "/auth/callback/"), attempt(), issuer=ISSUER,
                       iss_required=True, now=1.0)


def test_error_with_forged_state_reports_the_state() -> None:
    with pytest.raises(CallbackError) as info:
        parse_callback({"error": "access_denied", "state": "other"}, attempt(), issuer=ISSUER, iss_required=False,
                       now=1.0)
    assert info.value.error == "state_mismatch"


def test_non_string_mapping_values_refused() -> None:
    with pytest.raises(CallbackError, match="strings"):
        parse_callback({"code": ["c"], "state": "state-12345"}, attempt(), issuer=ISSUER, iss_required=False,
                       now=1.0)


# -- hop log -----------------------------------------------------------------------------------------------


def test_hop_log_formats_and_shortens(monkeypatch) -> None:
    import requests

    log = HopLog()
    resp = requests.Response()
    resp.status_code = 302
    resp.headers["Location"] = "http://localhost:8080/auth/callback?code=" + "c" * 60
    resp.request = requests.Request("GET", f"{ISSUER}/authorize?state=s",
                                    headers={"Cookie": "access_token=" + "t" * 80}).prepare()
    resp._content = b""
    log.session.hooks["response"][0](resp)
    text = log.format()
    assert text.splitlines()[0] == f"GET {ISSUER}/authorize?state=s"
    assert "-> 302" in text and "c" * 60 not in text and "t" * 80 not in text
    assert "access_token=tttttttttttt...tttttt" in text
