"""Shared pieces of the webapp tests: Set-Cookie parsing, served apps, and the login a browser would do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask, jsonify

from altx10_helpers.idp import LocalPocketId
from altx10_helpers.idp.server import Demo
from altx10_helpers.oidc import PocketIdClient
from altx10_helpers.session import SessionSigner, UserSession
from altx10_helpers.webapp import AppServer, authorized, auto_authorize, create_app, maybe_authorized

SECRET = bytes(range(64))
CALLBACKS = ["http://127.0.0.1/auth/callback", "https://app.example/auth/callback"]
LOGOUT_CALLBACKS = ["http://127.0.0.1/", "https://app.example/"]


@dataclass(frozen=True)
class SetCookie:
    """One ``Set-Cookie`` header, parsed as a browser reads it (attribute names lower-cased)."""

    name: str
    value: str
    attrs: dict[str, str | bool]

    @classmethod
    def parse(cls, header: str) -> SetCookie:
        first, *rest = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        attrs: dict[str, str | bool] = {}
        for part in rest:
            key, sep, val = part.partition("=")
            attrs[key.strip().lower()] = val.strip() if sep else True
        return cls(name.strip(), value.strip(), attrs)


def set_cookies(response: Any) -> dict[str, SetCookie]:
    """Every Set-Cookie header of a ``requests`` or werkzeug response, by cookie name."""
    headers = response.raw.headers if isinstance(response, requests.Response) else response.headers
    parsed = [SetCookie.parse(h) for h in headers.getlist("Set-Cookie")]
    return {c.name: c for c in parsed}


def add_demo_routes(app: Flask) -> None:
    """Routes of "your own app" that use the three decorators."""

    @app.route("/notes/<int:number>", methods=["GET", "POST"])
    @auto_authorize
    def note(number: int, session: UserSession) -> Any:
        return jsonify(note=number, owner=session.sub)

    @app.route("/api/notes", methods=["GET", "POST"])
    @authorized
    def notes(session: UserSession) -> Any:
        return jsonify(owner=session.sub, email=session.userInfo.email)

    @app.get("/whoami")
    @maybe_authorized
    def whoami(session: UserSession | None) -> Any:
        return jsonify(sub=session.sub if session else None)


@contextmanager
def serve(idp: LocalPocketId, demo: Demo, *, client_clock: Callable[[], float] | None = None,
          **kwargs: Any) -> Iterator[AppServer]:
    """A demo app with the test routes on a loopback port, talking to the stand-in."""
    with AppServer() as server:
        extra = {"clock": client_clock} if client_clock is not None else {}
        client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, server.url + "/auth/callback",
                                api_key=idp.api_key, **extra)
        kwargs.setdefault("signer", SessionSigner(secret=SECRET))
        app = create_app(client=client, **kwargs)
        add_demo_routes(app)
        server.mount(app)
        yield server


def provider_session(idp: LocalPocketId, demo: Demo) -> requests.Session:
    """A requests "browser" already signed in at the stand-in (Pocket ID's automation path)."""
    http = requests.Session()
    code = demo.login_code()
    answer = http.post(f"{idp.url}/api/one-time-access-token/{code}", timeout=10)
    assert answer.status_code == 200, answer.text
    host = urlsplit(idp.url).hostname
    for cookie in http.cookies:
        if cookie.domain.lstrip(".") == host:
            cookie.secure = False  # Secure even on http, like Pocket ID: a script sends it back itself
    return http


def login_hops(http: requests.Session, app_url: str, redirect_to: str | None) -> list[requests.Response]:
    """/login -> /authorize -> /auth/callback, one request each (no redirect followed blindly)."""
    params = {} if redirect_to is None else {"redirectTo": redirect_to}
    start = http.get(f"{app_url}/login", params=params, allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    authorize = http.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert authorize.status_code == 302, authorize.text
    callback_url = authorize.headers["Location"]
    assert callback_url.startswith(f"{app_url}/auth/callback?"), callback_url
    callback = http.get(callback_url, allow_redirects=False, timeout=10)
    return [start, authorize, callback]
