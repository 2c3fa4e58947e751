"""JWT cookies vs server-side sessions in the demo app: revocation, expiry, and the stores (SQLite and Redis)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest
import requests
from conftest import skip_or_fail

from altx10_helpers.errors import ConfigurationError
from altx10_helpers.idp import LocalPocketId, demo_key
from altx10_helpers.idp.testing import FrozenClock
from altx10_helpers.session import DEFAULT_LEEWAY, DenyList
from altx10_helpers.session_store import RedisSessionStore, SqliteSessionStore, local_redis_server
from altx10_helpers.webapp import AppServer, webapp
from tests.webapp_support import CALLBACKS, LOGOUT_CALLBACKS, login_hops, provider_session, serve, set_cookies

DAY = 24 * 3600


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalPocketId]:
    with LocalPocketId(key=demo_key()) as running:
        yield running


@pytest.fixture(scope="module")
def demo(idp: LocalPocketId):
    return idp.seed_demo(callback_urls=CALLBACKS, logout_callback_urls=LOGOUT_CALLBACKS)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    try:
        with local_redis_server() as url:
            yield url
    except ConfigurationError as exc:
        skip_or_fail(str(exc))


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, clock: FrozenClock):
    """Each server-side test runs against both stores, with the app's clock."""
    if request.param == "sqlite":
        opened = SqliteSessionStore(clock=clock)
    else:
        opened = RedisSessionStore(request.getfixturevalue("redis_url"), prefix=f"test{time.monotonic_ns()}:",
                                   clock=clock)
    with opened:
        yield opened


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(time.time())


def signed_in(idp: LocalPocketId, demo, server: AppServer) -> tuple[requests.Session, str]:
    """A browser that went through the whole login; its session cookie value."""
    http = provider_session(idp, demo)
    *_, callback = login_hops(http, server.url, "/me")
    assert callback.status_code == 302, callback.text
    return http, set_cookies(callback)["session"].value


def me(server: AppServer, cookie: str) -> requests.Response:
    return requests.get(f"{server.url}/api/me", headers={"Cookie": f"session={cookie}"}, timeout=10)


# -- the JWT design -----------------------------------------------------------------------------------------


def test_jwt_cannot_be_revoked_and_stays_valid_until_exp(idp: LocalPocketId, demo, clock: FrozenClock) -> None:
    with serve(idp, demo, now=clock) as server:
        http, cookie = signed_in(idp, demo, server)
        w = webapp(server.app)
        with pytest.raises(ConfigurationError, match="stays signed in until"):
            w.revoke_user(demo.user["id"])
        with pytest.raises(ConfigurationError, match="cannot be revoked"):
            w.revoke(cookie)
        http.post(f"{server.url}/logout", timeout=10)
        assert "session" not in http.cookies
        assert me(server, cookie).status_code == 200  # a copy made before logout still works
        clock.advance(DAY - 1)
        assert me(server, cookie).status_code == 200
        clock.advance(1 + DEFAULT_LEEWAY)
        refused = me(server, cookie)
        assert refused.status_code == 401 and "Expired" in refused.json()["error_description"]


def test_jwt_with_a_deny_list_is_revoked_at_once(idp: LocalPocketId, demo, clock: FrozenClock) -> None:
    deny_list = DenyList(clock=clock)
    with serve(idp, demo, now=clock, deny_list=deny_list) as server:
        _, first = signed_in(idp, demo, server)
        _, second = signed_in(idp, demo, server)
        assert webapp(server.app).revoke(first) is True
        refused = me(server, first)
        assert refused.status_code == 401 and "RevokedToken" in refused.json()["error_description"]
        assert me(server, second).status_code == 200  # one token revoked, not the user
        assert len(deny_list) == 1
        clock.advance(DAY + DEFAULT_LEEWAY)
        assert deny_list.prune() == 1  # the entry lives only as long as the token would have


def test_logout_with_a_deny_list_kills_copies_of_the_cookie(idp: LocalPocketId, demo, clock: FrozenClock) -> None:
    with serve(idp, demo, now=clock, deny_list=DenyList(clock=clock)) as server:
        http, cookie = signed_in(idp, demo, server)
        http.post(f"{server.url}/logout", timeout=10)
        assert me(server, cookie).status_code == 401


# -- the server-side design, against SQLite and Redis -----------------------------------------------------------


def test_server_side_cookie_is_an_opaque_id(idp: LocalPocketId, demo, clock: FrozenClock, store) -> None:
    with serve(idp, demo, now=clock, design="server", store=store) as server:
        _, cookie = signed_in(idp, demo, server)
        assert len(cookie) == 43 and "." not in cookie  # 256 random bits, nothing to decode
        body = me(server, cookie).json()
        assert body["design"] == "server" and body["sub"] == demo.user["id"]
        assert body["userInfo"]["email"] == "demo@altx10.dev"


def test_server_side_revocation_is_immediate(idp: LocalPocketId, demo, clock: FrozenClock, store) -> None:
    with serve(idp, demo, now=clock, design="server", store=store) as server:
        _, first = signed_in(idp, demo, server)
        _, second = signed_in(idp, demo, server)
        assert me(server, first).status_code == 200 and me(server, second).status_code == 200
        assert webapp(server.app).revoke_user(demo.user["id"]) == 2
        for cookie in (first, second):
            refused = me(server, cookie)
            assert refused.status_code == 401 and "no live session" in refused.json()["error_description"]


def test_server_side_logout_deletes_the_session(idp: LocalPocketId, demo, clock: FrozenClock, store) -> None:
    with serve(idp, demo, now=clock, design="server", store=store) as server:
        http, cookie = signed_in(idp, demo, server)
        out = http.post(f"{server.url}/logout", allow_redirects=False, timeout=10)
        assert set_cookies(out)["session"].attrs["max-age"] == "0"
        assert store.get(cookie) is None
        assert me(server, cookie).status_code == 401  # a copy of the cookie is worthless now


def test_server_side_session_expires_with_the_app_clock(idp: LocalPocketId, demo, clock: FrozenClock,
                                                        store) -> None:
    with serve(idp, demo, now=clock, design="server", store=store) as server:
        _, cookie = signed_in(idp, demo, server)
        clock.advance(DAY - 1)
        assert me(server, cookie).status_code == 200
        clock.advance(1)
        assert me(server, cookie).status_code == 401


def test_server_side_garbage_ids_are_anonymous(idp: LocalPocketId, demo, clock: FrozenClock, store) -> None:
    with serve(idp, demo, now=clock, design="server", store=store) as server:
        signed_in(idp, demo, server)
        for value in ("x", "A" * 43, "A" * 44, "' OR 1=1 --", "eyJhbGciOiJIUzI1NiJ9.e30.x"):
            assert me(server, value).status_code == 401


def test_the_store_follows_redis_url(idp: LocalPocketId, demo, clock: FrozenClock, redis_url: str) -> None:
    with serve(idp, demo, now=clock, design="server", environ={"REDIS_URL": redis_url}) as server:
        assert isinstance(webapp(server.app).store, RedisSessionStore)
        _, cookie = signed_in(idp, demo, server)
        assert me(server, cookie).status_code == 200
    with serve(idp, demo, now=clock, design="server", environ={}) as server:
        assert isinstance(webapp(server.app).store, SqliteSessionStore)


def test_the_app_closes_the_store_it_opened(idp: LocalPocketId, demo, clock: FrozenClock) -> None:
    with serve(idp, demo, now=clock, design="server", environ={}) as server:
        opened = webapp(server.app).store
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened.get("A" * 43)
