"""Starting the stand-in: ``LocalPocketId`` in-process, and the command ``python -m altx10_helpers.idp`` (the
``altx10-pocket-id`` script) as a new user runs it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib

import pytest
import requests
from conftest import ROOT

from altx10_helpers.idp import LocalPocketId, demo_key
from altx10_helpers.idp.testing import callback_params

COMMAND = [sys.executable, "-m", "altx10_helpers.idp"]


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Run the command until it has printed its banner; the process and the banner."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("APP_URL", "INTERNAL_APP_URL", "STATIC_API_KEY",
                                                                  "PORT", "HOST")}
    full_env.update(env or {})
    proc = subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=full_env, cwd=ROOT)
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl+C" in line:
            return proc, "".join(lines)
    proc.kill()
    raise AssertionError("no banner: " + "".join(lines) + proc.stderr.read())


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=10)


def field(banner: str, pattern: str) -> str:
    match = re.search(pattern, banner)
    assert match, f"{pattern!r} not in:\n{banner}"
    return match.group(1)


def test_local_pocket_id_serves_on_a_free_loopback_port_and_stops_cleanly():
    with LocalPocketId(key=demo_key()) as idp:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", idp.url) and idp.port > 0
        assert idp.start() is idp  # starting twice is harmless
        assert requests.get(idp.discovery_url, timeout=10).json()["issuer"] == idp.url
        url = idp.url
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/.well-known/jwks.json", timeout=2)
    idp.stop()  # and so is stopping twice


def test_two_stand_ins_run_side_by_side_with_their_own_state():
    with LocalPocketId(key=demo_key()) as a, LocalPocketId(key=demo_key()) as b:
        assert a.url != b.url
        a.seed_demo()
        assert len(a.admin("GET", "/api/users")["data"]) == 1
        assert b.admin("GET", "/api/users")["data"] == []


def test_app_url_can_differ_from_where_it_listens():
    with LocalPocketId(app_url="https://hub.example/user/me/proxy/1411", key=demo_key()) as idp:
        doc = requests.get(f"http://127.0.0.1:{idp.port}/.well-known/openid-configuration", timeout=10).json()
        assert doc["issuer"] == idp.url == "https://hub.example/user/me/proxy/1411"


def test_help_documents_options_and_pocket_id_variables():
    out = subprocess.run([*COMMAND, "--help"], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    for word in ("--host", "--port", "--app-url", "APP_URL", "INTERNAL_APP_URL", "STATIC_API_KEY", "PORT", "1411"):
        assert word in out


def test_console_script_is_declared():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["altx10-pocket-id"] == "altx10_helpers.idp.__main__:main"


def test_command_prints_a_demo_that_signs_in_headless():
    proc, banner = start("--port", "0")
    try:
        issuer = field(banner, r"issuer \(APP_URL\)\s+(\S+)")
        api_key = field(banner, r"admin API key\s+(\S+)")
        user_id = field(banner, r"demo user .* id (\S+)")
        client_id = field(banner, r"demo client\s+id\s+(\S+)")
        secret = field(banner, r"secret (\S+)")
        code = field(banner, r"login code\s+(\S+)")
        assert f"{issuer}/lc/{code}" in banner
        doc = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
        assert doc["issuer"] == issuer
        cookie = requests.post(f"{issuer}/api/one-time-access-token/{code}", timeout=10).cookies["access_token"]
        location = requests.get(doc["authorization_endpoint"], params={
            "client_id": client_id, "redirect_uri": "http://localhost:3000/auth/callback", "response_type": "code",
            "scope": "openid email", "state": "cli-state-1"}, cookies={"access_token": cookie},
            allow_redirects=False, timeout=10).headers["Location"]
        tokens = requests.post(doc["token_endpoint"], data={
            "grant_type": "authorization_code", "code": callback_params(location)["code"],
            "redirect_uri": "http://localhost:3000/auth/callback"}, auth=(client_id, secret), timeout=10)
        assert tokens.status_code == 200
        more = requests.post(f"{issuer}/api/users/{user_id}/one-time-access-token", json={"ttl": "15m"},
                             headers={"X-API-Key": api_key}, timeout=10)
        assert more.status_code == 201
    finally:
        assert stop(proc) == 0


def test_pocket_id_environment_variables_configure_it():
    env = {"STATIC_API_KEY": "static-key-0123456789", "PORT": "0", "APP_URL": "https://id.example.test",
           "INTERNAL_APP_URL": "http://127.0.0.1:1"}
    proc, banner = start("--no-demo", env=env)
    try:
        assert "static-key-0123456789" in banner and "generated" not in banner and "demo user" not in banner
        port = field(banner, r"listening on http://127\.0\.0\.1:(\d+)")
        doc = requests.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration", timeout=10).json()
        assert doc["issuer"] == "https://id.example.test"
        assert doc["token_endpoint"] == "http://127.0.0.1:1/api/oidc/token"
        users = requests.get(f"http://127.0.0.1:{port}/api/users", headers={"X-API-Key": "static-key-0123456789"},
                             timeout=10)
        assert users.status_code == 200 and users.json()["data"] == []
    finally:
        assert stop(proc) == 0


def test_options_win_over_the_environment():
    proc, banner = start("--port", "0", "--app-url", "http://idp.local:9999", "--no-demo",
                         env={"APP_URL": "http://ignored.example", "PORT": "1"})
    try:
        assert "issuer (APP_URL)    http://idp.local:9999" in banner
    finally:
        assert stop(proc) == 0


def test_bad_configuration_exits_with_a_message():
    result = subprocess.run([*COMMAND, "--port", "0"], capture_output=True, text=True, cwd=ROOT, timeout=30,
                            env={**os.environ, "STATIC_API_KEY": "short"})
    assert result.returncode == 2 and "STATIC_API_KEY" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run([*COMMAND, "--no-demo"], capture_output=True, text=True, cwd=ROOT, timeout=30,
                            env={**os.environ, "PORT": "not-a-port"})
    assert result.returncode == 2 and "PORT" in result.stderr
