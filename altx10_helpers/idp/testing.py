"""Pinned time and randomness, and an in-process driver for the stand-in (tests, benchmarks, notebooks).

``Driver`` talks to the Flask app through its test client, sending the session cookie back by hand exactly
as a script does against a real Pocket ID on plain http (the cookie is marked ``Secure``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import secrets
import struct
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from webauthn.helpers import encode_cbor
from werkzeug.test import TestResponse

from ..b64 import b64url_decode, b64url_encode
from .provider import Provider

__all__ = ["Driver", "FrozenClock", "SoftPasskey", "basic_auth", "callback_params", "pkce_pair", "seeded_random",
           "session_cookie"]


class FrozenClock:
    """A clock that only moves when told: ``clock()`` gives epoch seconds, ``clock.advance(s)`` moves it."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def seeded_random(seed: int) -> Callable[[int], bytes]:
    """``random_bytes(n)`` from a seeded generator (thread-safe), for byte-identical runs. Not for secrets."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def random_bytes(n: int) -> bytes:
        with lock:
            return rng.randbytes(n)

    return random_bytes


def pkce_pair(verifier: str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") -> tuple[str, str]:
    """``(code_verifier, S256 code_challenge)``; the default verifier is RFC 7636 appendix B's."""
    return verifier, b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def callback_params(location: str) -> dict[str, str]:
    """The parameters of an authorization response redirect (query or fragment), one value each."""
    parts = urlsplit(location)
    raw = parse_qs(parts.query or parts.fragment, keep_blank_values=True)
    return {k: v[0] for k, v in raw.items()}


class Driver:
    """Drive a stand-in app in-process: admin API calls, sign-in with a login code, authorize, token."""

    def __init__(self, app: Flask):
        self.app = app
        self.provider: Provider = app.extensions["altx10_idp"]
        self.http = app.test_client(use_cookies=False)

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.provider.api_key}

    def admin(self, method: str, path: str, payload: Any = None) -> Any:
        """An admin API call that must succeed; its JSON."""
        response = self.http.open(path, method=method, json=payload, headers=self.admin_headers)
        if response.status_code >= 300:
            raise AssertionError(f"{method} {path} -> {response.status_code} {response.get_data(as_text=True)}")
        return response.get_json()

    def user(self, username: str = "alice", **fields: Any) -> dict[str, Any]:
        body = {"username": username, "email": f"{username}@example.com", "firstName": username.title(),
                "lastName": "Example", **fields}
        return self.admin("POST", "/api/users", body)

    def client(self, *, secret: bool = True, **fields: Any) -> tuple[dict[str, Any], str | None]:
        """Register a client (skipConsent unless told otherwise); ``(client, secret or None)``."""
        body = {"name": "test app", "callbackURLs": ["https://app.example/callback"],
                "logoutCallbackURLs": ["https://app.example/logged-out"], "skipConsent": True, **fields}
        client = self.admin("POST", "/api/oidc/clients", body)
        if not secret or client["isPublic"]:
            return client, None
        return client, self.admin("POST", f"/api/oidc/clients/{client['id']}/secrets", {})["secret"]

    def login_code(self, user_id: str, ttl: Any = "15m") -> str:
        return self.admin("POST", f"/api/users/{user_id}/one-time-access-token", {"ttl": ttl})["token"]

    def sign_in(self, user_id: str) -> str:
        """The session cookie value after ``POST /api/one-time-access-token/<code>``."""
        response = self.http.post(f"/api/one-time-access-token/{self.login_code(user_id)}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return session_cookie(response, self.provider.cookie_name)

    def cookie_header(self, cookie: str | None) -> dict[str, str]:
        return {"Cookie": f"{self.provider.cookie_name}={cookie}"} if cookie else {}

    def authorize(self, params: dict[str, str], cookie: str | None = None, method: str = "GET") -> TestResponse:
        headers = self.cookie_header(cookie)
        if method == "POST":
            return self.http.post("/authorize", data=params, headers=headers)
        return self.http.get("/authorize", query_string=params, headers=headers)

    def code(self, params: dict[str, str], cookie: str) -> dict[str, str]:
        """Authorize with a signed-in session and a consent-free client; the callback's parameters."""
        response = self.authorize(params, cookie)
        assert response.status_code == 302, response.get_data(as_text=True)
        return callback_params(response.headers["Location"])

    def token(self, form: dict[str, str], auth: tuple[str, str] | None = None,
              headers: dict[str, str] | None = None) -> TestResponse:
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = basic_auth(*auth)
        return self.http.post("/api/oidc/token", data=form, headers=headers)


def session_cookie(response: TestResponse, name: str) -> str:
    """The value of the session cookie a response sets."""
    for header in response.headers.getlist("Set-Cookie"):
        key, _, rest = header.partition("=")
        if key == name:
            return rest.split(";", 1)[0]
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


def basic_auth(client_id: str, secret: str) -> str:
    """An ``Authorization`` value for client_secret_basic (both parts form-encoded first, RFC 6749 2.3.1)."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class SoftPasskey:
    """A software passkey (ES256, ``none`` attestation): answers WebAuthn options as a browser and authenticator
    would, for tests and headless runs. ``origin`` is what the "browser" puts in ``clientDataJSON``.

    Flags: ``user_verified`` sets UV; ``sign_count`` starts the counter (0 means the authenticator keeps none).
    """

    def __init__(self, origin: str, *, key: ec.EllipticCurvePrivateKey | None = None,
                 credential_id: bytes | None = None, user_verified: bool = True, sign_count: int = 0,
                 random_bytes: Callable[[int], bytes] | None = None):
        rand = random_bytes or secrets.token_bytes
        self.origin = origin
        self.key = key or ec.generate_private_key(ec.SECP256R1())
        self.credential_id = credential_id or rand(16)
        self.user_verified = user_verified
        self.sign_count = sign_count
        self.user_handle: bytes | None = None
        self.rp_id: str | None = None

    @property
    def id(self) -> str:
        return b64url_encode(self.credential_id)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}, separators=(",", ":")).encode()

    def _auth_data(self, rp_id: str, extra: bytes = b"", *, attested: bool = False) -> bytes:
        flags = 0x01 | (0x04 if self.user_verified else 0) | (0x40 if attested else 0)
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", self.sign_count) + extra

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return encode_cbor({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def create(self, options: dict[str, Any], *, origin: str | None = None, rp_id: str | None = None) -> dict[str, Any]:
        """The registration response to ``navigator.credentials.create`` options (as the server sent them)."""
        self.rp_id = rp_id or options["rp"]["id"]
        self.user_handle = b64url_decode(options["user"]["id"])
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose_key()
        auth_data = self._auth_data(self.rp_id, attested, attested=True)
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {"id": self.id, "rawId": self.id, "type": "public-key", "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url_encode(client_data),
                             "attestationObject": b64url_encode(attestation), "transports": ["internal"]}}

    def get(self, options: dict[str, Any], *, origin: str | None = None, rp_id: str | None = None) -> dict[str, Any]:
        """The assertion for ``navigator.credentials.get`` options; the counter moves on when it is kept."""
        if self.sign_count:
            self.sign_count += 1
        auth_data = self._auth_data(rp_id or options.get("rpId") or self.rp_id or "")
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": self.id, "rawId": self.id, "type": "public-key", "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url_encode(client_data),
                             "authenticatorData": b64url_encode(auth_data), "signature": b64url_encode(signature),
                             "userHandle": b64url_encode(self.user_handle) if self.user_handle else None}}
