"""Interop: the same ``PocketIdClient`` against oidc-provider, the OpenID Certified Node.js provider.

The peer (tests/node/provider.mjs, installed from the committed lock file) signs a fixed account in
without a page, so the login is plain HTTP redirects. Under CI=true a missing Node is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import skip_or_fail
from node_peer import ACCOUNT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, NodePeer, missing_prerequisite

from altx10_helpers.errors import CallbackError, TokenResponseError
from altx10_helpers.oidc import HopLog, PocketIdClient


@pytest.fixture(scope="module")
def peer() -> Iterator[NodePeer]:
    reason = missing_prerequisite()
    if reason:
        skip_or_fail(reason)
    with NodePeer() as running:
        yield running


@pytest.fixture
def client(peer: NodePeer) -> PocketIdClient:
    return PocketIdClient(peer.issuer, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)


def test_discovery_of_a_certified_provider(client: PocketIdClient, peer: NodePeer) -> None:
    meta = client.discover()
    assert meta.issuer == peer.issuer
    assert meta.authorization_response_iss_parameter_supported is True
    assert "S256" in meta.code_challenge_methods_supported
    assert client.id_token_algorithms == ("RS256",)


def test_code_pkce_userinfo_and_refresh(client: PocketIdClient) -> None:
    log = HopLog(client.session)
    attempt = client.start_login()
    result = client.sign_in_headless(attempt)

    assert result.sub == ACCOUNT["sub"]
    assert result.id_token.claims["nonce"] == attempt.nonce
    assert "at_hash" in result.id_token.claims  # so the at_hash check ran against a certified implementation
    assert result.tokens.token_type == "Bearer"  # capitalised here, lower case at Pocket ID: both accepted
    assert result.userinfo == {k: ACCOUNT[k] for k in ("sub", "email", "email_verified", "name", "given_name",
                                                       "family_name", "preferred_username", "groups")}
    token_call = next(h for h in log.hops if h.url.endswith("/token"))
    assert token_call.request_headers["Authorization"].startswith("Basic ")
    assert "code_verifier=" in token_call.request_body

    refreshed = client.refresh_access_token(result.tokens.refresh_token, previous=result.id_token)
    assert refreshed.sub == result.sub
    assert refreshed.tokens.refresh_token and refreshed.tokens.refresh_token != result.tokens.refresh_token
    assert client.get_user_info(refreshed.tokens.access_token, expected_sub=result.sub)["email"] == ACCOUNT["email"]
    with pytest.raises(TokenResponseError) as info:
        client.refresh_access_token(result.tokens.refresh_token, previous=result.id_token)
    assert info.value.error == "invalid_grant"


def test_pkce_is_enforced_by_the_peer(client: PocketIdClient) -> None:
    attempt = client.start_login(pkce=None)
    with pytest.raises(CallbackError) as info:
        client.sign_in_headless(attempt)
    assert info.value.error == "invalid_request"


def test_tampered_state_refused_against_the_peer(client: PocketIdClient) -> None:
    attempt = client.start_login()
    url = client.authorize_headless(attempt)
    with pytest.raises(CallbackError) as info:
        client.finish_login(url.replace(f"state={attempt.state}", "state=forged-state-123"), attempt)
    assert info.value.error == "state_mismatch"


def test_end_session_url_points_at_the_peer(client: PocketIdClient, peer: NodePeer) -> None:
    url = client.build_end_session_url("h.p.s")
    assert url == f"{peer.issuer}/session/end?id_token_hint=h.p.s&client_id={CLIENT_ID}"
