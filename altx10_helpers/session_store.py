"""Server-side sessions: the cookie holds an opaque id, the signed-in user lives in a store.

The other design of notebook 07. Revocation is immediate (the row is gone, the
next request is anonymous) at the price of shared state and a lookup on every
request. SQLite is the default (embedded, nothing to set up); Redis is used
when ``REDIS_URL`` is set, so several app instances share one store.

Named ``session_store`` rather than ``sessions`` so it cannot be misread for
``session`` (the JWT side). Only the SHA-256 of each id is stored, so a leaked
database file or Redis dump holds no cookie anyone could replay.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from .b64 import b64url_encode
from .errors import ConfigurationError, NetworkError
from .session import UserSession

__all__ = [
    "SESSION_ID_BYTES",
    "RedisSessionStore",
    "SessionStore",
    "SqliteSessionStore",
    "local_redis_server",
    "session_store_from_env",
]

#: 256 random bits per session id (at least 128 are needed so ids cannot be guessed).
SESSION_ID_BYTES = 32
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of SESSION_ID_BYTES bytes


@runtime_checkable
class SessionStore(Protocol):
    """What the app needs from a server-side session store; ids are opaque cookie values."""

    def create(self, session: UserSession) -> str:
        """Store ``session`` until its ``exp``; return a new random id for the cookie."""
        ...

    def get(self, session_id: object) -> UserSession | None:
        """The live session for ``session_id``, or None (unknown, revoked, expired, or not an id at all)."""
        ...

    def revoke(self, session_id: object) -> bool:
        """End one session at once; True if it existed."""
        ...

    def revoke_user(self, sub: str) -> int:
        """End every live session of user ``sub`` (sign out everywhere); return how many."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def _new_id(random_bytes: Callable[[int], bytes]) -> str:
    raw = random_bytes(SESSION_ID_BYTES)
    if not isinstance(raw, bytes) or len(raw) != SESSION_ID_BYTES:
        raise ConfigurationError(f"random_bytes({SESSION_ID_BYTES}) must return {SESSION_ID_BYTES} bytes")
    return b64url_encode(raw)


def _id_hash(session_id: object) -> str | None:
    """The stored key for a cookie value, or None when the value cannot be one of our ids."""
    if not isinstance(session_id, str) or not _ID_PATTERN.fullmatch(session_id):
        return None
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def _live_for(session: UserSession, now: float) -> float:
    remaining = session.exp - now
    if remaining <= 0:
        raise ConfigurationError(f"the session expired {-remaining:.0f} s ago; refusing to store it")
    return remaining


def _encode(session: UserSession) -> str:
    return json.dumps(session.to_claims(), separators=(",", ":"))


class SqliteSessionStore:
    """Sessions in SQLite: ``":memory:"`` for a notebook or a test, a file path to survive restarts.

    One connection guarded by a lock, so app threads can share the store.
    Expired rows are ignored (and deleted) on lookup; ``purge_expired`` sweeps the rest.
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, clock: Callable[[], float] = time.time,
                 random_bytes: Callable[[int], bytes] = os.urandom):
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._clock = clock
        self._random_bytes = random_bytes
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS sessions (id_hash TEXT PRIMARY KEY, sub TEXT NOT NULL, "
                             "expires_at REAL NOT NULL, data TEXT NOT NULL)")
            self._db.execute("CREATE INDEX IF NOT EXISTS sessions_by_sub ON sessions (sub)")

    def create(self, session: UserSession) -> str:
        _live_for(session, self._clock())
        session_id = _new_id(self._random_bytes)
        with self._lock:
            self._db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                             (_id_hash(session_id), session.sub, session.exp, _encode(session)))
        return session_id

    def get(self, session_id: object) -> UserSession | None:
        key = _id_hash(session_id)
        if key is None:
            return None
        with self._lock:
            row = self._db.execute("SELECT data, expires_at FROM sessions WHERE id_hash = ?", (key,)).fetchone()
            if row is None:
                return None
            if self._clock() >= row[1]:
                self._db.execute("DELETE FROM sessions WHERE id_hash = ?", (key,))
                return None
        return UserSession.from_claims(json.loads(row[0]))

    def revoke(self, session_id: object) -> bool:
        key = _id_hash(session_id)
        if key is None:
            return False
        with self._lock:
            return self._db.execute("DELETE FROM sessions WHERE id_hash = ?", (key,)).rowcount > 0

    def revoke_user(self, sub: str) -> int:
        with self._lock:
            live = self._db.execute("DELETE FROM sessions WHERE sub = ? AND expires_at > ?",
                                    (sub, self._clock())).rowcount
            self._db.execute("DELETE FROM sessions WHERE sub = ?", (sub,))
        return live

    def purge_expired(self) -> int:
        """Delete every expired row; return how many."""
        with self._lock:
            return self._db.execute("DELETE FROM sessions WHERE expires_at <= ?", (self._clock(),)).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteSessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Atomic "sign out everywhere": a session created meanwhile cannot slip between reading and deleting the set.
_REVOKE_USER = """
local n = 0
for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  n = n + redis.call('DEL', ARGV[1] .. h)
end
redis.call('DEL', KEYS[1])
return n
"""


def _redis() -> ModuleType:
    """The redis client, imported on first use: SQLite users (and notebook start-up) do not pay for it."""
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is a declared dependency
        raise ConfigurationError("the redis package is missing: pip install redis") from None
    return redis


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisSessionStore:
    """Sessions in Redis, shared by every app instance; Redis's own TTL deletes them at ``exp``.

    Keys: ``{prefix}session:{sha256(id)}`` holds the session JSON,
    ``{prefix}user:{sub}`` the set of a user's session hashes (for ``revoke_user``).
    ``get`` also checks ``exp`` against ``clock``, so a pinned clock behaves as with SQLite.
    """

    def __init__(self, url: str, *, prefix: str = "altx10:", timeout: float = 2.0,
                 clock: Callable[[], float] = time.time, random_bytes: Callable[[int], bytes] = os.urandom):
        self._where = _redact(url)
        self._redis = redis = _redis()
        try:
            self._r = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        except ValueError as exc:
            raise ConfigurationError(f"REDIS_URL {self._where!r} is not a Redis URL: {exc}") from None
        self._prefix = prefix
        self._clock = clock
        self._random_bytes = random_bytes
        self._revoke_user = self._r.register_script(_REVOKE_USER)
        try:
            with self._errors():
                self._r.ping()  # fail at start-up, not on the first request
        except NetworkError:
            self._r.close()
            raise

    @contextmanager
    def _errors(self) -> Iterator[None]:
        redis = self._redis
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise NetworkError(f"cannot reach Redis at {self._where}: {exc}") from None
        except redis.RedisError as exc:
            raise NetworkError(f"Redis at {self._where} answered an error: {exc}") from None

    def _session_key(self, key: str) -> str:
        return f"{self._prefix}session:{key}"

    def _user_key(self, sub: str) -> str:
        return f"{self._prefix}user:{sub}"

    def create(self, session: UserSession) -> str:
        ttl_ms = math.ceil(_live_for(session, self._clock()) * 1000)
        session_id = _new_id(self._random_bytes)
        key = _id_hash(session_id)
        user_key = self._user_key(session.sub)
        with self._errors():
            pipe = self._r.pipeline(transaction=True)
            pipe.set(self._session_key(key), _encode(session), px=ttl_ms)
            pipe.sadd(user_key, key)
            pipe.pexpire(user_key, ttl_ms, nx=True)  # a new set: give it this session's lifetime
            pipe.pexpire(user_key, ttl_ms, gt=True)  # an old set: live as long as its longest session
            pipe.execute()
        return session_id

    def get(self, session_id: object) -> UserSession | None:
        key = _id_hash(session_id)
        if key is None:
            return None
        with self._errors():
            data = self._r.get(self._session_key(key))
        if data is None:
            return None
        session = UserSession.from_claims(json.loads(data))
        return session if self._clock() < session.exp else None

    def revoke(self, session_id: object) -> bool:
        key = _id_hash(session_id)
        if key is None:
            return False
        with self._errors():
            data = self._r.getdel(self._session_key(key))
            if data is None:
                return False
            self._r.srem(self._user_key(json.loads(data)["sub"]), key)
        return True

    def revoke_user(self, sub: str) -> int:
        with self._errors():
            return int(self._revoke_user(keys=[self._user_key(sub)], args=[self._session_key("")]))

    def close(self) -> None:
        self._r.close()

    def __enter__(self) -> RedisSessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def session_store_from_env(environ: Mapping[str, str] | None = None, *,
                           sqlite_path: str | os.PathLike[str] = ":memory:", clock: Callable[[], float] = time.time,
                           random_bytes: Callable[[int], bytes] = os.urandom) -> SessionStore:
    """Redis when ``REDIS_URL`` is set, else SQLite at ``sqlite_path`` (in memory by default)."""
    env = os.environ if environ is None else environ
    url = env.get("REDIS_URL", "").strip()
    if url:
        return RedisSessionStore(url, clock=clock, random_bytes=random_bytes)
    return SqliteSessionStore(sqlite_path, clock=clock, random_bytes=random_bytes)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_redis_server(*, startup_timeout: float = 10.0) -> Iterator[str]:
    """Run a throw-away ``redis-server`` on a free loopback port (no persistence); yield its URL.

    For notebooks, tests and benchmarks that must not depend on a Redis someone
    else started. Raises ``ConfigurationError`` when ``redis-server`` is not installed.
    """
    exe = shutil.which("redis-server")
    if exe is None:
        raise ConfigurationError("redis-server is not installed (Debian: apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="altx10-redis-") as tmp:
        for _attempt in range(3):  # another process may take the free port before redis-server binds it
            port = _free_port()
            proc = subprocess.Popen(  # noqa: S603 - a fixed argument list, the executable found on PATH
                [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                 "--dir", tmp, "--daemonize", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            url = f"redis://127.0.0.1:{port}/0"
            try:
                if _wait_for_redis(url, proc, startup_timeout):
                    yield url
                    return
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        raise NetworkError("redis-server did not answer on a loopback port (3 attempts); run it by hand to see why")


def _wait_for_redis(url: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    redis = _redis()
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                client.ping()
                return True
            except redis.ConnectionError:
                time.sleep(0.02)
        return False
    finally:
        client.close()
