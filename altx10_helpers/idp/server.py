"""``LocalPocketId``: the stand-in on a free loopback port, in a background thread, for notebooks and tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ..errors import OidcError
from .app import create_app
from .keys import PrivateKey, SigningKey
from .provider import Provider

__all__ = ["DEFAULT_CALLBACK_URLS", "DEFAULT_LOGOUT_CALLBACK_URLS", "Demo", "LocalPocketId"]

#: Loopback callbacks registered without a port match any port (RFC 8252), like Pocket ID.
DEFAULT_CALLBACK_URLS = ["http://localhost/auth/callback", "http://127.0.0.1/auth/callback"]
DEFAULT_LOGOUT_CALLBACK_URLS = ["http://localhost/", "http://127.0.0.1/"]


class _QuietHandler(WSGIRequestHandler):
    """No access log lines in notebooks and test output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class Demo:
    """What ``seed_demo`` made: a user in a group, and a confidential client with its one-time-shown secret."""

    user: dict[str, Any]
    group: dict[str, Any]
    client: dict[str, Any]
    client_id: str
    client_secret: str
    idp: LocalPocketId = field(repr=False)

    def login_code(self, ttl: str | int = "15m") -> str:
        """A fresh one-time login code for the demo user (admin API ``one-time-access-token``)."""
        return self.idp.login_code(self.user["id"], ttl=ttl)


class LocalPocketId:
    """A local provider that behaves like Pocket ID on the wire; ``with LocalPocketId() as idp:``.

    ``clock`` (epoch seconds), ``random_bytes(n)`` and ``key`` are parameters so a notebook can pin them
    and get byte-identical tokens; by default: real time, ``secrets.token_bytes`` and a fresh RSA-2048 key.
    ``public_url_from_proxy`` lets the first browser request through ``jupyter-server-proxy`` set ``APP_URL``
    (from its ``Host``, ``X-Forwarded-Proto`` and ``X-Forwarded-Prefix``) while the back channel stays here.
    """

    def __init__(self, *, app_url: str | None = None, internal_app_url: str | None = None,
                 api_key: str | None = None, key: PrivateKey | None = None,
                 clock: Callable[[], float] | None = None, random_bytes: Callable[[int], bytes] | None = None,
                 host: str = "127.0.0.1", port: int = 0, db_path: str | Path | None = None,
                 log_requests: bool = False, public_url_from_proxy: bool = False):
        self.host, self.port = host, port
        self._app_url_given, self._internal_given = app_url, internal_app_url
        self.provider = Provider(app_url=app_url or f"http://{_url_host(host)}:{port or 1411}",
                                 internal_app_url=internal_app_url, api_key=api_key, key=key, clock=clock,
                                 random_bytes=random_bytes, db_path=db_path,
                                 public_url_from_proxy=public_url_from_proxy)
        self.app = create_app(provider=self.provider)
        self._log_requests = log_requests
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> LocalPocketId:
        """Bind (port 0 picks a free one), set the issuer to match, and serve in a daemon thread."""
        if self._server is not None:
            return self
        handler = WSGIRequestHandler if self._log_requests else _QuietHandler
        server = make_server(self.host, self.port, self.app, threaded=True, request_handler=handler)
        self.port = server.server_port
        if self._app_url_given is None:
            self.provider.set_urls(f"http://{_url_host(self.host)}:{self.port}", self._internal_given)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"pocket-id-standin:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (safe to call twice)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> LocalPocketId:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self.provider.store.close()

    def wait(self) -> None:
        """Block until the server thread ends (the command uses this; Ctrl+C interrupts)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    # -- addresses ------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The issuer, ``APP_URL`` (``http://127.0.0.1:PORT`` unless ``app_url`` was given)."""
        return self.provider.app_url

    @property
    def internal_url(self) -> str:
        return self.provider.internal_app_url

    @property
    def discovery_url(self) -> str:
        return f"{self.provider.internal_app_url}/.well-known/openid-configuration"

    @property
    def api_key(self) -> str:
        return self.provider.api_key

    @property
    def key(self) -> SigningKey:
        return self.provider.key

    # -- admin conveniences (through the HTTP admin API's own code path) -----------------------------------

    def admin(self, method: str, path: str, payload: Any = None) -> Any:
        """Call the admin API in-process with the API key; the JSON answer, or ``OidcError`` on failure."""
        with self.app.test_client() as http:
            response = http.open(path, method=method, json=payload, headers={"X-API-Key": self.api_key})
        if response.status_code >= 400:
            body = response.get_json(silent=True) or {}
            raise OidcError(f"admin API {method} {path} answered {response.status_code}: {body}", step="admin api",
                            error=body.get("error", ""), description=body.get("error_description", ""))
        return response.get_json(silent=True)

    def login_code(self, user_id: str, ttl: str | int = "15m") -> str:
        """A one-time login code (Pocket ID's one-time access token) for the user."""
        return self.admin("POST", f"/api/users/{user_id}/one-time-access-token", {"ttl": ttl})["token"]

    def rotate_key(self, new_key: PrivateKey | None = None) -> SigningKey:
        """Replace the signing key (new ``kid``); tokens signed before stop verifying."""
        return self.provider.rotate_key(new_key)

    def seed_demo(self, callback_urls: list[str] | None = None, logout_callback_urls: list[str] | None = None, *,
                  skip_consent: bool = True, pkce: bool = False, client_name: str = "altx10 demo app") -> Demo:
        """A demo user (in group ``developers``) and a confidential client with a secret, via the admin API."""
        group = self.admin("POST", "/api/user-groups", {"friendlyName": "Developers", "name": "developers"})
        user = self.admin("POST", "/api/users", {
            "username": "demo", "email": "demo@altx10.dev", "emailVerified": True, "firstName": "Demo",
            "lastName": "User", "displayName": "Demo User", "isAdmin": False, "userGroupIds": [group["id"]],
        })
        client = self.admin("POST", "/api/oidc/clients", {
            "name": client_name,
            "callbackURLs": list(callback_urls if callback_urls is not None else DEFAULT_CALLBACK_URLS),
            "logoutCallbackURLs": list(logout_callback_urls if logout_callback_urls is not None
                                       else DEFAULT_LOGOUT_CALLBACK_URLS),
            "isPublic": False, "pkceEnabled": pkce, "skipConsent": skip_consent,
        })
        secret = self.admin("POST", f"/api/oidc/clients/{client['id']}/secrets", {})
        return Demo(user=user, group=group, client=client, client_id=client["id"], client_secret=secret["secret"],
                    idp=self)


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):  # noqa: S104 - naming the wildcard address, not binding it
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
