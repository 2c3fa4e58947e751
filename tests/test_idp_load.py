"""Load: 200 headless logins from 20 threads against one stand-in over real HTTP.

All succeed, no token is issued twice, and no code works twice, even when two threads race to redeem it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from altx10_helpers.idp import LocalPocketId, demo_key
from altx10_helpers.idp.testing import callback_params, pkce_pair

CALLBACK = "http://127.0.0.1/auth/callback"
LOGINS, THREADS = 200, 20


@pytest.fixture(scope="module")
def idp():
    with LocalPocketId(key=demo_key()) as server:
        yield server


@pytest.fixture(scope="module")
def demo(idp):
    return idp.seed_demo([CALLBACK])


def headless_login(idp: LocalPocketId, demo, http: requests.Session, n: int) -> dict:
    """What a script does against a real Pocket ID: admin login code, session cookie, authorize, token."""
    code = http.post(f"{idp.url}/api/users/{demo.user['id']}/one-time-access-token", json={"ttl": "15m"},
                     headers={"X-API-Key": idp.api_key}, timeout=10).json()["token"]
    signed_in = http.post(f"{idp.url}/api/one-time-access-token/{code}", timeout=10)
    assert signed_in.status_code == 200
    verifier, challenge = pkce_pair(f"verifier-{n:04d}-" + "x" * 40)
    state = f"state-{n:04d}"
    response = http.get(f"{idp.url}/authorize", params={
        "client_id": demo.client_id, "redirect_uri": f"http://127.0.0.1:{40000 + n}/auth/callback",
        "response_type": "code", "scope": "openid profile email groups", "state": state,
        "nonce": f"nonce-{n:04d}", "code_challenge": challenge, "code_challenge_method": "S256",
    }, cookies={"access_token": signed_in.cookies["access_token"]}, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    cb = callback_params(response.headers["Location"])
    assert cb["state"] == state and cb["iss"] == idp.url
    tokens = http.post(f"{idp.url}/api/oidc/token", data={
        "grant_type": "authorization_code", "code": cb["code"], "code_verifier": verifier,
        "redirect_uri": f"http://127.0.0.1:{40000 + n}/auth/callback",
    }, auth=(demo.client_id, demo.client_secret), timeout=10)
    assert tokens.status_code == 200, tokens.text
    return {"code": cb["code"], "verifier": verifier, "redirect_uri": f"http://127.0.0.1:{40000 + n}/auth/callback",
            **tokens.json()}


def test_200_headless_logins_from_20_threads(idp, demo):
    local = threading.local()

    def one(n: int) -> dict:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        return headless_login(idp, demo, local.http, n)

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(one, range(LOGINS)))
    assert len(results) == LOGINS
    for name in ("code", "access_token", "id_token", "refresh_token"):
        assert len({r[name] for r in results}) == LOGINS, f"a {name} was issued twice"

    def replay(r: dict) -> requests.Response:
        return requests.post(f"{idp.url}/api/oidc/token", data={
            "grant_type": "authorization_code", "code": r["code"], "code_verifier": r["verifier"],
            "redirect_uri": r["redirect_uri"]}, auth=(demo.client_id, demo.client_secret), timeout=10)

    with ThreadPoolExecutor(THREADS) as pool:
        replays = list(pool.map(replay, results))
    assert {(r.status_code, r.json()["error"]) for r in replays} == {(400, "invalid_grant")}


def test_two_threads_racing_for_one_code_get_exactly_one_token_set(idp, demo):
    http = requests.Session()
    rounds = 25
    for n in range(rounds):
        code = http.post(f"{idp.url}/api/users/{demo.user['id']}/one-time-access-token", json={"ttl": 60},
                         headers={"X-API-Key": idp.api_key}, timeout=10).json()["token"]
        cookie = http.post(f"{idp.url}/api/one-time-access-token/{code}", timeout=10).cookies["access_token"]
        location = http.get(f"{idp.url}/authorize", params={
            "client_id": demo.client_id, "redirect_uri": CALLBACK, "response_type": "code", "scope": "openid",
            "state": f"race-{n:04d}"}, cookies={"access_token": cookie}, allow_redirects=False,
            timeout=10).headers["Location"]
        auth_code = callback_params(location)["code"]
        barrier = threading.Barrier(2)

        def redeem(code=auth_code, barrier=barrier) -> int:
            barrier.wait()
            return requests.post(f"{idp.url}/api/oidc/token", data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
                auth=(demo.client_id, demo.client_secret), timeout=10).status_code

        with ThreadPoolExecutor(2) as pool:
            statuses = sorted(pool.map(lambda _: redeem(), range(2)))
        assert statuses == [200, 400], f"round {n}: {statuses}"
