"""The altx10 demo app: Pocket ID *identifies* the user, the app's own cookie *authorizes* them.

``create_app(...)`` builds a Flask app with the author's routes::

    GET  /login?redirectTo=/path   start the OpenID Connect login (state, nonce, PKCE S256)
    GET  /auth/callback            check it, exchange the code, validate the ID token, call userinfo,
                                   set the session cookie, go back to ``redirectTo``
    POST /logout                   sign out (optionally through Pocket ID's end-session too);
                                   GET /logout shows the button (a link elsewhere cannot sign you out)
    GET  /register, POST /register consent form with a signed CSRF token, then a Pocket ID signup link
    GET  /me                       who am I (``auto_authorize``: sends you to sign in first)
    GET  /api/me                   the same for scripts (``authorized``: 401 JSON when signed out)
    GET  /                         a home page (``maybe_authorized``)

and the decorators for your own routes (the view receives ``session=`` as a keyword)::

    @app.get("/notes")
    @authorized
    def notes(session: UserSession): ...

Two designs, chosen by ``design=``: ``"jwt"`` puts the app's own HS256/HS512 JWT in the cookie (the
author's design: stateless, irrevocable until ``exp`` unless a ``DenyList`` is given); ``"server"`` puts
an opaque random id in the cookie and the session in a ``SessionStore`` (SQLite by default, Redis when
``REDIS_URL`` is set): revocable at once, at the price of shared state and a lookup per request.

Where the login keeps its secrets. ``/login`` puts the PKCE verifier, the nonce, the ``state`` and
``redirectTo`` in a *short-lived signed cookie* (``sign_state``: HMAC-SHA256, timestamped, 5 minutes,
HttpOnly, SameSite=Lax) and sends only the random ``state`` to Pocket ID. Not the author's choice (a
signed state in the URL), on purpose: (1) the PKCE verifier must never travel through the front channel,
or whoever sees the authorization URL or the callback URL has both halves; (2) the cookie ties the
callback to the browser that started the login, so an attacker cannot finish *their* login in *your*
browser (login CSRF), which a self-validating state in the URL alone does not prevent. The cookie is
read once and cleared on the callback, success or not. Two logins in two tabs at once share one cookie:
the older tab's callback is refused with "start again".

Which app a session is for. Every session JWT names the app that minted it and the app it is for (``iss``
and ``aud``, both the app id; see ``altx10_helpers.session``): by default the app's public base URL, the
origin of its redirect URI, or the ``app_id`` given to ``create_app`` or set on its ``SessionSigner``. The
author's token names no app, so two apps sharing a ``JWT_SECRET`` (notes.altx10.dev, photos.altx10.dev)
would accept each other's cookies; here a cookie minted by one is refused by the other (``WrongIssuer``).

Cookies. Every cookie is ``HttpOnly; SameSite=Lax; Path=/`` with no ``Domain`` (so it stays on this
app's host: ``Domain=.altx10.dev`` would hand it to every other app too). When the app is served over
https (its redirect URI is https) they are also ``Secure`` and named with the ``__Host-`` prefix
(``__Host-session``), which the browser only accepts with Secure, Path=/ and no Domain, so a sibling
subdomain cannot plant one. Over plain http (a laptop, a notebook, CI) the cookie is ``session`` without
``Secure``: a browser drops ``Secure`` cookies set by an http origin (loopback excepted) and scripts
(``requests``) never send them back over http, so the app would not work; on http there is no transport
security to keep anyway. ``secure_cookies=True`` forces the flag (for a browser on localhost).
Expiry dates come from the app's clock, so a frozen clock gives byte-identical headers.

Bad input never produces a 500: a garbage, tampered, expired or wrong-algorithm cookie is "not signed
in" (401, or a redirect to sign in); bad callback parameters, a missing or stale login cookie, bad forms
and a failed CSRF check are 4xx JSON ``{"error", "error_description"}``; a provider that cannot be
reached or answers nonsense is a 502.
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
import math
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlencode, urljoin, urlsplit

import requests
from flask import Flask, Response, current_app, g, jsonify, redirect, render_template_string, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .b64 import b64url_encode
from .config import Settings
from .errors import (
    Altx10Error,
    CallbackError,
    ConfigurationError,
    InvalidToken,
    NetworkError,
    OidcError,
    TokenResponseError,
)
from .oidc import Hop, LoginAttempt, PocketIdClient
from .session import STATE_MAX_AGE, DenyList, SessionSigner, UserInfo, UserSession, app_origin
from .session_store import SessionStore, session_store_from_env

__all__ = [
    "DESIGNS",
    "AppServer",
    "WebApp",
    "authorized",
    "auto_authorize",
    "create_app",
    "describe_hops",
    "maybe_authorized",
    "safe_redirect",
    "sign_in_with_login_code",
    "webapp",
]

Design = Literal["jwt", "server"]
#: ``"jwt"``: the app's own JWT in the cookie; ``"server"``: an opaque id and a server-side session store.
DESIGNS: tuple[str, ...] = ("jwt", "server")
#: No sensible in-app path is longer; a longer ``redirectTo`` is refused, not echoed around.
MAX_REDIRECT_LENGTH = 2048
_EXTENSION = "altx10_webapp"
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
_DECODED_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\]")
_SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


# -- redirectTo ---------------------------------------------------------------------------------------------


def safe_redirect(value: object, default: str = "/") -> str:
    """``value`` if it is a path on this app, else ``default``: the fix for the original's open redirect.

    Accepted: printable ASCII starting with one ``/`` (``/notes?id=3#top``). Refused: absolute URLs and
    schemes (``https://``, ``javascript:``), protocol-relative ``//host``, any backslash (browsers read
    ``/\\host`` as ``//host``), spaces and control characters (browsers strip tabs and newlines, turning
    ``/\\t/host`` into ``//host``), non-ASCII look-alikes (``／／host``), and paths that become one of
    those once percent-decoded (``/%2F%2Fhost``, ``/%5Chost``, double encodings) or that climb with
    ``.``/``..`` segments.
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_REDIRECT_LENGTH:
        return default
    if not _PRINTABLE_ASCII.fullmatch(value) or "\\" in value:
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    path = parts.path
    for _ in range(4):  # decode until stable: a double encoding must not hide a second slash
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    else:
        return default
    if path.startswith("//") or _DECODED_FORBIDDEN.search(path):
        return default
    if any(segment in (".", "..") for segment in path.split("/")):
        return default
    return value


def _current_target() -> str:
    """This request's path and query, as the browser sent them, for ``redirectTo``."""
    path = quote(request.path, safe="/-._~!$&'()*+,;=:@%")
    query = request.query_string.decode("latin-1")
    return f"{path}?{query}" if query else path


# -- the app's configuration and sessions -------------------------------------------------------------------


class _Refused(Exception):
    """An answer of ours with a 4xx/5xx status and an OAuth-style JSON body."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


@dataclass(frozen=True)
class _Lookup:
    """The result of reading the session cookie: a session, or why there is none."""

    session: UserSession | None
    reason: str
    cookie_present: bool
    cookie_value: str | None = field(default=None, repr=False)


@dataclass
class WebApp:
    """One app's configuration and its session handling; ``webapp(flask_app)`` returns it."""

    client: PocketIdClient
    signer: SessionSigner
    design: Design
    store: SessionStore | None
    deny_list: DenyList | None
    clock: Callable[[], float]
    random_bytes: Callable[[int], bytes]
    https: bool
    secure_cookies: bool
    end_session: bool
    post_logout_redirect_uri: str | None
    owns_store: bool = False

    def cookie_name(self, base: str) -> str:
        """``__Host-<base>`` when served over https, else ``<base>``."""
        return f"__Host-{base}" if self.https else base

    @property
    def session_cookie(self) -> str:
        return self.cookie_name("session")

    @property
    def login_cookie(self) -> str:
        return self.cookie_name("login_state")

    @property
    def csrf_cookie(self) -> str:
        return self.cookie_name("csrf")

    # -- sessions -----------------------------------------------------------------------------------------

    def issue(self, session: UserSession) -> str:
        """The cookie value for a new session: a signed JWT, or the id of a stored session."""
        if self.design == "jwt":
            return self.signer.create_token(session)
        assert self.store is not None
        return self.store.create(session)

    def lookup(self, value: str | None) -> UserSession:
        """The live session behind a cookie value; raise ``InvalidToken`` (JWT) or ``_Refused`` otherwise."""
        if value is None or value == "":
            raise _Refused(401, "login_required", "no session cookie: sign in at /login")
        if self.design == "jwt":
            return self.signer.validate_token(value, now=self.clock(), deny_list=self.deny_list)
        assert self.store is not None
        session = self.store.get(value)
        if session is None:
            raise _Refused(401, "login_required", "the session cookie names no live session (signed out, revoked "
                           "or expired): sign in at /login")
        return session

    def revoke(self, value: str) -> bool:
        """End the session behind one cookie value now; True if there was one.

        Server-side: the row is deleted. JWT: only possible with a ``DenyList`` (its ``jti`` is denied
        until ``exp``); without one a JWT cannot be revoked and this raises ``ConfigurationError``.
        """
        if self.design == "server":
            assert self.store is not None
            return self.store.revoke(value)
        if self.deny_list is None:
            raise ConfigurationError("a stateless session JWT cannot be revoked: it stays valid until its exp. "
                                     "Give the app a DenyList (deny_list=...) or use design='server'.")
        try:
            session = self.signer.validate_token(value, now=self.clock(), deny_list=self.deny_list)
        except InvalidToken:
            return False
        self.deny_list.revoke(session)
        return True

    def revoke_user(self, sub: str) -> int:
        """Sign user ``sub`` out everywhere now; how many sessions ended.

        Only the server-side design can: it knows every session. The JWT design keeps no list of the
        tokens it issued, so this raises ``ConfigurationError`` (a deny-list needs each token's ``jti``).
        """
        if self.design == "server":
            assert self.store is not None
            return self.store.revoke_user(sub)
        raise ConfigurationError(f"the JWT design keeps no record of the sessions it issued, so user {sub!r} "
                                 "stays signed in until each token's exp; revoke single tokens with a DenyList, "
                                 "or use design='server'")

    def close(self) -> None:
        """Close the session store if this app opened it."""
        if self.owns_store and self.store is not None:
            self.store.close()

    # -- the request's session --------------------------------------------------------------------------

    def current(self) -> _Lookup:
        """Read and check this request's session cookie once per request (cached on ``flask.g``)."""
        cached = g.get("altx10_session")
        if isinstance(cached, _Lookup):
            return cached
        values = request.cookies.getlist(self.session_cookie)
        if len(values) > 1:
            result = _Lookup(None, f"{len(values)} session cookies were sent; refusing to guess which is ours",
                             True)
        elif not values:
            result = _Lookup(None, "no session cookie: sign in at /login", False)
        else:
            try:
                result = _Lookup(self.lookup(values[0]), "", True, values[0])
            except InvalidToken as exc:
                result = _Lookup(None, f"the session cookie was refused ({type(exc).__name__}): {exc}", True)
            except _Refused as exc:
                result = _Lookup(None, exc.description, True)
        g.altx10_session = result
        return result

    # -- cookies --------------------------------------------------------------------------------------------

    def set_cookie(self, response: Response, name: str, value: str, *, max_age: int) -> None:
        """Set one of our cookies with the attributes the module docstring explains."""
        response.set_cookie(name, value, max_age=max_age, expires=math.floor(self.clock()) + max_age, path="/",
                            secure=self.secure_cookies, httponly=True, samesite="Lax")

    def clear_cookie(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", secure=self.secure_cookies, httponly=True, samesite="Lax")


def webapp(app: Flask | None = None) -> WebApp:
    """The ``WebApp`` of ``app`` (default: the app handling the current request)."""
    flask_app = app if app is not None else current_app
    found = flask_app.extensions.get(_EXTENSION)
    if not isinstance(found, WebApp):
        raise ConfigurationError("this Flask app was not made by altx10_helpers.webapp.create_app")
    return found


# -- decorators ---------------------------------------------------------------------------------------------

View = Callable[..., Any]


def _json_error(status: int, error: str, description: str) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _login_redirect(target: str) -> Response:
    response = redirect("/login?" + urlencode({"redirectTo": target}), code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


def auto_authorize(view: View) -> View:
    """Signed in: call ``view(..., session=...)``. Not: redirect to ``/login?redirectTo=<this path>`` and back.

    For pages a person opens in a browser. Non-GET requests get the 401 of ``authorized`` instead (a
    redirect would turn them into a GET and lose their body), and a signed-in one from another site is
    refused (403), as with ``authorized``. A refused cookie is also cleared.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        w = webapp()
        found = w.current()
        if found.session is not None:
            _same_origin_unless_safe()
            return view(*args, session=found.session, **kwargs)
        if request.method not in ("GET", "HEAD"):
            response = _json_error(401, "login_required", found.reason)
        else:
            response = _login_redirect(_current_target())
        if found.cookie_present:
            w.clear_cookie(response, w.session_cookie)
        return response

    return wrapper


def authorized(view: View) -> View:
    """Signed in: call ``view(..., session=...)``. Not: 401 JSON saying why (for APIs and scripts).

    A state-changing request (not GET, HEAD or OPTIONS) sent by a browser from another site is refused
    with 403 even with a valid cookie: ``SameSite=Lax`` does not stop a POST from a sibling
    ``*.altx10.dev`` app, which counts as the same site.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        found = webapp().current()
        if found.session is None:
            return _json_error(401, "login_required", found.reason)
        _same_origin_unless_safe()
        return view(*args, session=found.session, **kwargs)

    return wrapper


def maybe_authorized(view: View) -> View:
    """Call ``view(..., session=...)`` with the signed-in session, or ``session=None``: never refuses."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, session=webapp().current().session, **kwargs)

    return wrapper


# -- pages --------------------------------------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · altx10 demo app</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#18181b}
button{padding:.5rem 1rem;font-size:1rem}</style></head><body>
<h1>{{ title }}</h1>
{% if page == "home" %}
  {% if session %}<p>Signed in as <strong>{{ session.userInfo.name or session.sub }}</strong>
  {% if session.userInfo.email %}({{ session.userInfo.email }}){% endif %}.</p>
  <p><a href="/me">/me</a></p>
  <form method="post" action="/logout"><button type="submit">Sign out</button></form>
  {% else %}<p>Not signed in.</p>
  <p><a href="/login?redirectTo=%2F">Sign in with Pocket ID</a> · <a href="/register">Create an account</a></p>
  {% endif %}
{% elif page == "logout" %}
  <form method="post" action="/logout"><button type="submit">Sign out</button></form>
{% elif page == "register" %}
  <p>This app signs you in with <strong>Pocket ID</strong>. To create your account there, we ask Pocket ID
  for a one-time sign-up link (valid 5 minutes) and send you to it.</p>
  <form method="post" action="/register">
  <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
  <p><label><input type="checkbox" name="consent" value="yes" required>
  I agree that Pocket ID stores my name and email address to sign me in to the altx10 apps.</label></p>
  <button type="submit">Continue to Pocket ID</button></form>
{% endif %}
</body></html>"""


def _page(page: str, title: str, status: int = 200, **context: Any) -> Response:
    # Forms may post here and be redirected on to the provider (sign-up link, end-session), nowhere else.
    provider = urlsplit(webapp().client.issuer)
    csp = (f"default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {provider.scheme}://{provider.netloc}; "
           "base-uri 'none'; frame-ancestors 'none'")
    html = render_template_string(_PAGE, page=page, title=title, **context)
    return Response(html, status=status, mimetype="text/html",
                    headers={"Content-Security-Policy": csp, **_SECURITY_HEADERS})


def _session_json(w: WebApp, session: UserSession) -> Response:
    response = jsonify(design=w.design, sub=session.sub, iat=session.iat, exp=session.exp,
                       userInfo=session.userInfo.to_dict())
    response.headers["Cache-Control"] = "no-store"
    return response


def _single(source: Mapping[str, Any], what: str) -> dict[str, str]:
    """Parameters with one value each; a repeated one is a 400 (RFC 6749 3.1 for the callback)."""
    out: dict[str, str] = {}
    for name in source:
        values = source.getlist(name)  # type: ignore[attr-defined]
        if len(values) != 1:
            raise _Refused(400, "invalid_request", f"the {what} repeats the parameter {name[:40]!r}")
        if len(values[0]) > 8192:
            raise _Refused(400, "invalid_request", f"the {what} parameter {name[:40]!r} is too long")
        out[name] = values[0]
    return out


def _same_origin_post() -> None:
    """Refuse a cross-site POST (CSRF) by the headers browsers add: ``Sec-Fetch-Site``, else ``Origin``.

    Scripts send neither and pass; they carry no ambient cookies a forged request could abuse.
    """
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if site is not None:
        allowed = site in ("same-origin", "none")
    else:
        allowed = origin is None or urlsplit(origin).netloc == request.host  # scheme may differ behind TLS proxies
    if not allowed:
        raise _Refused(403, "cross_site_request", "this form must be sent from this app's own pages")


def _same_origin_unless_safe() -> None:
    """The CSRF check of ``_same_origin_post`` for every state-changing method."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        _same_origin_post()


# -- the app ------------------------------------------------------------------------------------------------


def _login_attempt(w: WebApp, payload: Mapping[str, Any]) -> tuple[LoginAttempt, str]:
    """Rebuild the login attempt from the checked login cookie; its ``redirectTo``."""
    texts = ("state", "scope", "redirectTo")
    optional = ("nonce", "verifier", "method")
    if not all(isinstance(payload.get(k), str) for k in texts) or \
            not all(payload.get(k) is None or isinstance(payload.get(k), str) for k in optional):
        raise _Refused(400, "invalid_login_state", "the login cookie does not hold a login; start again at /login")
    now = w.clock()
    attempt = LoginAttempt(authorization_url="", redirect_uri=w.client.redirect_uri or "", scope=payload["scope"],
                           state=payload["state"], nonce=payload.get("nonce"), code_verifier=payload.get("verifier"),
                           code_challenge_method=payload.get("method"), created_at=now,
                           expires_at=math.inf)  # the signed cookie already enforced its 5 minutes
    return attempt, safe_redirect(payload["redirectTo"])


def _oidc_failure(exc: Altx10Error) -> _Refused:
    """How a failed login step is answered: the browser's or attacker's input is 400, the provider's 502."""
    if isinstance(exc, CallbackError):
        return _Refused(400, exc.error or "invalid_callback", f"login failed at the callback: {exc}")
    if isinstance(exc, TokenResponseError) and exc.error in ("invalid_grant", "invalid_request"):
        return _Refused(400, exc.error, f"login failed: the provider refused the code: {exc}")
    if isinstance(exc, InvalidToken):
        return _Refused(400, "invalid_id_token", f"login failed: the ID token was refused: {exc}")
    if isinstance(exc, ConfigurationError):
        return _Refused(503, "not_configured", f"the app is not configured for this: {exc}")
    return _Refused(502, "provider_error", f"the identity provider could not complete the login: {exc}")


def create_app(settings: Settings | None = None, *, client: PocketIdClient | None = None,
               signer: SessionSigner | None = None, design: Design = "jwt", store: SessionStore | None = None,
               deny_list: DenyList | None = None, now: Callable[[], float] | None = None,
               random_bytes: Callable[[int], bytes] = os.urandom, https: bool | None = None,
               secure_cookies: bool | None = None, end_session: bool = False,
               post_logout_redirect_uri: str | None = None, environ: Mapping[str, str] | None = None,
               app_id: str | None = None) -> Flask:
    """The altx10 demo app (see the module docstring for its routes, cookies and designs).

    ``settings`` (default ``Settings.from_env()``) builds ``client`` and ``signer`` when they are not
    given. ``design="server"`` uses ``store``, or opens one with ``session_store_from_env(environ)``
    (SQLite in memory, Redis when ``REDIS_URL`` is set) that ``webapp(app).close()`` closes. ``now`` is the
    app's clock (epoch seconds; pass the same frozen clock as the client's for reproducible runs).
    ``https`` defaults to the scheme of the client's redirect URI. ``end_session=True`` keeps the ID token
    in the session (as ``dynamic["id_token"]``) and sends the browser through Pocket ID's end-session on
    logout, which ends the provider's session and its grant too.

    The app id (``iss`` and ``aud`` of its session JWTs) is ``app_id``, else the signer's own, else the
    origin of the redirect URI; the signer is bound to it. A ``deny_list`` must keep entries at least as
    long as the signer's leeway (``signer.new_deny_list()`` makes one that does).
    """
    if design not in DESIGNS:
        raise ConfigurationError(f"design must be one of {DESIGNS}, not {design!r}")
    if design == "jwt" and store is not None:
        raise ConfigurationError("a session store is only used by design='server'")
    if design == "server" and deny_list is not None:
        raise ConfigurationError("a deny-list is only used by design='jwt' (server-side sessions are deleted)")
    s = settings if settings is not None else (Settings.from_env(environ) if client is None or signer is None
                                               else Settings())
    client = client if client is not None else PocketIdClient.from_settings(s)
    signer = signer if signer is not None else SessionSigner.from_settings(s, random_bytes=random_bytes)
    if not client.redirect_uri:
        raise ConfigurationError("the client needs its redirect_uri (OIDC_REDIRECT_URI), e.g. "
                                 "https://notes.altx10.dev/auth/callback")
    redirect_parts = urlsplit(client.redirect_uri)
    if redirect_parts.path != "/auth/callback":
        raise ConfigurationError(f"the redirect URI must end in /auth/callback, got {client.redirect_uri!r}")
    own_id = app_id if app_id is not None else signer.app_id or app_origin(client.redirect_uri)
    if signer.app_id is not None and signer.app_id != own_id:
        raise ConfigurationError(f"the signer is for app {signer.app_id!r}, not {own_id!r}")
    if signer.app_id != own_id:
        signer = dataclasses.replace(signer, app_id=own_id)
    if deny_list is not None and deny_list.leeway < signer.leeway:
        raise ConfigurationError(f"the deny-list keeps revoked tokens {deny_list.leeway:g} s past exp, but the signer "
                                 f"accepts them {signer.leeway:g} s past: use signer.new_deny_list()")
    clock = now if now is not None else time.time
    served_https = redirect_parts.scheme == "https" if https is None else https
    owns_store = False
    if design == "server" and store is None:
        store = session_store_from_env(environ, clock=clock, random_bytes=random_bytes)
        owns_store = True
    w = WebApp(client=client, signer=signer, design=design, store=store, deny_list=deny_list, clock=clock,
               random_bytes=random_bytes, https=served_https,
               secure_cookies=served_https if secure_cookies is None else secure_cookies or served_https,
               end_session=end_session,
               post_logout_redirect_uri=post_logout_redirect_uri or f"{redirect_parts.scheme}://"
                                                                    f"{redirect_parts.netloc}/",
               owns_store=owns_store)

    app = Flask(__name__)
    app.extensions[_EXTENSION] = w
    app.json.sort_keys = False  # type: ignore[attr-defined]

    @app.errorhandler(_Refused)
    def refused(exc: _Refused) -> Response:
        return _json_error(exc.status, exc.error, exc.description)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return _json_error(exc.code or 400, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")

    @app.errorhandler(NetworkError)
    def network_error(exc: NetworkError) -> Response:
        return _json_error(503, "temporarily_unavailable", f"a service this app needs did not answer: {exc}")

    @app.get("/")
    @maybe_authorized
    def home(session: UserSession | None) -> Response:
        return _page("home", "altx10 demo app", session=session)

    @app.get("/login")
    def login() -> Response:
        targets = request.args.getlist("redirectTo")
        target = safe_redirect(targets[0]) if len(targets) == 1 else "/"
        try:
            attempt = client.start_login()
        except (OidcError, ConfigurationError) as exc:
            raise _oidc_failure(exc) from None
        value = signer.sign_state({"state": attempt.state, "nonce": attempt.nonce, "verifier": attempt.code_verifier,
                                   "method": attempt.code_challenge_method, "scope": attempt.scope,
                                   "redirectTo": target}, now=clock(), random_bytes=random_bytes)
        response = redirect(attempt.authorization_url, code=302)
        response.headers["Cache-Control"] = "no-store"
        w.set_cookie(response, w.login_cookie, value, max_age=int(STATE_MAX_AGE))
        return response

    @app.get("/auth/callback")
    def callback() -> Response:
        try:
            response = _finish_login(w)
        except _Refused as exc:
            response = _json_error(exc.status, exc.error, exc.description)
        w.clear_cookie(response, w.login_cookie)  # one login, one callback, whatever happened
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.get("/logout")
    def logout_page() -> Response:
        return _page("logout", "Sign out")

    @app.post("/logout")
    def logout() -> Response:
        _same_origin_post()
        found = w.current()
        target = "/"
        if found.session is not None and found.cookie_value is not None:
            if design == "server" or deny_list is not None:
                w.revoke(found.cookie_value)
            hint = found.session.dynamic.get("id_token")
            if end_session and isinstance(hint, str):
                try:
                    target = client.build_end_session_url(hint, post_logout_redirect_uri=w.post_logout_redirect_uri)
                except OidcError:
                    target = "/"
        response = redirect(target, code=303)
        response.headers["Cache-Control"] = "no-store"
        w.clear_cookie(response, w.session_cookie)
        return response

    @app.get("/register")
    def register_form() -> Response:
        binding = b64url_encode(random_bytes(32))
        token = signer.sign_state({"purpose": "register", "csrf": binding}, now=clock(), random_bytes=random_bytes)
        response = _page("register", "Create your account", csrf_token=token)
        w.set_cookie(response, w.csrf_cookie, binding, max_age=int(STATE_MAX_AGE))
        return response

    @app.post("/register")
    def register() -> Response:
        form = _single(request.form, "form")
        _check_csrf(w, form.get("csrf_token"), "register")
        if form.get("consent") != "yes":
            raise _Refused(400, "consent_required", "tick the consent box to continue to Pocket ID")
        try:
            signup = client.create_signup_token(ttl="5m", usage_limit=1)
        except (OidcError, ConfigurationError) as exc:
            raise _oidc_failure(exc) from None
        response = redirect(client.build_token_link(signup.token), code=303)
        response.headers["Cache-Control"] = "no-store"
        w.clear_cookie(response, w.csrf_cookie)
        return response

    @app.get("/me")
    @auto_authorize
    def me(session: UserSession) -> Response:
        return _session_json(w, session)

    @app.get("/api/me")
    @authorized
    def api_me(session: UserSession) -> Response:
        return _session_json(w, session)

    return app


def _finish_login(w: WebApp) -> Response:
    """The callback: login cookie, then state and ``iss``, code exchange, ID token, userinfo, new session."""
    values = request.cookies.getlist(w.login_cookie)
    if len(values) != 1:
        raise _Refused(400, "no_login_in_progress", "no login was started in this browser, or it is older than 5 "
                       "minutes (the login cookie is missing); start again at /login")
    try:
        payload = w.signer.validate_signed_state(values[0], now=w.clock())
    except InvalidToken as exc:
        raise _Refused(400, "invalid_login_state", f"the login cookie was refused ({type(exc).__name__}): {exc}; "
                       "start again at /login") from None
    attempt, target = _login_attempt(w, payload)
    params = _single(request.args, "callback")
    try:
        result = w.client.finish_login(params, attempt)
        info = UserInfo.from_dict(result.userinfo or {})
    except (OidcError, InvalidToken, ConfigurationError) as exc:
        raise _oidc_failure(exc) from None
    dynamic = {"id_token": result.tokens.id_token} if w.end_session and result.tokens.id_token else None
    session = UserSession.new(info, lifetime=w.signer.lifetime, now=w.clock(), dynamic=dynamic,
                              random_bytes=w.random_bytes)
    response = redirect(target, code=302)
    response.headers["Cache-Control"] = "no-store"
    w.set_cookie(response, w.session_cookie, w.issue(session), max_age=session.exp - session.iat)
    return response


def _check_csrf(w: WebApp, token: str | None, purpose: str) -> None:
    """A signed, timestamped token whose random binding equals this browser's CSRF cookie (signed double submit)."""
    cookies = request.cookies.getlist(w.csrf_cookie)
    if not token or len(cookies) != 1:
        raise _Refused(403, "csrf_failed", "the form's CSRF token or this browser's CSRF cookie is missing; "
                       "reload the form and send it again")
    try:
        payload = w.signer.validate_signed_state(token, now=w.clock())
    except InvalidToken as exc:
        raise _Refused(403, "csrf_failed", f"the form's CSRF token was refused ({type(exc).__name__}): {exc}; "
                       "reload the form") from None
    binding = payload.get("csrf")
    if payload.get("purpose") != purpose or not isinstance(binding, str) or \
            not hmac.compare_digest(binding.encode(), cookies[0].encode()):
        raise _Refused(403, "csrf_failed", "the form's CSRF token was not issued to this browser for this form")


# -- running it ---------------------------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _not_mounted(environ: Mapping[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"no app is mounted on this server yet\n"]


class AppServer:
    """Serve an app on a free loopback port in a background thread: ``start()``, then ``mount(app)``.

    Binding first gives the app its own URL before it is built (its redirect URI must name the port).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app: Flask | None = None

    def start(self) -> AppServer:
        if self._server is None:
            server = make_server(self.host, self.port, _not_mounted, threaded=True, request_handler=_QuietHandler)
            self.port = server.server_port
            self._server = server
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"altx10-app:{self.port}", daemon=True)
            self._thread.start()
        return self

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self._server is None:
            raise ConfigurationError("start() the server first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def mount(self, app: Flask) -> None:
        """Serve ``app`` from now on."""
        if self._server is None:
            raise ConfigurationError("start() the server first")
        self.app = app
        self._server.app = app

    def stop(self) -> None:
        """Stop serving, release the port, and close the app's own session store (safe to call twice)."""
        server, thread, app = self._server, self._thread, self.app
        self._server = self._thread = self.app = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        if app is not None and isinstance(app.extensions.get(_EXTENSION), WebApp):
            webapp(app).close()

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def sign_in_with_login_code(http: requests.Session, sign_in_page: str, code: str, *,
                            timeout: float = 10) -> requests.Response:
    """Submit the stand-in's sign-in page with a login code, as a browser does, and follow the redirects.

    ``sign_in_page`` is the URL the login ended on (``.../login?redirect=/authorize?...``). Pocket ID marks
    its session cookie ``Secure`` even on http: a browser on localhost keeps it, ``requests`` would not
    send it back over http, so for an http provider the cookie is un-marked before going on.
    """
    page = urlsplit(sign_in_page)
    back = parse_qs(page.query).get("redirect", ["/"])[0]
    base = f"{page.scheme}://{page.netloc}"
    answer = http.post(f"{base}/login", data={"code": code, "redirect": back}, allow_redirects=False,
                       timeout=timeout)
    if answer.status_code != 303 or "Location" not in answer.headers:
        raise OidcError(f"signing in with the login code failed (HTTP {answer.status_code})", step="sign_in")
    if page.scheme == "http":
        for cookie in http.cookies:
            if cookie.domain.lstrip(".") == page.hostname:
                cookie.secure = False
    return http.get(answer.headers["Location"], timeout=timeout)


# -- reading a login ----------------------------------------------------------------------------------------

_TOKEN_RUN = re.compile(r"[A-Za-z0-9_\-.~]{41,}")
_SET_COOKIE_SPLIT = re.compile(r", (?=[^;,=\s]+=)")  # requests joins repeated Set-Cookie headers with ", "


def _readable(text: str) -> str:
    """Percent-encoding undone (twice, for URLs inside URLs) and long tokens cut to their first 16 characters."""
    return _TOKEN_RUN.sub(lambda m: m.group()[:16] + "…", unquote(unquote(text)))


def _where(url: str, names: Mapping[str, str], *, brief: bool = False) -> str:
    """``name /path?query`` for a named origin; ``brief`` drops the query (shown on the line before)."""
    if brief and "?" in url:
        url = url.split("?", 1)[0] + "?…"
    for origin, name in names.items():
        if url == origin or url.startswith((origin + "/", origin + "?")):
            return f"{name} {_readable(url[len(origin):] or '/')}"
    return _readable(url)


def describe_hops(hops: Sequence[Hop], names: Mapping[str, str]) -> str:
    """A login as a numbered list of requests: who was asked what, what came back, which cookies were set.

    ``names`` labels origins (``{app_url: "app", idp.url: "pocket-id"}``). For reading, percent-encoding
    is undone and long tokens are cut to their first characters; ``Set-Cookie`` shows each cookie without
    ``Expires`` (``Max-Age`` says the same and wins).
    """
    lines = []
    previous_target = ""
    for number, hop in enumerate(hops, 1):
        lines.append(f"{number:>2}. {hop.method} {_where(hop.url, names, brief=hop.url == previous_target)}")
        previous_target = ""
        if hop.request_body and hop.method == "POST":
            lines.append(f"      form: {_readable(hop.request_body)}")
        location = hop.response_headers.get("Location")
        if location is not None:
            previous_target = urljoin(hop.url, location)
            shown = _where(previous_target, names) if "://" in location else _readable(location)
            lines.append(f"      {hop.status} -> {shown}")
        else:
            kind = hop.response_headers.get("Content-Type", "").split(";")[0]
            lines.append(f"      {hop.status} {kind}".rstrip())
        for cookie in _SET_COOKIE_SPLIT.split(hop.response_headers.get("Set-Cookie", "")):
            if cookie:
                parts = [p.strip() for p in cookie.split(";") if not p.strip().lower().startswith("expires=")]
                lines.append(f"      Set-Cookie: {_readable(parts[0])}; {'; '.join(parts[1:])}")
    return "\n".join(lines)
