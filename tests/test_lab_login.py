"""The notebook's browser login without a browser: the catcher, the public address learned through the
proxy headers, passkeys, and every bad input of issue 8 (wrong or replayed state, access_denied, a closed
tab, a second concurrent sign-in), each with a clear message and the next attempt still working.

``Proxy`` plays jupyter-server-proxy (``/user/learner/proxy/<port>/...`` -> loopback, with ``Host`` and
``X-Forwarded-Prefix``) and a browser (a cookie jar, redirects followed by hand).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from jupyter_server_proxy.config import ServerProcess

from altx10_helpers.b64 import b64url_decode
from altx10_helpers.errors import CallbackError
from altx10_helpers.idp import demo_key
from altx10_helpers.idp.testing import FrozenClock, SoftPasskey
from altx10_helpers.lab import (
    CALLBACK_NAME,
    BrowserLogin,
    CallbackCatcher,
    browser_login,
    callback_server,
    jupyter_base_path,
    pocket_id_server,
    running_headless,
)

ORIGIN = "http://localhost:8888"
BASE = "/user/learner/"
INTERACTIVE = {"ALTX10_HEADLESS": "0", "JUPYTERHUB_SERVICE_PREFIX": BASE}


class Proxy:
    """A browser behind Jupyter: public URLs under ``ORIGIN + BASE + proxy/<port>`` reach loopback ports."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.cookies: dict[str, str] = {}

    def _local(self, url: str) -> tuple[str, dict[str, str]]:
        m = re.fullmatch(re.escape(ORIGIN + BASE) + r"proxy/(\d+)(/[^?#]*)?(\?.*)?", url)
        assert m, f"not a proxied URL: {url}"
        headers = {"Host": "localhost:8888", "X-Forwarded-Prefix": f"{BASE}proxy/{m[1]}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return f"http://127.0.0.1:{m[1]}{m[2] or '/'}{m[3] or ''}", headers

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        local, headers = self._local(url)
        response = self.http.request(method, local, headers={**headers, **kwargs.pop("headers", {})},
                                     allow_redirects=False, timeout=10, **kwargs)
        for cookie in response.raw.headers.getlist("Set-Cookie"):
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie or "expires=Thu, 01 Jan 1970" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def follow(self, url: str, *, stop_at: str | None = None, max_hops: int = 10) -> requests.Response:
        """GET and follow redirects; stop (without requesting it) at a URL starting with ``stop_at``."""
        for _ in range(max_hops):
            response = self.request("GET", url)
            if response.status_code not in (302, 303):
                return response
            url = response.headers["Location"]
            if stop_at and url.startswith(stop_at):
                response.stopped_at = url  # type: ignore[attr-defined]
                return response
        raise AssertionError("too many redirects")


@pytest.fixture
def catcher() -> Iterator[CallbackCatcher]:
    c = CallbackCatcher(port=0)
    yield c
    c.close()


@pytest.fixture
def login(catcher) -> Iterator[BrowserLogin]:
    lg = browser_login(env=INTERACTIVE, catcher=catcher)
    yield lg
    lg.close()


def _start_url(login: BrowserLogin) -> str:
    return ORIGIN + login.start_path


def _sign_in_with_code(browser: Proxy, login: BrowserLogin, *, deliver: bool = True,
                       authorize: str | None = None) -> requests.Response:
    """Click the link (or continue at ``authorize``), sign in with a login code, come back to the catcher."""
    if authorize is None:
        start = browser.request("GET", _start_url(login))
        assert start.status_code == 302, start.text
        authorize = start.headers["Location"]
    login_page = browser.follow(authorize)
    assert "Sign in with a passkey" in login_page.text
    action = re.search(r'<form method="post" action="([^"]+)"', login_page.text)[1]
    back = re.search(r'name="redirect" value="([^"]+)"', login_page.text)[1].replace("&amp;", "&")
    code = login.idp.login_code(login.idp.admin("GET", "/api/users")["data"][0]["id"])
    signed_in = browser.request("POST", action, data={"code": code, "redirect": back})
    assert signed_in.status_code == 303, signed_in.text
    callback = ORIGIN + BASE
    end = browser.follow(signed_in.headers["Location"], stop_at=None if deliver else callback)
    return end


def _state(login: BrowserLogin, browser: Proxy) -> tuple[str, str, str]:
    """Start a sign-in; its state, the issuer it will come back with, and its authorization URL."""
    location = browser.request("GET", _start_url(login)).headers["Location"]
    return dict(parse_qsl(urlsplit(location).query))["state"], location.split("/authorize")[0], location


def _callback(login: BrowserLogin, browser: Proxy, **params: str) -> requests.Response:
    return browser.request("GET", f"{ORIGIN}{login.redirect_path}?{urlencode(params)}")


def test_headless_and_base_path_detection():
    assert running_headless({}) is True, "a kernel no Jupyter server started (nbval) is headless"
    assert running_headless({"JPY_SESSION_NAME": "05.ipynb"}) is False
    assert running_headless({"JPY_SESSION_NAME": "05.ipynb", "ALTX10_HEADLESS": "1"}) is True
    assert running_headless({"ALTX10_HEADLESS": "0"}) is False
    assert jupyter_base_path({"JUPYTERHUB_SERVICE_PREFIX": "/user/x"}, []) == "/user/x/"
    servers = [{"pid": 4242, "base_url": "/user/learner/"}, {"pid": 1, "base_url": "/other/"}]
    assert jupyter_base_path({"JPY_PARENT_PID": "4242"}, servers) == "/user/learner/"
    assert jupyter_base_path({"JPY_PARENT_PID": "9"}, servers) == "/"


def test_entry_points_are_valid_jupyter_server_proxy_servers():
    callback = ServerProcess(name=CALLBACK_NAME, **callback_server())
    assert callback.port == 14111 and not callback.command and not callback.launcher_entry.enabled
    idp = ServerProcess(name="pocket-id", **pocket_id_server())
    assert "--behind-jupyter-proxy" in idp.command and "{port}" in idp.command
    assert idp.launcher_entry.enabled and idp.launcher_entry.title == "Pocket ID (stand-in)"


def test_sign_in_through_the_proxy_uses_the_public_address(login):
    browser = Proxy()
    page = _sign_in_with_code(browser, login)
    assert page.status_code == 200 and "You can close this tab" in page.text
    result = login.wait(timeout=5)
    public = f"{ORIGIN}{BASE}proxy/{login.idp.port}"
    assert login.idp.url == public and result.id_token.claims["iss"] == public
    assert login.idp.internal_url.startswith("http://127.0.0.1:")
    discovery = requests.get(login.idp.discovery_url, timeout=5).json()
    assert discovery["authorization_endpoint"] == f"{public}/authorize"
    assert discovery["token_endpoint"].startswith(login.idp.internal_url), "back channel stays on loopback"
    assert result.id_token.claims["amr"] == ["otp"] and result.sub == result.userinfo["sub"]
    assert "Signed in as Demo User" in login.messages[-1]


def test_sign_in_with_a_passkey_gives_amr_phr(login):
    browser = Proxy()
    setup = browser.request("GET", ORIGIN + login.passkey_path)
    assert setup.status_code == 302 and "/lc/" in setup.headers["Location"]
    form = browser.follow(setup.headers["Location"])
    code = re.search(r'name="code" value="([^"]+)"', form.text)[1]
    back = re.search(r'name="redirect" value="([^"]+)"', form.text)[1]
    public = login.idp.url
    page = browser.follow(browser.request("POST", f"{public}/login", data={"code": code, "redirect": back})
                          .headers["Location"])
    assert "Add a passkey" in page.text
    key = SoftPasskey(ORIGIN)
    options = browser.request("GET", f"{public}/api/webauthn/register/start").json()
    assert options["rp"]["id"] == "localhost"
    added = browser.request("POST", f"{public}/api/webauthn/register/finish", json=key.create(options))
    assert added.status_code == 201

    authorize = browser.request("GET", _start_url(login)).headers["Location"]
    assert "prompt=login" in authorize, "the stand-in asks for a fresh sign-in, so the passkey can be used"
    login_page = browser.follow(authorize)
    nxt = re.search(r'data-next="([^"]+)"', login_page.text)[1].replace("&amp;", "&")
    options = browser.request("GET", f"{public}/api/webauthn/login/start").json()
    assert browser.request("POST", f"{public}/api/webauthn/login/finish", json=key.get(options)).status_code == 200
    done = browser.follow(public + nxt)
    assert "You can close this tab" in done.text
    result = login.wait(timeout=5)
    assert result.id_token.claims["amr"] == ["phr"]
    assert result.sub == login.idp.admin("GET", "/api/users")["data"][0]["id"]


def test_wrong_state_fails_the_attempt_clearly_and_the_next_one_works(login):
    browser = Proxy()
    _, issuer, _ = _state(login, browser)
    page = _callback(login, browser, code="stolen-code", state="forged-state-123", iss=issuer)
    assert page.status_code == 400 and "state" in page.text
    with pytest.raises(CallbackError, match="state") as caught:
        login.wait(timeout=5)
    assert caught.value.error == "state_mismatch"
    assert "state" in login.messages[-1]
    assert _sign_in_with_code(browser, login).status_code == 200
    assert login.wait(timeout=5).id_token.claims["amr"] == ["otp"]


def test_replayed_callback_is_refused_without_touching_the_sign_in_in_progress(login):
    browser = Proxy()
    first = _sign_in_with_code(browser, login)
    assert first.status_code == 200
    login.wait(timeout=5)
    used = first.url.replace("http://127.0.0.1:", "")  # the callback the browser was sent to
    query = urlsplit(used).query
    _, _, pending = _state(login, browser)  # a new sign-in is in progress
    replay = browser.request("GET", f"{ORIGIN}{login.redirect_path}?{query}")
    assert replay.status_code == 400 and "already used" in replay.text
    assert "already used" in login.messages[-1]
    end = _sign_in_with_code(browser, login, authorize=pending)  # the one in progress still finishes
    assert end.status_code == 200 and login.wait(timeout=5).sub


def test_access_denied_shows_the_providers_refusal_and_the_next_attempt_works(login):
    browser = Proxy()
    state, issuer, _ = _state(login, browser)
    page = _callback(login, browser, error="access_denied", error_description="The user denied the request.",
                     state=state, iss=issuer)
    assert page.status_code == 400 and "access_denied" in page.text
    with pytest.raises(CallbackError, match="access_denied") as caught:
        login.wait(timeout=5)
    assert caught.value.error == "access_denied"
    assert _sign_in_with_code(browser, login).status_code == 200
    assert login.wait(timeout=5).id_token.claims["amr"] == ["otp"]


def test_a_closed_tab_times_out_with_a_clear_message_and_a_late_callback_is_refused(login):
    browser = Proxy()
    state, issuer, _ = _state(login, browser)
    with pytest.raises(CallbackError, match="within 0 s") as caught:
        login.wait(timeout=0.2)
    assert caught.value.error == "timeout" and "tab" in str(caught.value)
    late = _callback(login, browser, code="late", state=state, iss=issuer)
    assert late.status_code == 400 and "timed out" in late.text
    assert _sign_in_with_code(browser, login).status_code == 200
    assert login.wait(timeout=5).sub


def test_a_second_concurrent_sign_in_replaces_the_first(login):
    first_tab, second_tab = Proxy(), Proxy()
    first_state, issuer, _ = _state(login, first_tab)
    end = _sign_in_with_code(second_tab, login)  # the reader clicked again and finished in the second tab
    assert end.status_code == 200
    assert any("earlier one is cancelled" in m for m in login.messages)
    assert login.wait(timeout=5).sub
    old = _callback(login, first_tab, code="old-code", state=first_state, iss=issuer)
    assert old.status_code == 400 and "replaced by a newer sign-in" in old.text


def test_paste_the_address_fallback_finishes_the_sign_in(login):
    browser = Proxy()
    stopped = _sign_in_with_code(browser, login, deliver=False)
    pasted = stopped.stopped_at
    assert pasted.startswith(ORIGIN + login.redirect_path + "?code=")
    result = login.finish(f"  {pasted}\n")
    assert result.id_token.claims["amr"] == ["otp"] and "Signed in as" in login.messages[-1]
    assert login.wait(timeout=1) is result, "the next cell collects the pasted sign-in"
    with pytest.raises(CallbackError, match="no sign-in is in progress"):
        login.finish(pasted)


def test_a_callback_with_no_login_waiting_gets_a_page_not_a_traceback(catcher):
    answer = requests.get(f"{catcher.local_url}/callback?code=x&state=y", timeout=5)
    assert answer.status_code == 404 and "No notebook is waiting" in answer.text


def test_headless_login_is_deterministic_and_displays_no_widget():
    env = {"ALTX10_HEADLESS": "1"}
    results = []
    for _ in range(2):
        lg = browser_login(env=env, clock=FrozenClock(1_767_225_600), seed=8, key=demo_key())
        try:
            assert lg.catcher is None
            bundle = lg._repr_mimebundle_()
            assert list(bundle) == ["text/plain"] and "login code" in bundle["text/plain"]
            results.append(lg.wait())
        finally:
            lg.close()
    assert results[0].sub == results[1].sub and results[0].tokens.id_token == results[1].tokens.id_token
    claims = json.loads(b64url_decode(results[0].tokens.id_token.split(".")[1]))
    assert claims["amr"] == ["otp"] and claims["iss"] == "http://localhost:1411"


def test_a_stand_in_behind_jupyter_server_proxy_takes_its_public_address_from_the_first_proxied_request():
    from altx10_helpers.idp.__main__ import build_parser, make_idp

    idp = make_idp(build_parser().parse_args(["--port", "0", "--behind-jupyter-proxy"]), {}).start()
    try:
        loopback = idp.internal_url
        direct = requests.get(f"{loopback}/.well-known/openid-configuration", timeout=5).json()
        assert direct["issuer"] == loopback, "before any browser request it only knows its loopback address"
        for attempt in ({"Host": "evil example", "X-Forwarded-Prefix": "/x"},  # not a host: ignored
                        {"Host": "localhost:8888", "X-Forwarded-Prefix": "/a b"}):  # not a path: ignored
            requests.get(f"{loopback}/", headers=attempt, timeout=5)
        proxied = {"Host": "hub.example.org", "X-Forwarded-Proto": "https,http",
                   "X-Forwarded-Prefix": "/user/learner/pocket-id"}
        page = requests.get(f"{loopback}/", headers=proxied, timeout=5)
        public = "https://hub.example.org/user/learner/pocket-id"
        assert f"<code>{public}</code>" in page.text
        later = requests.get(f"{loopback}/", headers={**proxied, "Host": "other.example"}, timeout=5)
        assert f"<code>{public}</code>" in later.text, "adopted once, then fixed like APP_URL"
        doc = requests.get(f"{loopback}/.well-known/openid-configuration", timeout=5).json()
        assert doc["issuer"] == public and doc["authorization_endpoint"] == f"{public}/authorize"
        assert doc["token_endpoint"] == f"{loopback}/api/oidc/token" and doc["jwks_uri"].startswith(loopback)
        assert idp.provider.cookie_name == "__Host-access_token"
    finally:
        idp.stop()
