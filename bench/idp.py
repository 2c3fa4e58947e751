"""The Pocket ID stand-in's own costs: start-up, and raw headless logins, against a bare Flask app.

Start-up is ``LocalPocketId(...).start()`` until its discovery document answers, against a one-route Flask
"hello" app started the same way (werkzeug threaded server on a free loopback port, first GET answered).
Target: under 1 second in absolute terms (the ratio shows what the stand-in adds to Flask). The cold row
does the same in a fresh interpreter, imports included, as the first cell of a notebook would.

A raw headless login is the four HTTP requests a script makes against Pocket ID (admin login code, session
cookie, ``/authorize`` redirect, code exchange with PKCE and client_secret_basic), no client-side token
checks. The peer is four plain GETs to the hello app over the same kind of server and client: the floor
for four round trips. Measured one at a time (median time) and from 20 threads (logins per second).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask
from werkzeug.serving import make_server

from altx10_helpers.idp import LocalPocketId, demo_key
from altx10_helpers.idp.server import _QuietHandler
from altx10_helpers.idp.testing import callback_params, pkce_pair

from .common import Row

CALLBACK = "http://127.0.0.1/auth/callback"
STARTS = 7
SEQUENTIAL = 100
CONCURRENT, THREADS = 400, 20


class _Hello:
    """A bare Flask app on the same kind of server as the stand-in."""

    def __init__(self) -> None:
        app = Flask("hello")
        app.add_url_rule("/", "hello", lambda: "hello")
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _start_seconds(start: Callable[[], tuple[str, Callable[[], None]]]) -> float:
    times = []
    for _ in range(STARTS):
        t0 = time.perf_counter()
        url, stop = start()
        assert requests.get(url, timeout=10).status_code == 200
        times.append(time.perf_counter() - t0)
        stop()
    return statistics.median(times)


def _start_standin(**options: object) -> Callable[[], tuple[str, Callable[[], None]]]:
    def start() -> tuple[str, Callable[[], None]]:
        idp = LocalPocketId(**options).start()
        return idp.discovery_url, idp.stop

    return start


def _start_hello() -> tuple[str, Callable[[], None]]:
    hello = _Hello()
    return hello.url + "/", hello.stop


_COLD_STANDIN = """
import time
t0 = time.perf_counter()
import requests
from altx10_helpers.idp import LocalPocketId
idp = LocalPocketId().start()
assert requests.get(idp.discovery_url, timeout=10).status_code == 200
print(time.perf_counter() - t0)
idp.stop()
"""
_COLD_HELLO = """
import time
t0 = time.perf_counter()
import threading
import requests
from flask import Flask
from werkzeug.serving import make_server
app = Flask("hello")
app.add_url_rule("/", "hello", lambda: "hello")
server = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
assert requests.get(f"http://127.0.0.1:{server.server_port}/", timeout=10).status_code == 200
print(time.perf_counter() - t0)
server.shutdown()
"""


def _cold_seconds(code: str) -> float:
    """Imports included: a fresh interpreter measures from its first import to the first answer."""
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 timeout=60).stdout.strip()) for _ in range(5)]
    return statistics.median(runs)


def _login(idp: LocalPocketId, demo, http: requests.Session, n: int) -> None:
    code = http.post(f"{idp.url}/api/users/{demo.user['id']}/one-time-access-token", json={"ttl": "15m"},
                     headers={"X-API-Key": idp.api_key}, timeout=10).json()["token"]
    cookie = http.post(f"{idp.url}/api/one-time-access-token/{code}", timeout=10).cookies["access_token"]
    verifier, challenge = pkce_pair(f"bench-verifier-{n:06d}-" + "v" * 30)
    location = http.get(f"{idp.url}/authorize", params={
        "client_id": demo.client_id, "redirect_uri": CALLBACK, "response_type": "code",
        "scope": "openid profile email groups", "state": f"bench-state-{n}", "nonce": f"bench-nonce-{n}",
        "code_challenge": challenge, "code_challenge_method": "S256"}, cookies={"access_token": cookie},
        allow_redirects=False, timeout=10).headers["Location"]
    tokens = http.post(f"{idp.url}/api/oidc/token", data={
        "grant_type": "authorization_code", "code": callback_params(location)["code"], "redirect_uri": CALLBACK,
        "code_verifier": verifier}, auth=(demo.client_id, demo.client_secret), timeout=10)
    assert tokens.status_code == 200, tokens.text


def _four_gets(url: str, http: requests.Session) -> None:
    for _ in range(4):
        assert http.get(url, timeout=10).status_code == 200


def _median_each(fn: Callable[[requests.Session, int], None], rounds: int) -> float:
    http = requests.Session()
    fn(http, -1)
    times = []
    for n in range(rounds):
        t0 = time.perf_counter()
        fn(http, n)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _per_second(fn: Callable[[requests.Session, int], None], total: int) -> float:
    local = threading.local()

    def one(n: int) -> None:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        fn(local.http, n)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(THREADS)))  # warm up connections and threads
        t0 = time.perf_counter()
        list(pool.map(one, range(total)))
    return total / (time.perf_counter() - t0)


def rows() -> list[Row]:
    cold, cold_hello = _cold_seconds(_COLD_STANDIN), _cold_seconds(_COLD_HELLO)
    fresh = _start_seconds(_start_standin())
    fixed = _start_seconds(_start_standin(key=demo_key()))
    hello_start = _start_seconds(_start_hello)
    hello = _Hello()
    try:
        with LocalPocketId(key=demo_key()) as idp:
            demo = idp.seed_demo([CALLBACK])

            def login(http: requests.Session, n: int) -> None:
                _login(idp, demo, http, n)

            def gets(http: requests.Session, n: int) -> None:
                _four_gets(hello.url + "/", http)

            login_median = _median_each(login, SEQUENTIAL)
            gets_median = _median_each(gets, SEQUENTIAL)
            login_rate = _per_second(login, CONCURRENT)
            gets_rate = _per_second(gets, CONCURRENT)
    finally:
        hello.stop()
    peer = "bare Flask hello app, same server"
    return [
        Row("stand-in cold start in a new interpreter (imports too)", cold, cold_hello, "s",
            peer + " cold start", "< 1 s", cold < 1.0),
        Row("stand-in start-up to discovery (fresh RSA-2048 key)", fresh, hello_start, "s", peer + " start-up",
            "< 1 s", fresh < 1.0),
        Row("stand-in start-up to discovery (demo key)", fixed, hello_start, "s", peer + " start-up", "< 1 s",
            fixed < 1.0),
        Row("raw headless login, median (4 requests)", login_median * 1e3, gets_median * 1e3, "ms",
            "4 GETs to a " + peer),
        Row(f"raw headless logins per second ({THREADS} threads)", login_rate, gets_rate, "/s",
            f"4-GET sequences/s to a {peer}"),
    ]
