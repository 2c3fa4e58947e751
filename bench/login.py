"""The full headless login against the local stand-in, against the same login on the certified Node peer.

One login is: a fresh attempt (state, nonce, PKCE), the provider's redirects up to the callback, the
callback checks, the code exchange, ID token validation against the (cached) JWKS and userinfo with its
``sub`` check. Same ``PocketIdClient`` code, same machine, same run. The stand-in's login also does
Pocket ID's automation hops (admin API login code, session cookie); the peer's does its two interaction
redirects instead. Target: the stand-in no slower than twice the certified provider.
"""

from __future__ import annotations

from altx10_helpers.idp import LocalPocketId
from altx10_helpers.oidc import PocketIdClient
from tests.node_peer import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, NodePeer, missing_prerequisite

from .common import Row, median_seconds

ROUNDS = 40


def _login_time(client: PocketIdClient, user_id: str | None) -> float:
    def once() -> None:
        client.sign_in_headless(client.start_login(), user_id)

    once()  # discovery and the JWKS fetch happen here, outside the measurement
    return median_seconds(once, repeat=ROUNDS)


def rows() -> list[Row]:
    reason = missing_prerequisite()
    if reason:
        raise RuntimeError(f"the login benchmark needs the Node peer: {reason}")
    with LocalPocketId() as idp:
        demo = idp.seed_demo(callback_urls=[REDIRECT_URI])
        client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, REDIRECT_URI, api_key=idp.api_key)
        ours = _login_time(client, demo.user["id"])
    with NodePeer() as peer:
        peer_time = _login_time(PocketIdClient(peer.issuer, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI), None)
    ratio = ours / peer_time
    return [Row("headless login: authorize -> ID token + userinfo", ours * 1e3, peer_time * 1e3, "ms",
                "oidc-provider 8.8.1 (Node), same client", "<= 2", ratio <= 2)]
