"""The stand-in's core: configuration, identifiers, the signing key, sessions and token minting.

Everything random comes from the injected ``random_bytes`` and every time from the injected ``clock``,
so with both pinned (and a fixed key) a whole login produces the same bytes on every run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ..b64 import b64url_encode
from ..errors import ConfigurationError, InvalidToken
from .keys import PrivateKey, SigningKey, generate_key
from .store import (
    Client,
    ClientSecret,
    Grant,
    Group,
    IssuedToken,
    LoginCode,
    Meta,
    RefreshToken,
    Session,
    Store,
    User,
)

__all__ = ["DEFAULT_APP_URL", "SUPPORTED_SCOPES", "OAuthError", "PageError", "Provider"]

DEFAULT_APP_URL = "http://localhost:1411"
SUPPORTED_SCOPES = ("openid", "profile", "email", "groups", "offline_access")
CODE_TTL = 15 * 60
ID_TOKEN_TTL = 60 * 60
SESSION_TTL = 60 * 60
DEFAULT_ACCESS_TOKEN_MINUTES = 60
DEFAULT_REFRESH_TOKEN_MINUTES = 30 * 24 * 60
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class OAuthError(Exception):
    """An error answered as ``{"error", "error_description"}`` JSON (OAuth endpoints and the admin API)."""

    def __init__(self, error: str, description: str, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}


class PageError(Exception):
    """An error on a browser-facing endpoint, answered with the HTML error page."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _base_url(url: str, name: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError(f"{name} must be an http(s) base URL like http://localhost:1411, got {url!r}")
    return url


class Provider:
    """State and rules shared by every endpoint of one stand-in instance."""

    def __init__(self, *, app_url: str | None = None, internal_app_url: str | None = None,
                 api_key: str | None = None, key: PrivateKey | None = None,
                 clock: Callable[[], float] | None = None, random_bytes: Callable[[int], bytes] | None = None,
                 db_path: str | Path | None = None, public_url_from_proxy: bool = False):
        self.clock = clock or time.time
        #: Until a browser request arrives through a proxy, ``APP_URL`` is a guess (see ``adopt_public_url``).
        self.public_url_from_proxy = public_url_from_proxy
        self.random_bytes = random_bytes or secrets.token_bytes
        self.store = Store(db_path)
        self.set_urls(app_url or DEFAULT_APP_URL, internal_app_url)
        if api_key is not None and len(api_key) < 16:
            raise ConfigurationError("STATIC_API_KEY must be at least 16 characters")
        self.api_key_generated = api_key is None
        self.api_key = api_key if api_key is not None else self.random_string(32)
        self.key = self._initial_key(key)

    # -- configuration -------------------------------------------------------------------------------------

    def set_urls(self, app_url: str, internal_app_url: str | None = None) -> None:
        """Set the issuer (``APP_URL``) and the back-channel base (``INTERNAL_APP_URL``, default the same)."""
        self.app_url = _base_url(app_url, "APP_URL")
        self.internal_app_url = _base_url(internal_app_url, "INTERNAL_APP_URL") if internal_app_url else self.app_url

    def adopt_public_url(self, public_url: str) -> None:
        """Take the address the first proxied browser request shows as ``APP_URL``; the back channel stays.

        For a stand-in started behind ``jupyter-server-proxy`` without knowing the host the browser uses (on
        Binder only the path prefix is known in advance). Once adopted it is fixed, like Pocket ID's APP_URL.
        """
        if self.public_url_from_proxy:
            self.set_urls(public_url, self.internal_app_url)
            self.public_url_from_proxy = False

    @property
    def issuer(self) -> str:
        return self.app_url

    @property
    def cookie_name(self) -> str:
        """Pocket ID's session cookie: ``__Host-access_token`` on https, ``access_token`` on http."""
        return "__Host-access_token" if self.app_url.startswith("https://") else "access_token"

    def _initial_key(self, key: PrivateKey | None) -> SigningKey:
        if key is None:
            stored = self.store.get(Meta, "signing_key")
            if stored is not None:
                loaded = load_pem_private_key(stored.value["pem"].encode(), password=None)
                return SigningKey(loaded, stored.value["kid"])  # type: ignore[arg-type]
            key = generate_key()
        return self._install_key(key)

    def _install_key(self, key: PrivateKey) -> SigningKey:
        signing_key = SigningKey(key, b64url_encode(self.random_bytes(8)))
        self.store.put(Meta("signing_key", {"pem": signing_key.private_pem().decode(), "kid": signing_key.kid}))
        return signing_key

    def rotate_key(self, new_key: PrivateKey | None = None) -> SigningKey:
        """Replace the signing key (new ``kid``); tokens signed with the old one stop verifying."""
        self.key = self._install_key(new_key if new_key is not None else generate_key())
        return self.key

    # -- identifiers and time -----------------------------------------------------------------------------

    def now(self) -> int:
        return int(self.clock())

    def iso(self, ts: float | None) -> str | None:
        """Pocket ID's date format (RFC 3339, UTC)."""
        if ts is None:
            return None
        return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def new_uuid(self) -> str:
        return str(uuid.UUID(bytes=self.random_bytes(16), version=4))

    def random_string(self, length: int) -> str:
        """``length`` letters and digits, unbiased (bytes >= 248 are skipped)."""
        out: list[str] = []
        while len(out) < length:
            for b in self.random_bytes(length - len(out) + 8):
                if b < 248 and len(out) < length:
                    out.append(_ALNUM[b % 62])
        return "".join(out)

    # -- users and groups ---------------------------------------------------------------------------------

    def groups_of(self, user_id: str) -> list[Group]:
        return [g for g in self.store.all(Group) if user_id in g.user_ids]

    def picture_url(self, user: User) -> str:
        return f"{self.app_url}/api/users/{user.id}/profile-picture.png"

    def user_claims(self, user: User, scopes: list[str]) -> dict[str, Any]:
        """The user claims the granted scopes allow (ID token and userinfo share them)."""
        claims: dict[str, Any] = {"sub": user.id}
        if "profile" in scopes:
            for group in self.groups_of(user.id):
                claims.update(custom_claim_values(group.custom_claims))
            claims.update(custom_claim_values(user.custom_claims))
            claims.update({
                "given_name": user.first_name,
                "family_name": user.last_name,
                "name": f"{user.first_name} {user.last_name}".strip(),
                "display_name": user.display_name,
                "preferred_username": user.username,
                "picture": self.picture_url(user),
            })
        if "email" in scopes:
            claims.update({"email": user.email, "email_verified": user.email_verified})
        if "groups" in scopes:
            claims["groups"] = [g.name for g in self.groups_of(user.id)]
        return claims

    def active_user(self, user_id: str) -> User | None:
        user = self.store.get(User, user_id)
        return user if user is not None and not user.disabled else None

    # -- client secrets -------------------------------------------------------------------------------------

    def new_client_secret(self, client: Client, value: str | None = None) -> tuple[ClientSecret, str]:
        """Store a secret as a salted SHA-256 (secrets are >= 32 random characters, so a fast hash suffices)."""
        value = value if value is not None else self.random_string(32)
        salt = self.random_bytes(16).hex()
        record = ClientSecret(id=self.new_uuid(), client_id=client.id, prefix=value[:4], salt=salt,
                              digest=sha256_hex(salt + value), created_at=self.clock(), expires_at=None)
        self.store.put(record)
        return record, value

    def check_client_secret(self, client: Client, value: str) -> bool:
        now = self.clock()
        ok = False
        for record in self.store.all(ClientSecret):
            if record.client_id != client.id or (record.expires_at is not None and record.expires_at <= now):
                continue
            ok |= hmac.compare_digest(record.digest, sha256_hex(record.salt + value))
        return ok

    # -- sessions and login codes ---------------------------------------------------------------------------

    def create_login_code(self, user_id: str, ttl_seconds: int) -> str:
        code = self.random_string(16)
        self.store.put(LoginCode(sha256_hex(code), user_id, self.clock() + ttl_seconds))
        return code

    def redeem_login_code(self, code: str) -> User | None:
        """Use a login code up (once, atomically); the user it signs in, or None."""
        with self.store.lock:
            record = self.store.get(LoginCode, sha256_hex(code))
            if record is None:
                return None
            self.store.delete(LoginCode, record.id)
        if record.expires_at <= self.clock():
            return None
        return self.active_user(record.user_id)

    def create_session(self, user: User, amr: list[str]) -> str:
        """Start a browser session; the cookie value (only its hash is stored)."""
        value = b64url_encode(self.random_bytes(32))
        now = self.clock()
        self.store.put(Session(sha256_hex(value), user.id, int(now), amr, now + SESSION_TTL,
                               b64url_encode(self.random_bytes(16))))
        return value

    def session_for(self, cookie_value: str | None) -> tuple[Session, User] | None:
        if not cookie_value or len(cookie_value) > 200:
            return None
        session = self.store.get(Session, sha256_hex(cookie_value))
        if session is None or session.expires_at <= self.clock():
            return None
        user = self.active_user(session.user_id)
        return (session, user) if user is not None else None

    def end_session(self, cookie_value: str | None) -> None:
        if cookie_value and len(cookie_value) <= 200:
            self.store.delete(Session, sha256_hex(cookie_value))

    # -- tokens ---------------------------------------------------------------------------------------------

    def revoke_grant(self, grant_id: str) -> None:
        with self.store.lock:
            grant = self.store.get(Grant, grant_id)
            if grant is not None and not grant.revoked:
                grant.revoked = True
                self.store.put(grant)

    def issue_tokens(self, grant: Grant, client: Client, scopes: list[str], nonce: str | None) -> dict[str, Any]:
        """Mint access token, ID token and refresh token for a grant; the token response body."""
        user = self.active_user(grant.user_id)
        if user is None:
            raise OAuthError("invalid_grant", "The user no longer exists or is disabled.")
        key = self.key
        now = self.now()
        access_exp = now + client.access_token_minutes * 60
        access_jti = self.new_uuid()
        access_token = key.sign({
            "iss": self.issuer, "sub": user.id, "client_id": client.id, "jti": access_jti, "iat": now,
            "exp": access_exp, "scope": " ".join(scopes), "scp": scopes, "aud": [client.id, self.issuer],
        }, typ="at+jwt")
        id_jti = self.new_uuid()
        id_claims = {
            **self.user_claims(user, scopes),
            "iss": self.issuer, "aud": [client.id], "exp": now + ID_TOKEN_TTL, "iat": now, "jti": id_jti,
            "auth_time": grant.auth_time, "at_hash": key.token_hash(access_token), "amr": grant.amr,
            "type": "id-token",
        }
        if nonce:
            id_claims["nonce"] = nonce
        id_token = key.sign(id_claims, typ="JWT")
        refresh_token = self.random_string(40)
        self.store.put(IssuedToken(access_jti, "access", grant.id, client.id, user.id, scopes, access_exp))
        self.store.put(IssuedToken(id_jti, "id", grant.id, client.id, user.id, scopes, now + ID_TOKEN_TTL))
        self.store.put(RefreshToken(sha256_hex(refresh_token), grant.id, client.id, grant.scopes,
                                    now + client.refresh_token_minutes * 60))
        return {
            "access_token": access_token, "expires_in": access_exp - now, "id_token": id_token,
            "refresh_token": refresh_token, "scope": " ".join(scopes), "token_type": "bearer",
        }

    def check_access_token(self, token: str) -> tuple[IssuedToken, User, dict[str, Any]]:
        """Verify one of our access tokens (signature, issuer, expiry, not revoked); raise ``InvalidToken``."""
        claims = self.key.verify(token, typ="at+jwt")
        if claims.get("iss") != self.issuer:
            raise InvalidToken("the token was issued by someone else")
        exp = claims.get("exp")
        if not isinstance(exp, int) or isinstance(exp, bool) or exp <= self.clock():
            raise InvalidToken("the token is expired")
        jti = claims.get("jti")
        record = self.store.get(IssuedToken, jti) if isinstance(jti, str) else None
        grant = self.store.get(Grant, record.grant_id) if record is not None else None
        if record is None or record.kind != "access" or grant is None or grant.revoked:
            raise InvalidToken("the token was revoked")
        user = self.active_user(record.user_id)
        if user is None:
            raise InvalidToken("the user no longer exists or is disabled")
        return record, user, claims


def custom_claim_values(claims: list[dict[str, str]]) -> dict[str, Any]:
    """Custom claims as they appear in tokens: a value that is a JSON object, array, number or boolean is
    parsed (so ``["a","b"]`` becomes a list), anything else stays a string."""
    out: dict[str, Any] = {}
    for claim in claims:
        value: Any = claim["value"]
        try:
            parsed = json.loads(value)
            json.dumps(parsed, allow_nan=False)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict | list | bool | int | float):
            value = parsed
        out[claim["key"]] = value
    return out
