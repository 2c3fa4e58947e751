"""Per-request cost of a server-side session lookup, against verifying the session JWT.

Both sides end with the same ``UserSession``: the JWT side verifies an HS256
cookie (``validate_token``), the session side looks an opaque id up among
10,000 stored sessions (SQLite file, and Redis on loopback when ``redis-server``
is installed). No target: the ratio is what notebook 07 discusses.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from pathlib import Path

from altx10_helpers import (
    ConfigurationError,
    RedisSessionStore,
    SessionStore,
    SqliteSessionStore,
    UserSession,
    create_token,
    local_redis_server,
    validate_token,
)

from .common import Row, per_call_us

SECRET = bytes(range(64))
SESSIONS = 10_000
NUMBER = 2_000
USERINFO = {"sub": "3f1c8d2e-5b7a-4c1e-9f3d-2a6b8c0d4e5f", "email": "ada@altx10.dev", "name": "Ada Lovelace",
            "given_name": "Ada", "family_name": "Lovelace", "picture": "https://altx10.dev/ada.png",
            "email_verified": True, "groups": ["admins", "writers"]}
PEER = "validate_token (HS256 session JWT)"


def _lookup_us(store: SessionStore, session: UserSession) -> float:
    ids = [store.create(session) for _ in range(SESSIONS)]
    cycle = itertools.cycle(ids[:: SESSIONS // 1000])

    def lookup() -> None:
        if store.get(next(cycle)) is None:
            raise AssertionError("a stored session was not found")

    return per_call_us(lookup, number=NUMBER)


def rows() -> list[Row]:
    session = UserSession.new(USERINFO, now=time.time())
    app = "https://notes.altx10.dev"  # a real session cookie names its app (iss/aud), and that is checked too
    token = create_token(session, secret=SECRET, issuer=app, audience=app)
    jwt_us = per_call_us(lambda: validate_token(token, secret=SECRET, issuer=app, audience=app), number=NUMBER)
    out = []
    with tempfile.TemporaryDirectory() as tmp, SqliteSessionStore(Path(tmp) / "sessions.db") as store:
        sqlite_us = _lookup_us(store, session)
    out.append(Row("session lookup / JWT verify: SQLite file, 10k", sqlite_us, jwt_us, "us", PEER))
    try:
        with local_redis_server() as url, RedisSessionStore(url) as store:
            redis_us = _lookup_us(store, session)
            out.append(Row("session lookup / JWT verify: Redis loopback, 10k", redis_us, jwt_us, "us", PEER))
    except ConfigurationError as exc:
        print(f"sessions: Redis row left out: {exc}", file=sys.stderr)
    return out
