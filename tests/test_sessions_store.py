"""Server-side session stores: the same tests against SQLite and a real Redis server."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from conftest import skip_or_fail

from altx10_helpers import (
    ConfigurationError,
    NetworkError,
    RedisSessionStore,
    SessionStore,
    SqliteSessionStore,
    UserInfo,
    UserSession,
    b64url_decode,
    b64url_encode,
    local_redis_server,
    session_store_from_env,
)

NOW = 1_700_000_000


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = NOW):
        self.t = t

    def __call__(self) -> float:
        return self.t


def user(sub: str, *, lifetime: int = 3600, now: float = NOW, **dynamic) -> UserSession:
    info = UserInfo(sub=sub, email=f"{sub}@altx10.dev", name=sub.title(), groups=("staff",), email_verified=True)
    return UserSession(sub=sub, exp=int(now) + lifetime, iat=int(now), userInfo=info, dynamic=dynamic,
                       jti=f"jti-{sub}")


class Backend:
    """Opens stores of one kind on one shared database, and shows what that database holds."""

    def __init__(self, name: str, tmp_path: Path, url: str | None):
        self.name, self.path, self.url = name, tmp_path / "sessions.db", url
        self.opened: list[SessionStore] = []

    def make(self, clock: Callable[[], float] | None = None,
             random_bytes: Callable[[int], bytes] = os.urandom) -> SessionStore:
        clock = clock or Clock()
        if self.name == "sqlite":
            store: SessionStore = SqliteSessionStore(self.path, clock=clock, random_bytes=random_bytes)
        else:
            store = RedisSessionStore(self.url, clock=clock, random_bytes=random_bytes)
        self.opened.append(store)
        return store

    def dump(self) -> bytes:
        """Every key and value, as raw bytes: what a leaked database file or Redis dump would show."""
        if self.name == "sqlite":
            return self.path.read_bytes()
        with redis.Redis.from_url(self.url) as client:
            out = b""
            for key in client.keys("*"):
                value = client.get(key) if client.type(key) == b"string" else b"".join(client.smembers(key))
                out += key + b"=" + value + b"\n"
            return out


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A private redis-server on a free loopback port, started for this module and stopped after it."""
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed (Debian: apt-get install redis-server)")
    with local_redis_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, tmp_path) -> Iterator[Backend]:
    url = None
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        with redis.Redis.from_url(url) as client:
            client.flushdb()
    b = Backend(request.param, tmp_path, url)
    yield b
    for store in b.opened:
        store.close()


# --- the same behaviour from both backends ------------------------------------------------------------------------


def test_create_then_get_returns_the_same_session(backend):
    store = backend.make()
    assert isinstance(store, SessionStore)
    alice = user("alice", theme="dark")
    sid = store.create(alice)
    assert store.get(sid) == alice
    assert store.get(sid).userInfo.groups == ("staff",)


def test_ids_are_256_random_bits_in_url_safe_text(backend):
    store = backend.make()
    ids = {store.create(user("alice")) for _ in range(20)}
    assert len(ids) == 20
    for sid in ids:
        assert len(b64url_decode(sid)) == 32  # at least 128 bits are needed; we use 256
    pinned = backend.make(random_bytes=lambda n: b"\x2a" * n).create(user("bob"))
    assert pinned == b64url_encode(b"\x2a" * 32)


def test_the_store_never_holds_the_cookie_value(backend):
    store = backend.make()
    sid = store.create(user("alice"))
    dump = backend.dump()
    assert b"alice@altx10.dev" in dump  # the dump is real
    assert sid.encode() not in dump


def test_another_instance_sees_the_same_sessions(backend):
    sid = backend.make().create(user("alice"))
    assert backend.make().get(sid).sub == "alice"


def test_revoke_ends_one_session_at_once(backend):
    store = backend.make()
    laptop, phone = store.create(user("alice")), store.create(user("alice"))
    assert store.revoke(laptop) is True
    assert store.get(laptop) is None
    assert store.get(phone).sub == "alice"
    assert store.revoke(laptop) is False


def test_revoke_user_signs_out_everywhere(backend):
    store = backend.make()
    alice = [store.create(user("alice")) for _ in range(3)]
    bob = store.create(user("bob"))
    store.revoke(alice[0])
    assert store.revoke_user("alice") == 2
    assert [store.get(sid) for sid in alice] == [None, None, None]
    assert store.get(bob).sub == "bob"
    assert store.revoke_user("alice") == 0
    assert store.revoke_user("nobody") == 0
    again = store.create(user("alice"))  # signing in again works
    assert store.get(again).sub == "alice"


def test_sessions_expire_at_exp(backend):
    clock = Clock(NOW)
    store = backend.make(clock=clock)
    sid = store.create(user("alice", lifetime=60))
    clock.t = NOW + 59.999
    assert store.get(sid).sub == "alice"
    clock.t = NOW + 60  # iat <= now < exp, as for the JWT
    assert store.get(sid) is None


def test_an_already_expired_session_is_not_stored(backend):
    store = backend.make(clock=Clock(NOW + 3600))
    with pytest.raises(ConfigurationError, match="expired"):
        store.create(user("alice", lifetime=3600))


GARBAGE_IDS = ["", "x", "a" * 43, "a" * 44, "A" * 42, "../../etc/passwd", "' OR '1'='1", "*", "altx10:session:*",
               "é" * 43, "a" * 42 + "\n", "a" * 10_000, None, 123, b"a" * 43, ["a"]]


@pytest.mark.parametrize("garbage", GARBAGE_IDS, ids=[repr(g)[:20] for g in GARBAGE_IDS])
def test_garbage_ids_are_simply_unknown(backend, garbage):
    store = backend.make()
    sid = store.create(user("alice"))
    assert store.get(garbage) is None
    assert store.revoke(garbage) is False
    assert store.get(sid).sub == "alice"  # nothing else was touched


def test_a_near_miss_id_is_unknown(backend):
    store = backend.make()
    sid = store.create(user("alice"))
    near = sid[:-2] + ("A" if sid[-2] != "A" else "B") + sid[-1]
    assert store.get(near) is None


def test_concurrent_use_from_threads(backend):
    store = backend.make()
    errors: list[BaseException] = []
    kept: dict[str, str] = {}
    lock = threading.Lock()

    def work(n: int) -> None:
        try:
            for i in range(40):
                sub = f"user{n}"
                sid = store.create(user(sub, i=i))
                assert store.get(sid).dynamic == {"i": i}
                if i % 2:
                    assert store.revoke(sid)
                    assert store.get(sid) is None
                else:
                    with lock:
                        kept[sid] = sub
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(kept) == 8 * 20
    assert all(store.get(sid).sub == sub for sid, sub in kept.items())
    assert store.revoke_user("user3") == 20


# --- what only one backend can show -------------------------------------------------------------------------------


def test_sqlite_in_memory_by_default_and_purges_expired_rows():
    clock = Clock(NOW)
    with SqliteSessionStore(clock=clock) as store:
        short = store.create(user("alice", lifetime=10))
        long = store.create(user("bob", lifetime=1000))
        clock.t = NOW + 10
        assert store.purge_expired() == 1
        assert store.get(short) is None
        assert store.get(long).sub == "bob"


def test_sqlite_file_survives_a_restart(tmp_path):
    path = tmp_path / "s.db"
    with SqliteSessionStore(path, clock=Clock()) as store:
        sid = store.create(user("alice"))
    with SqliteSessionStore(path, clock=Clock()) as store:
        assert store.get(sid).sub == "alice"


def test_sqlite_revoke_user_counts_only_live_sessions():
    clock = Clock(NOW)
    with SqliteSessionStore(clock=clock) as store:
        store.create(user("alice", lifetime=10))
        store.create(user("alice", lifetime=1000))
        clock.t = NOW + 20
        assert store.revoke_user("alice") == 1


def test_redis_deletes_sessions_by_itself_at_exp(redis_url):
    now = time.time()
    with RedisSessionStore(redis_url) as store, redis.Redis.from_url(redis_url) as client:
        client.flushdb()
        session = UserSession(sub="alice", exp=int(now) + 2, iat=int(now), userInfo=UserInfo(sub="alice"))
        sid = store.create(session)
        (key,) = client.keys("altx10:session:*")
        assert 0 < client.pttl(key) <= 2000
        assert 0 < client.pttl(b"altx10:user:alice") <= 2000
        deadline = time.monotonic() + 5
        while client.exists(key) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not client.exists(key)  # gone from Redis itself, not merely hidden by our clock check
        assert store.get(sid) is None


def test_redis_user_set_lives_as_long_as_its_longest_session(redis_url):
    with RedisSessionStore(redis_url) as store, redis.Redis.from_url(redis_url) as client:
        client.flushdb()
        now = time.time()
        for lifetime in (100, 1000, 10):
            store.create(user("alice", lifetime=lifetime, now=now))
        assert 990_000 < client.pttl(b"altx10:user:alice") <= 1_000_000


def test_redis_revoke_leaves_no_stale_entry_behind(redis_url):
    with RedisSessionStore(redis_url) as store, redis.Redis.from_url(redis_url) as client:
        client.flushdb()
        laptop, phone = (store.create(user("alice", now=time.time())) for _ in "ab")
        store.revoke(laptop)
        assert client.scard(b"altx10:user:alice") == 1
        store.revoke_user("alice")
        assert client.keys("*") == []
        assert store.get(phone) is None


def test_store_from_env_picks_redis_when_redis_url_is_set(redis_url):
    store = session_store_from_env({"REDIS_URL": redis_url})
    try:
        assert isinstance(store, RedisSessionStore)
    finally:
        store.close()
    with session_store_from_env({}) as store:
        assert isinstance(store, SqliteSessionStore)
    with session_store_from_env({"REDIS_URL": "  "}) as store:
        assert isinstance(store, SqliteSessionStore)


def test_bad_or_unreachable_redis_is_our_error():
    with pytest.raises(ConfigurationError, match="not a Redis URL"):
        RedisSessionStore("http://127.0.0.1:6379/0")
    with pytest.raises(NetworkError, match="cannot reach Redis") as info:
        RedisSessionStore("redis://:hunter2@127.0.0.1:1/0", timeout=0.5)
    assert "hunter2" not in str(info.value)


def test_redis_going_away_is_a_network_error():
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed")
    with local_redis_server() as url:
        store = RedisSessionStore(url, timeout=0.5)
        sid = store.create(user("alice", now=time.time()))
        assert store.get(sid).sub == "alice"
    with pytest.raises(NetworkError):
        store.get(sid)
    store.close()


def test_local_redis_server_stops_when_done():
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed")
    with local_redis_server() as url:
        with redis.Redis.from_url(url) as client:
            assert client.ping()
    with pytest.raises(redis.ConnectionError), redis.Redis.from_url(url, socket_connect_timeout=0.5) as client:
        client.ping()
