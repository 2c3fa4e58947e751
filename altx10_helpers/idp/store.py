"""The stand-in's state: plain records in memory, optionally written through to one SQLite file.

One re-entrant lock guards everything. Compound steps that must be atomic (redeem a code once,
rotate a refresh token once) hold ``store.lock`` around their read-check-write, so concurrent
logins can never redeem the same code twice.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

__all__ = [
    "AuthCode",
    "Client",
    "ClientSecret",
    "Consent",
    "Grant",
    "Group",
    "IssuedToken",
    "LoginCode",
    "Meta",
    "Passkey",
    "PasskeyChallenge",
    "RefreshToken",
    "Session",
    "SignupToken",
    "Store",
    "User",
]


@dataclass
class User:
    KIND: ClassVar[str] = "user"
    id: str
    username: str
    email: str
    email_verified: bool
    first_name: str
    last_name: str
    display_name: str
    is_admin: bool
    disabled: bool
    locale: str | None
    created_at: float
    custom_claims: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Group:
    KIND: ClassVar[str] = "group"
    id: str
    friendly_name: str
    name: str
    created_at: float
    user_ids: list[str] = field(default_factory=list)
    custom_claims: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Client:
    KIND: ClassVar[str] = "client"
    id: str
    name: str
    callback_urls: list[str]
    logout_callback_urls: list[str]
    is_public: bool
    pkce_enabled: bool
    skip_consent: bool
    access_token_minutes: int
    refresh_token_minutes: int
    launch_url: str | None
    created_at: float


@dataclass
class ClientSecret:
    """A client secret, kept only as a salted hash; ``prefix`` lets an admin tell secrets apart."""

    KIND: ClassVar[str] = "client_secret"
    id: str
    client_id: str
    prefix: str
    salt: str
    digest: str
    created_at: float
    expires_at: float | None


@dataclass
class LoginCode:
    """A one-time access token ("login code"); ``id`` is the SHA-256 of the code."""

    KIND: ClassVar[str] = "login_code"
    id: str
    user_id: str
    expires_at: float


@dataclass
class SignupToken:
    KIND: ClassVar[str] = "signup_token"
    id: str
    token: str
    expires_at: float
    usage_limit: int
    usage_count: int
    user_group_ids: list[str]
    created_at: float


@dataclass
class Session:
    """A browser session; ``id`` is the SHA-256 of the cookie value, ``csrf`` guards the consent form."""

    KIND: ClassVar[str] = "session"
    id: str
    user_id: str
    auth_time: int
    amr: list[str]
    expires_at: float
    csrf: str


@dataclass
class Consent:
    """The scopes a user has allowed a client; ``id`` is ``user_id|client_id``."""

    KIND: ClassVar[str] = "consent"
    id: str
    scopes: list[str]


@dataclass
class AuthCode:
    """An authorization code; ``id`` is its SHA-256. Kept after use so a replay can be detected."""

    KIND: ClassVar[str] = "auth_code"
    id: str
    client_id: str
    user_id: str
    scopes: list[str]
    redirect_uri: str
    redirect_uri_sent: bool
    nonce: str | None
    challenge: str | None
    challenge_method: str | None
    auth_time: int
    amr: list[str]
    expires_at: float
    used: bool = False
    grant_id: str | None = None


@dataclass
class Grant:
    """What one code exchange started: every token issued from it dies with it."""

    KIND: ClassVar[str] = "grant"
    id: str
    client_id: str
    user_id: str
    scopes: list[str]
    auth_time: int
    amr: list[str]
    created_at: float
    revoked: bool = False


@dataclass
class RefreshToken:
    """A refresh token; ``id`` is its SHA-256. ``used`` marks one that was rotated away."""

    KIND: ClassVar[str] = "refresh_token"
    id: str
    grant_id: str
    client_id: str
    scopes: list[str]
    expires_at: float
    used: bool = False


@dataclass
class IssuedToken:
    """An issued JWT (access or ID token) by ``jti``, so it can be revoked with its grant."""

    KIND: ClassVar[str] = "issued_token"
    id: str
    kind: str
    grant_id: str
    client_id: str
    user_id: str
    scopes: list[str]
    expires_at: float


@dataclass
class Meta:
    """Small settings that must survive a restart with a database file (the signing key)."""

    KIND: ClassVar[str] = "meta"
    id: str
    value: dict[str, Any]


@dataclass
class Passkey:
    """A registered WebAuthn credential; ``id`` is its credential id (base64url), the key is COSE (base64url)."""

    KIND: ClassVar[str] = "passkey"
    id: str
    user_id: str
    public_key: str
    sign_count: int
    name: str
    transports: list[str]
    backed_up: bool
    created_at: float
    last_used_at: float | None = None


@dataclass
class PasskeyChallenge:
    """One WebAuthn ceremony in progress; ``id`` is the SHA-256 of its cookie value. Used once."""

    KIND: ClassVar[str] = "passkey_challenge"
    id: str
    kind: str  # "register" or "login"
    challenge: str
    user_id: str | None
    expires_at: float


RECORD_TYPES = (User, Group, Client, ClientSecret, LoginCode, SignupToken, Session, Consent, AuthCode, Grant,
                RefreshToken, IssuedToken, Meta, Passkey, PasskeyChallenge)
_BY_KIND = {cls.KIND: cls for cls in RECORD_TYPES}

R = TypeVar("R")


class Store:
    """Records by kind and id. ``db_path`` (optional) makes every write go through to SQLite too."""

    def __init__(self, db_path: str | Path | None = None):
        self.lock = threading.RLock()
        self._tables: dict[str, dict[str, Any]] = {kind: {} for kind in _BY_KIND}
        self._db: sqlite3.Connection | None = None
        if db_path is not None:
            self._db = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS records "
                             "(kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id))")
            for kind, data in self._db.execute("SELECT kind, data FROM records ORDER BY rowid"):
                cls = _BY_KIND.get(kind)
                if cls is not None:
                    record = cls(**json.loads(data))
                    self._tables[kind][record.id] = record

    def get(self, cls: type[R], record_id: str) -> R | None:
        with self.lock:
            return self._tables[cls.KIND].get(record_id)  # type: ignore[attr-defined]

    def all(self, cls: type[R]) -> list[R]:
        with self.lock:
            return list(self._tables[cls.KIND].values())  # type: ignore[attr-defined]

    def put(self, record: Any) -> None:
        with self.lock:
            self._tables[record.KIND][record.id] = record
            if self._db is not None:
                self._db.execute("INSERT OR REPLACE INTO records (kind, id, data) VALUES (?, ?, ?)",
                                 (record.KIND, record.id, json.dumps(dataclasses.asdict(record))))

    def delete(self, cls: type[Any], record_id: str) -> None:
        with self.lock:
            self._tables[cls.KIND].pop(record_id, None)
            if self._db is not None:
                self._db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (cls.KIND, record_id))

    def close(self) -> None:
        with self.lock:
            if self._db is not None:
                self._db.close()
                self._db = None
