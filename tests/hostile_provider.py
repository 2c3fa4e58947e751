"""A small OpenID provider whose every answer a test can corrupt.

It behaves like a correct code-flow provider (discovery, JWKS, /authorize that signs a fixed user in at
once, /token with client authentication and PKCE, /userinfo, refresh with rotation) until a test
turns one of its knobs. Tokens are built here with ``cryptography`` and ``hmac`` directly, not with the
package under test, so a bug in our signer cannot hide a bug in our verifier.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask, Response, jsonify, redirect, request
from werkzeug.serving import make_server

DELETE = object()  # a patch value that removes the claim or member

CLIENT_ID = "hostile-client"
CLIENT_SECRET = "hostile-client-secret-0123456789abcdef"  # 38 bytes: long enough for HS256
REDIRECT_URI = "http://127.0.0.1:8765/auth/callback"
USER = {"sub": "5b0c1d6e-1111-4222-8333-944445555666", "email": "ada@example.test", "email_verified": True,
        "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace", "groups": ["admins"]}


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str | None) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "use": "sig", "alg": "RS256",
           "n": b64u(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
           "e": b64u(numbers.e.to_bytes(3, "big"))}
    if kid is not None:
        jwk["kid"] = kid
    return jwk


def at_hash(access_token: str) -> str:
    return b64u(hashlib.sha256(access_token.encode()).digest()[:16])


def apply(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in patch.items():
        if v is DELETE:
            out.pop(k, None)
        else:
            out[k] = v
    return out


@dataclass
class Knobs:
    """What the next answers get wrong. ``reset()`` restores an honest provider."""

    discovery: dict[str, Any] = field(default_factory=dict)
    jwks: Callable[[], Response] | None = None
    callback: dict[str, Any] = field(default_factory=dict)
    id_token_claims: dict[str, Any] = field(default_factory=dict)
    id_token_header: dict[str, Any] = field(default_factory=dict)
    signing: str = "RS256"  # RS256 | none | none-with-signature | HS256-client-secret | bad-signature | other-key
    refresh_claims: dict[str, Any] = field(default_factory=dict)
    token_response: dict[str, Any] = field(default_factory=dict)
    token_raw: Callable[[], Response] | None = None
    userinfo: dict[str, Any] = field(default_factory=dict)
    userinfo_raw: Callable[[], Response] | None = None
    auth_method: str = "client_secret_basic"
    rotate_refresh_tokens: bool = True


class HostileProvider:
    """Start with ``with HostileProvider(clock) as p:``; ``p.url`` is the issuer, ``p.knobs`` the corruption."""

    def __init__(self, clock: Callable[[], float], key: rsa.RSAPrivateKey | None = None):
        self.clock = clock
        self.key = key or new_rsa_key()
        self.kid: str | None = "hostile-key-1"
        self.knobs = Knobs()
        self.jwks_fetches = 0
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, str] = {}
        self.app = self._build_app()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HostileProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.knobs = Knobs()

    def rotate_key(self, key: rsa.RSAPrivateKey, kid: str | None) -> None:
        self.key, self.kid = key, kid

    # -- token building ---------------------------------------------------------------------------

    def sign(self, claims: dict[str, Any], header_patch: dict[str, Any] | None = None, signing: str = "RS256") -> str:
        alg = {"none": "none", "none-with-signature": "none", "HS256-client-secret": "HS256"}.get(signing, "RS256")
        header = {"alg": alg, "typ": "JWT"}
        if self.kid is not None and alg == "RS256":
            header["kid"] = self.kid
        header = apply(header, header_patch or {})
        signing_input = (b64u(json.dumps(header, separators=(",", ":")).encode()) + "."
                         + b64u(json.dumps(claims, separators=(",", ":")).encode())).encode()
        if signing == "none":
            signature = b""
        elif signing == "HS256-client-secret":
            signature = hmac.new(CLIENT_SECRET.encode(), signing_input, hashlib.sha256).digest()
        else:
            key = new_rsa_key() if signing == "other-key" else self.key
            signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
            if signing == "bad-signature":
                signature = signature[:-1] + bytes([signature[-1] ^ 1])
        return signing_input.decode() + "." + b64u(signature)

    def _id_token(self, nonce: str | None, access_token: str, auth_time: int, extra: dict[str, Any]) -> str:
        now = int(self.clock())
        claims = {"iss": self.url, "sub": USER["sub"], "aud": [CLIENT_ID], "exp": now + 3600, "iat": now,
                  "auth_time": auth_time, "at_hash": at_hash(access_token), "type": "id-token"}
        if nonce is not None:
            claims["nonce"] = nonce
        claims = apply(claims, self.knobs.id_token_claims)
        claims = apply(claims, extra)
        return self.sign(claims, self.knobs.id_token_header, self.knobs.signing)

    def _tokens(self, nonce: str | None, scope: str, auth_time: int, extra_claims: dict[str, Any]) -> dict[str, Any]:
        access_token = secrets.token_urlsafe(32)
        refresh_token = secrets.token_urlsafe(32)
        self.access_tokens[access_token] = USER["sub"]
        self.refresh_tokens[refresh_token] = {"scope": scope, "auth_time": auth_time, "used": False}
        body = {"access_token": access_token, "token_type": "bearer", "expires_in": 3600, "scope": scope,
                "refresh_token": refresh_token,
                "id_token": self._id_token(nonce, access_token, auth_time, extra_claims)}
        return apply(body, self.knobs.token_response)

    # -- HTTP -------------------------------------------------------------------------------------

    def _client_ok(self) -> bool:
        method = self.knobs.auth_method
        form = request.form
        if method == "client_secret_basic":
            auth = request.authorization
            return bool(auth and auth.username == CLIENT_ID and auth.password == CLIENT_SECRET
                        and "client_secret" not in form)
        if method == "client_secret_post":
            return (form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET
                    and request.authorization is None)
        return form.get("client_id") == CLIENT_ID and "client_secret" not in form and request.authorization is None

    def _build_app(self) -> Flask:
        app = Flask("hostile_provider")

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            doc = {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                   "token_endpoint": f"{self.url}/token", "userinfo_endpoint": f"{self.url}/userinfo",
                   "jwks_uri": f"{self.url}/jwks", "end_session_endpoint": f"{self.url}/end-session",
                   "response_types_supported": ["code"], "subject_types_supported": ["public"],
                   "id_token_signing_alg_values_supported": ["RS256"],
                   "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
                   "code_challenge_methods_supported": ["S256"],
                   "authorization_response_iss_parameter_supported": True}
            return jsonify(apply(doc, self.knobs.discovery))

        @app.get("/jwks")
        def jwks() -> Response:
            self.jwks_fetches += 1
            if self.knobs.jwks is not None:
                return self.knobs.jwks()
            return jsonify({"keys": [public_jwk(self.key, self.kid)]})

        @app.get("/authorize")
        def authorize() -> Response:
            args = request.args
            if args.get("client_id") != CLIENT_ID or args.get("redirect_uri") != REDIRECT_URI:
                return Response("unknown client or redirect URI", status=400)
            code = secrets.token_urlsafe(24)
            self.codes[code] = {"nonce": args.get("nonce"), "challenge": args.get("code_challenge"),
                                "scope": args.get("scope", ""), "auth_time": int(self.clock()), "used": False}
            params = apply({"code": code, "state": args.get("state"), "iss": self.url}, self.knobs.callback)
            return redirect(f"{REDIRECT_URI}?{urlencode(params)}", code=302)

        @app.post("/token")
        def token() -> Response:
            if self.knobs.token_raw is not None:
                return self.knobs.token_raw()
            if not self._client_ok():
                return jsonify(error="invalid_client", error_description="client authentication failed"), 401
            form = request.form
            if form.get("grant_type") == "authorization_code":
                grant = self.codes.get(form.get("code", ""))
                if grant is None or grant["used"]:
                    return jsonify(error="invalid_grant", error_description="code unknown or used"), 400
                grant["used"] = True
                verifier = form.get("code_verifier", "")
                if b64u(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
                    return jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
                if form.get("redirect_uri") != REDIRECT_URI:
                    return jsonify(error="invalid_grant", error_description="redirect_uri differs"), 400
                return jsonify(self._tokens(grant["nonce"], grant["scope"], grant["auth_time"], {}))
            if form.get("grant_type") == "refresh_token":
                grant = self.refresh_tokens.get(form.get("refresh_token", ""))
                if grant is None or grant["used"]:
                    return jsonify(error="invalid_grant", error_description="refresh token unknown or used"), 400
                grant["used"] = self.knobs.rotate_refresh_tokens
                return jsonify(self._tokens(None, grant["scope"], grant["auth_time"], self.knobs.refresh_claims))
            return jsonify(error="unsupported_grant_type"), 400

        @app.get("/userinfo")
        def userinfo() -> Response:
            if self.knobs.userinfo_raw is not None:
                return self.knobs.userinfo_raw()
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
                return Response("", status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return jsonify(apply(USER, self.knobs.userinfo))

        return app
