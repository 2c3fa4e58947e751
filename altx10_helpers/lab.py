"""The login as a reader does it in JupyterLab (or on Binder): click, sign in with a passkey, come back.

Three pieces:

* ``jupyter-server-proxy`` entry points (``pyproject.toml``): ``altx10-callback`` serves this kernel's callback
  catcher under ``<jupyter>/altx10-callback/``, a fixed path a reader can register as a redirect URI, and
  ``pocket-id`` starts a stand-in process under ``<jupyter>/pocket-id/``. Any loopback port is also served under
  ``<jupyter>/proxy/<port>/``; that is how the browser reaches the notebook's own stand-in.
* :class:`CallbackCatcher`: a tiny HTTP server in the kernel, on loopback. The "Sign in" link points at it
  (a path-absolute link, so it works whatever host the browser uses). From that first request it learns the
  public address (``Host``, ``X-Forwarded-Proto``, ``X-Forwarded-Prefix``), configures the provider's
  ``APP_URL`` and the redirect URI from it, and sends the browser on to ``/authorize``. The callback comes back
  to it, and the code is exchanged right there, so the next cell only collects the result.
* :class:`BrowserLogin`: the widget (link, status, paste-the-address fallback) and ``wait(timeout)``.

Headless runs (nbval, ``make test``, building the notebooks) set ``ALTX10_HEADLESS=1``, or run in a kernel
no Jupyter server started: then nothing is displayed or served, and ``wait`` signs in with a one-time login
code, deterministically.
"""

from __future__ import annotations

import html
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .config import Settings
from .errors import Altx10Error, CallbackError, ConfigurationError
from .idp.web import forwarded_base
from .oidc import LoginAttempt, LoginResult, PocketIdClient

__all__ = [
    "CALLBACK_NAME",
    "CALLBACK_PORT",
    "HEADLESS_ENV",
    "BrowserLogin",
    "CallbackCatcher",
    "browser_login",
    "callback_server",
    "jupyter_base_path",
    "pocket_id_server",
    "running_headless",
    "shared_catcher",
]

CALLBACK_NAME = "altx10-callback"
#: The catcher's port when free: fixed, so ``<jupyter>/altx10-callback/callback`` is a stable redirect URI.
CALLBACK_PORT = 14111
HEADLESS_ENV = "ALTX10_HEADLESS"
#: The headless stand-in's issuer: Pocket ID's default APP_URL (the kernel reaches it on loopback).
HEADLESS_ISSUER = "http://localhost:1411"
#: How long ``wait`` waits for the reader by default (seconds).
DEFAULT_TIMEOUT = 300.0


# -- where we run ------------------------------------------------------------------------------------------


def running_headless(env: Mapping[str, str] | None = None) -> bool:
    """True under nbval/CI: ``ALTX10_HEADLESS=1``, or a kernel that no Jupyter server started.

    ``ALTX10_HEADLESS=0`` forces the interactive path. Jupyter Server gives the kernels it starts
    ``JPY_SESSION_NAME`` (the notebook's path); nbval's and nbclient's kernels have none.
    """
    env = os.environ if env is None else env
    flag = env.get(HEADLESS_ENV, "").strip().lower()
    if flag in ("1", "true", "yes"):
        return True
    if flag in ("0", "false", "no"):
        return False
    return "JPY_SESSION_NAME" not in env


def jupyter_base_path(env: Mapping[str, str] | None = None, servers: list[dict[str, Any]] | None = None) -> str:
    """The URL path the Jupyter server is served under, e.g. ``/`` or ``/user/learner/``.

    JupyterHub and Binder say it in ``JUPYTERHUB_SERVICE_PREFIX``; otherwise it is the ``base_url`` of the
    server whose process started this kernel (``JPY_PARENT_PID``).
    """
    env = os.environ if env is None else env
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX")
    if not prefix:
        if servers is None:
            servers = _running_servers()
        parent = env.get("JPY_PARENT_PID") or str(os.getppid())
        mine = [s for s in servers if str(s.get("pid")) == parent]
        prefix = mine[0].get("base_url", "/") if mine else "/"
    prefix = "/" + prefix.strip("/") + "/"
    return "/" if prefix == "//" else prefix


def _running_servers() -> list[dict[str, Any]]:
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:  # pragma: no cover - jupyter_server comes with jupyterlab
        return []
    return list(list_running_servers())


# -- jupyter-server-proxy entry points ------------------------------------------------------------------------


def callback_server() -> dict[str, Any]:
    """``<jupyter>/altx10-callback/`` -> the kernel's catcher on its fixed loopback port (started by the kernel)."""
    return {"port": CALLBACK_PORT, "launcher_entry": {"enabled": False}}


def pocket_id_server() -> dict[str, Any]:
    """``<jupyter>/pocket-id/`` -> a stand-in process; its APP_URL comes from the first proxied request."""
    return {"command": [sys.executable, "-m", "altx10_helpers.idp", "--port", "{port}", "--behind-jupyter-proxy"],
            "timeout": 30, "launcher_entry": {"title": "Pocket ID (stand-in)", "enabled": True},
            "new_browser_tab": True}


# -- the catcher ------------------------------------------------------------------------------------------------


class CallbackCatcher:
    """A loopback HTTP server in the kernel for ``/start``, ``/passkey`` and ``/callback`` of one login at a time.

    Only the browser of whoever can use this Jupyter server reaches it (through ``jupyter-server-proxy``, which
    requires the Jupyter login); the kernel talks to providers directly.
    """

    def __init__(self, port: int = CALLBACK_PORT, host: str = "127.0.0.1"):
        handler = type("_Handler", (_CatcherHandler,), {"catcher": self})
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError:  # another kernel holds the fixed port: any free one, under <jupyter>/proxy/<port>/
            self._server = ThreadingHTTPServer((host, 0), handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self.login: BrowserLogin | None = None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"altx10-callback:{self.port}", daemon=True)
        self._thread.start()

    @property
    def local_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def path(self) -> str:
        """Where Jupyter serves it, relative to the Jupyter base URL."""
        return CALLBACK_NAME if self.port == CALLBACK_PORT else f"proxy/{self.port}"

    def public_base(self, headers: Any) -> str | None:
        """The Jupyter server's public base URL (ending in ``/``) as this browser reaches it, or None when the
        request did not come through ``jupyter-server-proxy`` (a direct loopback request)."""
        seen = forwarded_base(headers)
        if seen is None:
            return None
        suffix = "/" + self.path
        if seen.endswith(suffix):
            return seen[: -len(suffix)] + "/"
        if seen.endswith(f"/proxy/{self.port}"):
            return seen[: -len(f"proxy/{self.port}")]
        return None

    def redirect_uri(self, public_base: str | None) -> str:
        return f"{public_base}{self.path}/callback" if public_base else f"{self.local_url}/callback"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


_CATCHER: CallbackCatcher | None = None
_CATCHER_LOCK = threading.Lock()


def shared_catcher() -> CallbackCatcher:
    """This kernel's catcher (started on first use, kept for the kernel's life)."""
    global _CATCHER
    with _CATCHER_LOCK:
        if _CATCHER is None:
            _CATCHER = CallbackCatcher()
        return _CATCHER


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem}}
.ok{{color:#1a7f37}} .bad{{color:#b3261e}}</style></head>
<body><h1 class="{cls}">{title}</h1><p>{text}</p></body></html>"""


def _page(title: str, text: str, ok: bool) -> bytes:
    return _PAGE.format(title=html.escape(title), text=html.escape(text), cls="ok" if ok else "bad").encode()


class _CatcherHandler(BaseHTTPRequestHandler):
    catcher: CallbackCatcher
    server_version = "altx10-callback"
    sys_version = ""

    def log_message(self, *args: Any) -> None:  # keep the kernel's output clean
        pass

    def _send(self, status: int, body: bytes, location: str | None = None) -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        route = parts.path.rstrip("/").rsplit("/", 1)[-1]
        login = self.catcher.login
        if login is None:
            self._send(404, _page("No sign-in here", "No notebook is waiting for a sign-in. Run the sign-in cell "
                                  "in the notebook, then use its link.", False))
            return
        base = self.catcher.public_base(self.headers)
        try:
            if route == "start":
                self._send(302, b"", login.begin(base))
            elif route == "passkey":
                self._send(302, b"", login.passkey_setup(base))
            elif route == "callback":
                ok, title, text = login.receive(_query(parts.query))
                self._send(200 if ok else 400, _page(title, text, ok))
            else:
                self._send(404, _page("Not found", "This address belongs to the notebook's sign-in helper.", False))
        except Altx10Error as exc:
            self._send(400, _page("Sign-in could not start", str(exc), False))


def _query(query: str) -> dict[str, str]:
    try:
        raw = parse_qs(query, keep_blank_values=True, max_num_fields=50)
    except ValueError:
        return {}
    return {k: v[0] for k, v in raw.items() if len(v) == 1}


# -- one reader's login -------------------------------------------------------------------------------------


@dataclass
class _Target:
    """What differs between the local stand-in and a real Pocket ID."""

    client_for: Callable[[str | None], PocketIdClient]
    headless: Callable[[], LoginResult]
    passkey_link: Callable[[str | None], str] | None
    description: str
    #: Extra authorization parameters; the stand-in asks for ``prompt=login`` so a passkey can be chosen
    #: even when a login-code session (from adding the passkey) is still open.
    login_params: Mapping[str, str] | None = None
    idp: Any = None


class BrowserLogin:
    """A sign-in the reader does in the browser; the notebook collects it with :meth:`wait`.

    Callbacks are matched to the attempt in progress. A callback with an unknown state (forged, or from an
    attempt this notebook never made) is checked against that attempt and fails it, as any redirect must;
    one for an attempt already finished or replaced is refused without touching the one in progress. Every
    outcome is shown in the widget, and the next sign-in always starts clean.
    """

    def __init__(self, target: _Target, *, headless: bool, catcher: CallbackCatcher | None = None,
                 base_path: str = "/", clock: Callable[[], float] = time.monotonic):
        self.target = target
        self.headless = headless
        self.catcher = catcher
        self.base_path = base_path
        self._clock = clock
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._attempt: LoginAttempt | None = None
        self._client: PocketIdClient | None = None
        self._finished: dict[str, str] = {}  # state -> why it is over ("used", "replaced", "timed out")
        self._outcomes: list[LoginResult | Exception] = []
        self.messages: list[str] = []
        self._widget: Any = None
        self._status: Any = None
        if not headless:
            if self.catcher is None:
                raise ConfigurationError("an interactive BrowserLogin needs a CallbackCatcher")
            self.catcher.login = self

    # -- links --------------------------------------------------------------------------------------------

    @property
    def start_path(self) -> str:
        """The path-absolute link the reader clicks (the browser adds its own scheme and host)."""
        assert self.catcher is not None
        return f"{self.base_path}{self.catcher.path}/start"

    @property
    def passkey_path(self) -> str:
        assert self.catcher is not None
        return f"{self.base_path}{self.catcher.path}/passkey"

    @property
    def redirect_path(self) -> str:
        """The redirect URI's path; register ``<your Jupyter address>`` + this with a real Pocket ID."""
        return f"{self.base_path}{self.catcher.path if self.catcher else CALLBACK_NAME}/callback"

    # -- the browser's side (called from the catcher's thread) ---------------------------------------------

    @property
    def idp(self) -> Any:
        """The local stand-in this login runs against (None with your own Pocket ID)."""
        return self.target.idp

    def begin(self, public_base: str | None) -> str:
        """A new attempt (replacing one in progress); the authorization URL to send the browser to."""
        client = self.target.client_for(public_base)
        attempt = client.start_login(extra_params=self.target.login_params)
        with self._lock:
            old = self._attempt
            if old is not None:
                self._finished[old.state] = "replaced by a newer sign-in"
                old.consumed = True
            self._attempt, self._client = attempt, client
            self._outcomes.clear()  # anything not collected yet belongs to an earlier sign-in
        if old is not None:
            self._say("A new sign-in started in another tab; the earlier one is cancelled. Finish the newest tab.",
                      ok=None)
        else:
            self._say("Waiting for you to sign in in the new tab…", ok=None)
        return attempt.authorization_url

    def passkey_setup(self, public_base: str | None) -> str:
        if self.target.passkey_link is None:
            raise ConfigurationError("add passkeys in your own Pocket ID's account page")
        return self.target.passkey_link(public_base)

    def receive(self, params: dict[str, str]) -> tuple[bool, str, str]:
        """Handle the redirect back: ``(ok, title, text)`` for the browser page; the outcome goes to ``wait``."""
        state = params.get("state", "")
        with self._lock:
            why = self._finished.get(state)
            attempt, client = self._attempt, self._client
            if why is None and attempt is not None:
                self._attempt = None
                self._finished[attempt.state] = "already used"
        if why is not None:
            text = f"This answer belongs to a sign-in that is over ({why}); it was refused. The notebook is unchanged."
            self._say(f"Refused a callback for a sign-in that is over ({why}).", ok=False)
            return False, "Sign-in refused", text
        if attempt is None or client is None:
            self._say("Refused a callback: no sign-in was in progress. Click the sign-in link first.", ok=False)
            return False, "No sign-in in progress", "The notebook is not waiting for a sign-in. Go back and click " \
                "“Sign in with Pocket ID” again."
        outcome: LoginResult | Exception
        try:
            outcome = client.finish_login(params, attempt)
        except Altx10Error as exc:
            outcome = exc
        self._deliver(outcome)
        if isinstance(outcome, Exception):
            return False, "Sign-in failed", f"{outcome} Go back to the notebook and try again."
        return True, "Signed in", "You can close this tab and go back to the notebook."

    # -- the notebook's side -------------------------------------------------------------------------------

    def finish(self, redirect_url: str) -> LoginResult:
        """The fallback: finish with the address the browser ended on (pasted), when it could not reach us.

        The outcome also goes to :meth:`wait`, so the notebook's next cell works the same either way.
        """
        with self._lock:
            attempt, client = self._attempt, self._client
            self._attempt = None
            if attempt is not None:
                self._finished[attempt.state] = "already used"
        if attempt is None or client is None:
            raise CallbackError("no sign-in is in progress: click “Sign in with Pocket ID” first", step="callback",
                                error="no_attempt")
        try:
            result = client.finish_login(redirect_url.strip(), attempt)
        except Altx10Error as exc:
            self._deliver(exc)
            raise
        self._deliver(result)
        return result

    def _deliver(self, outcome: LoginResult | Exception) -> None:
        with self._cond:
            self._outcomes.append(outcome)
            self._cond.notify_all()
        if isinstance(outcome, Exception):
            self._say(f"{type(outcome).__name__}: {outcome}", ok=False)
        else:
            self._say(outcome.describe(), ok=True)

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> LoginResult:
        """The finished login: blocks until the browser comes back (or signs in headless under nbval).

        Raises the login's own error (``CallbackError`` for a wrong state or ``access_denied``, ...), or
        ``CallbackError`` with ``error="timeout"`` when nothing came back in ``timeout`` seconds.
        """
        if self.headless:
            return self.target.headless()
        deadline = self._clock() + timeout
        with self._cond:
            while not self._outcomes:
                left = deadline - self._clock()
                if left <= 0:
                    attempt, self._attempt = self._attempt, None
                    if attempt is not None:
                        attempt.consumed = True
                        self._finished[attempt.state] = "timed out"
                    break
                self._cond.wait(min(left, 0.5))
            outcome = self._outcomes[-1] if self._outcomes else None  # the latest sign-in counts
            self._outcomes.clear()
        if outcome is None:
            message = (f"no sign-in came back within {timeout:.0f} s (was the tab closed?). Click “Sign in with "
                       "Pocket ID” again and run this cell again, or paste the address the tab ended on.")
            self._say(message, ok=False)
            raise CallbackError(message, step="callback", error="timeout")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    # -- display --------------------------------------------------------------------------------------------

    def _say(self, text: str, *, ok: bool | None) -> None:
        self.messages.append(text)
        if self._status is not None:
            colour, mark = {True: ("#1a7f37", "✔ "), False: ("#b3261e", "✘ "), None: ("#555", "")}[ok]
            self._status.value = f'<span style="color:{colour}">{mark}{html.escape(text)}</span>'

    def widget(self) -> Any:
        """The sign-in link, a passkey set-up link (stand-in), the status line and the paste fallback."""
        if self._widget is None:
            import ipywidgets as widgets

            style = ("display:inline-block;padding:.5rem 1rem;border-radius:8px;background:#18181b;color:#fff;"
                     "text-decoration:none;font-weight:600")
            links = (f'<a class="altx10-sign-in" href="{html.escape(self.start_path)}" target="_blank" '
                     f'rel="noopener" style="{style}">Sign in with Pocket ID</a>')
            if self.target.passkey_link is not None:
                links += (f' &nbsp; <a class="altx10-add-passkey" href="{html.escape(self.passkey_path)}" '
                          'target="_blank" rel="noopener">No passkey yet? Add one first</a>')
            self._status = widgets.HTML("Click the button: the sign-in opens in a new tab.")
            paste = widgets.Text(placeholder="…or paste the address the sign-in tab ended on",
                                 layout=widgets.Layout(width="70%"))
            use = widgets.Button(description="Use this address")

            def on_use(_button: Any) -> None:
                try:
                    self.finish(paste.value)
                except Altx10Error:
                    pass  # already shown in the status line; wait() is not involved

            use.on_click(on_use)
            self._widget = widgets.VBox([widgets.HTML(links), self._status, widgets.HBox([paste, use])])
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if self.headless:
            text = (f"Headless run ({HEADLESS_ENV} or no Jupyter server): no browser here, so wait() signs in with a "
                    f"one-time login code at {self.target.description}.")
            return {"text/plain": text}
        return self.widget()._repr_mimebundle_(include=include, exclude=exclude)

    def close(self) -> None:
        """Stop serving this login (and stop its stand-in)."""
        if self.catcher is not None and self.catcher.login is self:
            self.catcher.login = None
        if self.target.idp is not None:
            self.target.idp.stop()


# -- building one --------------------------------------------------------------------------------------------


def _stand_in_target(idp: Any, demo: Any, catcher: CallbackCatcher | None, clock: Callable[[], float],
                     random_bytes: Callable[[int], bytes]) -> _Target:
    headless_redirect = f"http://127.0.0.1/{CALLBACK_NAME}/callback"

    def client_for(public_base: str | None) -> PocketIdClient:
        public = f"{public_base}proxy/{idp.port}" if public_base else idp.internal_url
        idp.provider.set_urls(public, idp.internal_url)
        redirect_uri = catcher.redirect_uri(public_base) if catcher else headless_redirect
        client = demo.client
        callbacks = list(dict.fromkeys([*client["callbackURLs"], redirect_uri]))
        demo.client = idp.admin("PUT", f"/api/oidc/clients/{demo.client_id}", {
            "name": client["name"], "callbackURLs": callbacks, "logoutCallbackURLs": client["logoutCallbackURLs"],
            "isPublic": False, "pkceEnabled": client["pkceEnabled"], "skipConsent": client["skipConsent"]})
        return PocketIdClient(idp.url, demo.client_id, demo.client_secret, redirect_uri, api_key=idp.api_key,
                              internal_url=idp.internal_url, clock=clock, random_bytes=random_bytes)

    def headless() -> LoginResult:
        client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, headless_redirect, api_key=idp.api_key,
                                internal_url=idp.internal_url, clock=clock, random_bytes=random_bytes)
        return client.sign_in_headless(client.start_login(), demo.user["id"])

    def passkey_link(public_base: str | None) -> str:
        client_for(public_base)  # the stand-in's public address, as the sign-in will use it
        return f"{idp.url}/lc/{demo.login_code()}?{urlencode({'redirect': '/settings/passkeys'})}"

    return _Target(client_for, headless, passkey_link, "the local Pocket ID stand-in", {"prompt": "login"}, idp)


def _settings_target(settings: Settings, catcher: CallbackCatcher | None) -> _Target:
    def client_for(public_base: str | None) -> PocketIdClient:
        redirect_uri = settings.redirect_uri or (catcher.redirect_uri(public_base) if catcher else None)
        return PocketIdClient.from_settings(settings, redirect_uri=redirect_uri)

    def headless() -> LoginResult:
        raise ConfigurationError("a headless sign-in at your own Pocket ID needs a user id: use "
                                 "PocketIdClient.sign_in_headless(attempt, user_id) as in section 4")

    return _Target(client_for, headless, None, settings.pocket_id_endpoint or "your Pocket ID")


def browser_login(*, clock: Callable[[], float] | None = None, seed: int | None = None, key: Any = None,
                  settings: Settings | None = None, env: Mapping[str, str] | None = None,
                  catcher: CallbackCatcher | None = None) -> BrowserLogin:
    """A sign-in at your Pocket ID when ``POCKET_ID_ENDPOINT`` is set, else at a fresh local stand-in.

    Headless (nbval): the stand-in uses ``clock``, randomness seeded with ``seed`` and ``key``, so the result
    prints the same bytes every run. Interactive: real time and real randomness (the state and PKCE verifier
    must be unguessable when a browser is involved).
    """
    env = os.environ if env is None else env
    settings = settings if settings is not None else Settings.from_env(env)
    headless = running_headless(env)
    the_catcher = None if headless else (catcher or shared_catcher())
    base_path = "/" if headless else jupyter_base_path(env)
    if settings.pocket_id_endpoint:
        return BrowserLogin(_settings_target(settings, the_catcher), headless=headless, catcher=the_catcher,
                            base_path=base_path)
    import random

    from .idp import LocalPocketId

    if headless:
        real_clock = clock or time.time
        rand: Callable[[int], bytes] = random.Random(seed).randbytes if seed is not None else secrets.token_bytes
    else:
        real_clock, rand = time.time, secrets.token_bytes
    idp = LocalPocketId(clock=real_clock, random_bytes=rand, key=key).start()
    if headless:  # a fixed issuer (Pocket ID's default APP_URL), so the tokens are the same bytes every run
        idp.provider.set_urls(HEADLESS_ISSUER, idp.internal_url)
    demo = idp.seed_demo(callback_urls=[f"http://127.0.0.1/{CALLBACK_NAME}/callback"])
    return BrowserLogin(_stand_in_target(idp, demo, the_catcher, real_clock, rand), headless=headless,
                        catcher=the_catcher, base_path=base_path)
