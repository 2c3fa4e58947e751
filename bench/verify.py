"""Verifying a JWT: our strict verifier against PyJWT, and the JWKS cache's fetch count.

Both verifiers get the same token and key object and do the same checks (signature, iss, aud, exp).
Targets: HS256 at most 0.5 of PyJWT's time, RS256 at most 0.6, ES256 at most 0.9. The cache rows
count JWKS fetches over 10,000 verifications with a counting fake fetcher: exactly 1 for a known
``kid``, exactly 2 when the provider rotates its key halfway (ratio 1.0 means right).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import jwt

from altx10_helpers import JWK, KeySet, sign, verify

from .common import Row, per_call_us

VECTORS = json.loads((Path(__file__).resolve().parent.parent / "tests" / "data" / "jose-vectors.json").read_text())
ISSUER = "https://id.altx10.dev"
AUDIENCE = "notes.altx10.dev"
VERIFICATIONS = 10_000


def _claims() -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "sub": "4b1d1b1a-user", "aud": AUDIENCE, "iat": now, "exp": now + 3600}


def _interleaved_us(ours: Callable[[], object], peer: Callable[[], object], *, number: int,
                    rounds: int = 9) -> tuple[float, float]:
    """Median per-call time of each, measured in alternating batches so both see the same machine load."""
    ours_batches, peer_batches = [], []
    for _ in range(rounds):
        ours_batches.append(per_call_us(ours, number=number, repeat=1))
        peer_batches.append(per_call_us(peer, number=number, repeat=1))
    return statistics.median(ours_batches), statistics.median(peer_batches)


def _speed_row(alg: str, signing_key: object, verify_key: object, number: int, target: float) -> Row:
    token = sign(_claims(), signing_key, alg)
    expected = verify(token, verify_key, [alg], issuer=ISSUER, audience=AUDIENCE)
    assert jwt.decode(token, verify_key, algorithms=[alg], issuer=ISSUER, audience=AUDIENCE) == expected

    def ours() -> object:
        return verify(token, verify_key, [alg], issuer=ISSUER, audience=AUDIENCE)

    def peer() -> object:
        return jwt.decode(token, verify_key, algorithms=[alg], issuer=ISSUER, audience=AUDIENCE)

    ours_us, peer_us = _interleaved_us(ours, peer, number=number)
    return Row(f"verify {alg} (signature, iss, aud, exp)", ours_us, peer_us, "us", f"PyJWT {jwt.__version__}",
               f"<= {target}", ours_us / peer_us <= target)


def _fetch_row(rotate: bool) -> Row:
    old = JWK.from_dict(VECTORS["rfc8037_A4_eddsa"]["jwk_private"], allow_private=True)
    old = JWK(old.kty, old.key, kid="2025-01", alg="EdDSA")
    new = JWK(old.kty, old.key, kid="2025-07", alg="EdDSA")  # a new kid is what a rotation looks like
    published = [old]
    clock = [1000.0]
    keys = KeySet("https://id.altx10.dev/.well-known/jwks.json", fetch=lambda _url: {
        "keys": [k.to_dict() for k in published]}, clock=lambda: clock[0])
    old_token, new_token = sign(_claims(), old, "EdDSA"), sign(_claims(), new, "EdDSA")
    for i in range(VERIFICATIONS):
        token = old_token
        if rotate and i >= VERIFICATIONS // 2:
            if published == [old]:
                published[:] = [new]
                clock[0] += 120  # the rotation happens a couple of minutes after the first fetch
            token = new_token
        verify(token, keys, ["EdDSA"], issuer=ISSUER, audience=AUDIENCE)
    expected = 2 if rotate else 1
    name = f"JWKS fetches per {VERIFICATIONS:,} verifications, " + ("rotated key" if rotate else "known kid")
    return Row(name, keys.fetch_count, expected, "", "expected count", f"exactly {expected}",
               keys.fetch_count == expected)


def rows() -> list[Row]:
    a2 = JWK.from_dict(VECTORS["rfc7515_A2_rs256"]["jwk_private"], allow_private=True).key
    a3 = JWK.from_dict(VECTORS["rfc7515_A3_es256"]["jwk_private"], allow_private=True).key
    secret = b"altx10 session secret, 32+ bytes"
    return [
        _speed_row("HS256", secret, secret, 5000, 0.5),
        _speed_row("RS256", a2, a2.public_key(), 1000, 0.6),
        _speed_row("ES256", a3, a3.public_key(), 500, 0.9),
        _fetch_row(rotate=False),
        _fetch_row(rotate=True),
    ]
