"""Shared pieces of the stand-in (Pocket ID) tests: one way to build a pinned in-process stand-in, and the
authorization-code login most tests need before they can test what comes after it."""

from __future__ import annotations

from typing import Any

import jwt
from werkzeug.test import TestResponse

from altx10_helpers.idp import create_app, demo_key
from altx10_helpers.idp.testing import Driver, FrozenClock, pkce_pair, seeded_random

ISSUER = "http://localhost:1411"
API_KEY = "k" * 32
CALLBACK = "https://app.example/callback"
STATE = "state-123456"
NOW = 1_800_000_000  # the frozen clock's start: tests assert issued-at times against it


def make_driver(seed: int, clock: FrozenClock | None = None, **options: Any) -> Driver:
    """A stand-in with the demo key, a frozen clock and seeded randomness, so every run sees the same values;
    ``options`` override any ``create_app`` argument."""
    settings = {"app_url": ISSUER, "api_key": API_KEY, "key": demo_key(), "clock": clock or FrozenClock(NOW),
                "random_bytes": seeded_random(seed), **options}
    return Driver(create_app(**settings))


def code_login(d: Driver, client: dict[str, Any], secret: str, cookie: str, *, scope: str = "openid",
               pkce: bool = False, **params: str) -> TestResponse:
    """Authorize as the signed-in ``cookie``, then redeem the code at the token endpoint: its response.
    ``pkce`` sends the default S256 pair; ``params`` add authorization parameters (nonce, ...)."""
    verifier, challenge = pkce_pair()
    extra = {"code_challenge": challenge, "code_challenge_method": "S256"} if pkce else {}
    cb = d.code({"client_id": client["id"], "redirect_uri": CALLBACK, "response_type": "code", "scope": scope,
                 "state": STATE, **extra, **params}, cookie)
    form = {"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": CALLBACK}
    if pkce:
        form["code_verifier"] = verifier
    return d.token(form, auth=(client["id"], secret))


def unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, signature unchecked: for asserting what the stand-in put in a token it just issued."""
    return jwt.decode(token, options={"verify_signature": False})


def userinfo_status(d: Driver, access_token: str) -> int:
    """Whether the stand-in still honours an access token, as the userinfo endpoint's status code."""
    return d.http.get("/api/oidc/userinfo", headers={"Authorization": f"Bearer {access_token}"}).status_code
