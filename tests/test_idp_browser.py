"""A real browser (Debian's Chromium driven by Playwright) signs in on the stand-in's pages with a login code,
passes consent, and lands on a local callback with code, state and iss. Skips locally without Chromium or
Playwright; under CI=true it must run."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import urlencode

import pytest
import requests
from conftest import ROOT

from altx10_helpers.idp import LocalPocketId
from altx10_helpers.idp.testing import callback_params, pkce_pair


class _Callback(BaseHTTPRequestHandler):
    """The relying party's callback: records the URL it was called with."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Callback.seen.append(self.path)
        body = b"<!doctype html><title>callback</title><h1>Callback received</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def callback_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Callback.seen = []
    yield f"http://127.0.0.1:{server.server_port}/callback"
    server.shutdown()
    server.server_close()


def test_browser_signs_in_with_a_login_code_consents_and_reaches_the_callback(chromium, callback_server):
    with LocalPocketId() as idp:
        demo = idp.seed_demo(["http://127.0.0.1/callback"], skip_consent=False, client_name="Browser Test App")
        verifier, challenge = pkce_pair()
        authorize_url = f"{idp.url}/authorize?" + urlencode({
            "client_id": demo.client_id, "redirect_uri": callback_server, "response_type": "code",
            "scope": "openid profile email", "state": "browser-state-42", "nonce": "browser-nonce-42",
            "code_challenge": challenge, "code_challenge_method": "S256"})
        context = chromium.new_context()
        page = context.new_page()
        page.goto(authorize_url)
        assert page.url.startswith(f"{idp.url}/login?")
        page.fill("#code", demo.login_code())
        page.click("button[type=submit]")
        page.wait_for_selector("text=Authorize Browser Test App")
        assert "See your email address" in page.content()
        page.click("button[value=allow]")
        page.wait_for_url(callback_server + "?*")
        assert page.text_content("h1") == "Callback received"
        cb = callback_params(page.url)
        assert cb["state"] == "browser-state-42" and cb["iss"] == idp.url and cb["code"]
        assert any(path.startswith("/callback?code=") for path in _Callback.seen)
        cookies = {c["name"]: c for c in context.cookies(idp.url)}
        assert cookies["access_token"]["httpOnly"] and cookies["access_token"]["sameSite"] == "Lax"

        tokens = requests.post(f"{idp.internal_url}/api/oidc/token", data={
            "grant_type": "authorization_code", "code": cb["code"], "redirect_uri": callback_server,
            "code_verifier": verifier}, auth=(demo.client_id, demo.client_secret), timeout=10)
        assert tokens.status_code == 200 and tokens.json()["token_type"] == "bearer"

        page.goto(authorize_url.replace("browser-state-42", "browser-state-43"))
        page.wait_for_url(callback_server + "?*")
        assert callback_params(page.url)["state"] == "browser-state-43"  # session and consent remembered
        context.close()


def test_browser_sees_a_wrong_login_code_refused(chromium):
    with LocalPocketId() as idp:
        page = chromium.new_page()
        page.goto(f"{idp.url}/lc/NOT-A-REAL-CODE")
        assert page.input_value("#code") == "NOT-A-REAL-CODE"
        page.click("button[type=submit]")
        page.wait_for_selector("[role=alert]")
        assert "invalid, expired or already used" in page.text_content("[role=alert]")
        page.close()


def test_new_user_runs_the_command_and_signs_in_with_the_printed_link(chromium):
    proc = subprocess.Popen([sys.executable, "-m", "altx10_helpers.idp", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    try:
        banner = ""
        while "Press Ctrl+C" not in banner:
            line = proc.stdout.readline()
            assert line, banner
            banner += line
        discovery = re.search(r"discovery\s+(\S+)", banner).group(1)
        link = re.search(r"sign in in a browser: (\S+)", banner).group(1)
        page = chromium.new_page()
        page.goto(discovery)
        assert '"authorization_endpoint"' in page.text_content("body")
        page.goto(link)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Signed in as")
        assert "Demo User" in page.text_content("main")
        page.close()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
