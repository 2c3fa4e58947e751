"""The app's own session JWT, signed timestamped state, and a ``jti`` deny-list.

Pocket ID *identifies* the user; the app then issues its *own* HS256/HS512 JWT
cookie that *authorizes* them. The claims keep the author's shape::

    {"sub", "exp", "iat", "userInfo": {sub email name given_name family_name
     picture email_verified groups}, "dynamic": {...}, "jti", "iss", "aud"}

What differs from the author's library, on purpose: the algorithm comes from
configuration (``JWT_ALG``), never from the token's header; secrets shorter than
the hash are refused; the time rule ``iat <= now < exp`` has a clock leeway; the
signed state carries a random nonce and is checked in constant time before any
of it is parsed; every token carries a ``jti`` so it can be revoked early; and
every token names the app that minted it and the app it is for.

Which app: the *app id*, both ``iss`` and ``aud`` of its session tokens. By
default it is the app's public base URL, the origin of its redirect URI
(``OIDC_REDIRECT_URI=https://notes.altx10.dev/auth/callback`` gives
``https://notes.altx10.dev``), so two apps that share a ``JWT_SECRET``
(notes.altx10.dev and photos.altx10.dev) still refuse each other's cookies
(``WrongIssuer`` / ``WrongAudience``), while instances of one app behind a load
balancer, which share the URL, accept each other's. A signer with no app id
(``SessionSigner(secret=...)`` on its own) mints tokens that name no app and
refuses tokens that name one; ``create_app`` always binds its signer to an app.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .anatomy import parse_json_object
from .b64 import b64url_decode, b64url_encode
from .config import Settings
from .errors import (
    BadSignature,
    Base64urlError,
    ConfigurationError,
    Expired,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    OidcError,
    RevokedToken,
    WeakKey,
)
from .jws import sign, verify

__all__ = [
    "DEFAULT_LEEWAY",
    "DEFAULT_LIFETIME",
    "SESSION_ALGORITHMS",
    "STATE_MAX_AGE",
    "DenyList",
    "RandomSecretWarning",
    "SessionSigner",
    "UserInfo",
    "UserSession",
    "app_origin",
    "create_token",
    "sign_state",
    "validate_signed_state",
    "validate_token",
]

#: The only algorithms a session JWT may use; which one is configuration (JWT_ALG).
SESSION_ALGORITHMS = {"HS256": 32, "HS512": 64}  # alg -> minimum secret length in bytes (the hash length)
#: The author's session lifetime: one day.
DEFAULT_LIFETIME = 24 * 3600
#: Seconds of clock skew tolerated between app instances (iat in the future, exp just passed).
DEFAULT_LEEWAY = 30.0
#: Signed state lives 5 minutes, as in the author's library.
STATE_MAX_AGE = 300.0
#: States travel in URLs; anything longer is refused before any work.
MAX_STATE_LENGTH = 4096

_STATE_DOMAIN = b"altx10 signed state\x00"  # so a state MAC can never stand for any other HMAC we compute
_USERINFO_STRINGS = ("email", "name", "given_name", "family_name", "picture")


class RandomSecretWarning(UserWarning):
    """JWT_SECRET is unset, so sessions are signed with a random secret that dies with the process."""


def _secret_bytes(secret: bytes | str, minimum: int, what: str) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, (bytes, bytearray)):
        raise ConfigurationError(f"the {what} secret must be bytes or str, not {type(secret).__name__}")
    if len(secret) < minimum:
        raise WeakKey(f"the {what} secret is {len(secret)} bytes; it needs at least {minimum} "
                      f"(the hash length), e.g. secrets.token_urlsafe(64)")
    return bytes(secret)


def _check_alg(alg: str) -> int:
    if not isinstance(alg, str) or alg not in SESSION_ALGORITHMS:
        raise ConfigurationError(f"session tokens use HS256 or HS512 (JWT_ALG), not {alg!r}")
    return SESSION_ALGORITHMS[alg]


def _now(now: float | None) -> float:
    return time.time() if now is None else float(now)


def _check_app_id(app_id: str | None) -> str | None:
    if app_id is not None and (not isinstance(app_id, str) or not app_id.strip()):
        raise ConfigurationError(f"an app id must be a non-empty string, e.g. https://notes.altx10.dev, not {app_id!r}")
    return app_id


def _check_leeway(leeway: float) -> float:
    if isinstance(leeway, bool) or not isinstance(leeway, (int, float)) or not 0 <= leeway < math.inf:
        raise ConfigurationError(f"leeway must be a finite, non-negative number of seconds, not {leeway!r}")
    return leeway


def app_origin(url: str) -> str:
    """The default app id for an app at ``url``: its origin, lower-cased (``https://notes.altx10.dev``).

    The redirect URI of an altx10 app is ``<origin>/auth/callback``, so its origin is the app's public base URL.
    """
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"an app's URL must be an absolute http(s) URL, not {url!r}")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


@dataclass(frozen=True)
class UserInfo:
    """The OIDC userinfo fields the session keeps (the author's ``OIDCUserInfo``); others are dropped."""

    sub: str
    email: str | None = None
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    picture: str | None = None
    email_verified: bool | None = None
    groups: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UserInfo:
        """Pick and type-check the known fields of a userinfo response; raise ``OidcError`` if one is wrong."""

        def bad(why: str) -> OidcError:
            return OidcError(f"userinfo: {why}", step="userinfo", error="invalid_userinfo")

        if not isinstance(data, Mapping):
            raise bad(f"expected a JSON object, got {type(data).__name__}")
        sub = data.get("sub")
        if not isinstance(sub, str) or not sub:
            raise bad("'sub' must be a non-empty string")
        strings = {}
        for name in _USERINFO_STRINGS:
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise bad(f"{name!r} must be a string, got {type(value).__name__}")
            strings[name] = value
        verified = data.get("email_verified")
        if verified is not None and not isinstance(verified, bool):
            raise bad(f"'email_verified' must be true or false, got {verified!r}")
        groups = data.get("groups")
        if groups is not None:
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                raise bad("'groups' must be a list of strings")
            groups = tuple(groups)
        return cls(sub=sub, email_verified=verified, groups=groups, **strings)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object for the ``userInfo`` claim; unset fields are left out (as the author's upickle does)."""
        out: dict[str, Any] = {"sub": self.sub}
        for name in (*_USERINFO_STRINGS, "email_verified"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.groups is not None:
            out["groups"] = list(self.groups)
        return out


@dataclass(frozen=True)
class UserSession:
    """A signed-in user, as the session JWT carries them (field names are the author's claim names)."""

    sub: str
    exp: int
    iat: int
    userInfo: UserInfo  # the author's claim name: JSON and object read the same
    dynamic: dict[str, Any] = field(default_factory=dict)
    jti: str | None = None

    @classmethod
    def new(cls, userinfo: UserInfo | Mapping[str, Any], *, lifetime: int = DEFAULT_LIFETIME,
            now: float | None = None, dynamic: Mapping[str, Any] | None = None,
            jti: str | None = None, random_bytes: Callable[[int], bytes] = os.urandom) -> UserSession:
        """A session starting ``now`` and lasting ``lifetime`` seconds; ``jti`` is 128 random bits unless given."""
        info = userinfo if isinstance(userinfo, UserInfo) else UserInfo.from_dict(userinfo)
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime <= 0:
            raise ConfigurationError(f"lifetime must be a positive number of seconds, not {lifetime!r}")
        iat = math.floor(_now(now))
        return cls(sub=info.sub, exp=iat + lifetime, iat=iat, userInfo=info, dynamic=dict(dynamic or {}),
                   jti=jti if jti is not None else b64url_encode(random_bytes(16)))

    def to_claims(self) -> dict[str, Any]:
        """The JWT claims set, in the author's shape (plus ``jti`` when set)."""
        claims: dict[str, Any] = {"sub": self.sub, "exp": self.exp, "iat": self.iat,
                                  "userInfo": self.userInfo.to_dict(), "dynamic": self.dynamic}
        if self.jti is not None:
            claims["jti"] = self.jti
        return claims

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> UserSession:
        """Rebuild a session from verified claims; a claim of the wrong shape is ``MalformedToken``."""
        for name in ("sub", "exp", "iat", "userInfo"):
            if name not in claims:
                raise MissingClaim(f"a session token needs {name!r}")
        sub, exp, iat = claims["sub"], claims["exp"], claims["iat"]
        if not isinstance(sub, str) or not sub:
            raise MalformedToken("'sub' must be a non-empty string")
        for name, value in (("exp", exp), ("iat", iat)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
                raise MalformedToken(f"{name!r} must be a whole number of seconds since the epoch, got {value!r}")
        try:
            info = UserInfo.from_dict(claims["userInfo"])
        except OidcError as exc:
            raise MalformedToken(f"'userInfo' claim: {exc}") from None
        if info.sub != sub:
            raise MalformedToken("'userInfo.sub' differs from 'sub'")
        dynamic = claims.get("dynamic", {})
        if not isinstance(dynamic, dict):
            raise MalformedToken("'dynamic' must be a JSON object")
        jti = claims.get("jti")
        if jti is not None and (not isinstance(jti, str) or not jti):
            raise MalformedToken("'jti' must be a non-empty string")
        return cls(sub=sub, exp=exp, iat=iat, userInfo=info, dynamic=dict(dynamic), jti=jti)

    def check_time(self, *, now: float | None = None, leeway: float = DEFAULT_LEEWAY) -> None:
        """The author's rule ``iat <= now < exp``, each side widened by ``leeway``; raise if it fails."""
        t = _now(now)
        if t + leeway < self.iat:
            raise NotYetValid(f"issued at {self.iat}, after now ({t:.0f}, leeway {leeway:g} s)")
        if t - leeway >= self.exp:
            raise Expired(f"expired at {self.exp}, before now ({t:.0f}, leeway {leeway:g} s)")

    def is_valid(self, *, now: float | None = None, leeway: float = DEFAULT_LEEWAY) -> bool:
        """True while ``iat <= now < exp`` (with leeway), like the author's ``isValid``."""
        try:
            self.check_time(now=now, leeway=leeway)
        except (Expired, NotYetValid):
            return False
        return True


def create_token(session_or_userinfo: UserSession | UserInfo | Mapping[str, Any], *, secret: bytes | str,
                 alg: str = "HS256", lifetime: int = DEFAULT_LIFETIME, now: float | None = None,
                 jti: str | None = None, dynamic: Mapping[str, Any] | None = None,
                 random_bytes: Callable[[int], bytes] = os.urandom, issuer: str | None = None,
                 audience: str | None = None) -> str:
    """Sign a session JWT. A ``UserSession`` is signed as it is; userinfo starts a new session ``now``.

    ``issuer`` and ``audience`` (the app id, see the module docstring) are added as ``iss`` and ``aud``.
    """
    key = _secret_bytes(secret, _check_alg(alg), alg)
    _check_app_id(issuer)
    _check_app_id(audience)
    if isinstance(session_or_userinfo, UserSession):
        session = session_or_userinfo
    else:
        session = UserSession.new(session_or_userinfo, lifetime=lifetime, now=now, dynamic=dynamic, jti=jti,
                                  random_bytes=random_bytes)
    claims = session.to_claims()
    if issuer is not None:
        claims["iss"] = issuer
    if audience is not None:
        claims["aud"] = audience
    return sign(claims, key, alg)


def validate_token(token: str, *, secret: bytes | str, alg: str = "HS256", leeway: float = DEFAULT_LEEWAY,
                   now: float | None = None, deny_list: DenyList | None = None, issuer: str | None = None,
                   audience: str | None = None) -> UserSession:
    """Verify a session JWT with the *configured* algorithm and return its session, or raise ``InvalidToken``.

    The token's own ``alg`` header is only compared with ``alg``; a token that
    names another algorithm (HS512, RS256, none) is ``DisallowedAlgorithm``.
    With ``issuer``/``audience`` the token's ``iss``/``aud`` must be present and
    equal (``MissingClaim``, ``WrongIssuer``, ``WrongAudience``); without an
    ``audience``, a token that names one is ``WrongAudience`` (it is for some app).
    A ``deny_list`` must remember revoked tokens at least as long as ``leeway``
    lets them validate, or this raises ``ConfigurationError``.
    """
    key = _secret_bytes(secret, _check_alg(alg), alg)
    _check_app_id(issuer)
    _check_app_id(audience)
    if deny_list is not None and deny_list.leeway < leeway:
        raise ConfigurationError(f"the deny-list forgets a revoked token {deny_list.leeway:g} s after its exp, but "
                                 f"validation accepts it until {leeway:g} s after: the token would come back to life. "
                                 "Use SessionSigner.new_deny_list() or DenyList(leeway=<the signer's leeway>).")
    t = _now(now)
    claims = verify(token, key, [alg], issuer=issuer, audience=audience, leeway=leeway, now=t,
                    required=("sub", "exp", "iat"))
    session = UserSession.from_claims(claims)
    session.check_time(now=t, leeway=leeway)
    if deny_list is not None and session.jti is not None and deny_list.is_denied(session.jti, now=t):
        raise RevokedToken(f"session {session.jti} was revoked")
    return session


def sign_state(payload: Mapping[str, Any], *, secret: bytes | str, now: float | None = None,
               random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """A URL-safe, HMAC-SHA256-signed, timestamped state (``body.mac``) carrying ``payload``.

    A random nonce makes every state unique, so two logins to the same page
    never share a state value.
    """
    key = _secret_bytes(secret, 32, "state")
    if not isinstance(payload, Mapping):
        raise ConfigurationError(f"the state payload must be a dict, not {type(payload).__name__}")
    body = b64url_encode(json.dumps({"t": round(_now(now), 3), "n": b64url_encode(random_bytes(16)),
                                     "p": dict(payload)}, separators=(",", ":")))
    mac = hmac.new(key, _STATE_DOMAIN + body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{b64url_encode(mac)}"


def validate_signed_state(state: str, *, secret: bytes | str, max_age: float = STATE_MAX_AGE,
                          now: float | None = None, leeway: float = DEFAULT_LEEWAY) -> dict[str, Any]:
    """Check a state from ``sign_state`` (MAC first, in constant time; then its age) and return its payload.

    Raises ``MalformedToken`` (not a state), ``BadSignature`` (tampered or
    another secret), ``Expired`` (older than ``max_age``) or ``NotYetValid``
    (stamped more than ``leeway`` seconds in the future).
    """
    key = _secret_bytes(secret, 32, "state")
    if not isinstance(state, str):
        raise MalformedToken(f"a state must be a str, not {type(state).__name__}")
    if len(state) > MAX_STATE_LENGTH:
        raise MalformedToken(f"the state is {len(state)} characters, over the {MAX_STATE_LENGTH} limit")
    parts = state.split(".")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise MalformedToken("a signed state is two dot-separated base64url segments")
    try:
        body = b64url_decode(parts[0])
        given = b64url_decode(parts[1])
    except Base64urlError as exc:
        raise MalformedToken(f"state: {exc}") from None
    expected = hmac.new(key, _STATE_DOMAIN + parts[0].encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise BadSignature("the state's signature does not match: tampered, or signed with another secret")
    data = parse_json_object(body, "state")
    stamped, payload = data.get("t"), data.get("p")
    if isinstance(stamped, bool) or not isinstance(stamped, (int, float)) or not isinstance(payload, dict):
        raise MalformedToken("the state lacks its timestamp or payload")
    age = _now(now) - stamped
    if age < -leeway:
        raise NotYetValid(f"the state is stamped {-age:.0f} s in the future")
    if age > max_age:
        raise Expired(f"the state is {age:.0f} s old; states live {max_age:.0f} s")
    return payload


class DenyList:
    """Revoked ``jti`` values, each kept only until its token would have expired anyway.

    This is the middle ground between a pure JWT (irrevocable until ``exp``)
    and a server-side session: the deny-list is shared state, but it only
    holds tokens revoked early, and ``prune`` forgets them once they are dead.
    "Dead" means past ``exp`` plus ``leeway``, so ``leeway`` must be at least
    the validating signer's (``validate_token`` and ``create_app`` refuse a
    shorter one); ``SessionSigner.new_deny_list()`` makes a matching list.
    """

    def __init__(self, *, leeway: float = DEFAULT_LEEWAY, clock: Callable[[], float] = time.time):
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._leeway = _check_leeway(leeway)
        self._clock = clock
        self._prune_at = 1024

    @property
    def leeway(self) -> float:
        """Seconds past a token's ``exp`` that its entry is kept (and the token refused)."""
        return self._leeway

    def deny(self, jti: str, exp: float) -> None:
        """Refuse ``jti`` from now on, until ``exp`` (plus leeway) has passed."""
        if not isinstance(jti, str) or not jti:
            raise ConfigurationError("a jti to deny must be a non-empty string")
        with self._lock:
            self._until[jti] = max(self._until.get(jti, exp), exp)
            crowded = len(self._until) >= self._prune_at
        if crowded:  # amortised clean-up, so a busy app's list stays the size of its live revocations
            self.prune()
            self._prune_at = max(1024, 2 * len(self._until))

    def revoke(self, session: UserSession) -> None:
        """Deny a session's token; a token without ``jti`` cannot be revoked on its own."""
        if session.jti is None:
            raise ConfigurationError("this session token has no jti, so it cannot be revoked on its own")
        self.deny(session.jti, session.exp)

    def is_denied(self, jti: str, *, now: float | None = None) -> bool:
        """True if ``jti`` was denied and its token has not yet expired."""
        t = self._clock() if now is None else now
        with self._lock:
            until = self._until.get(jti)
        return until is not None and t < until + self._leeway

    def prune(self, *, now: float | None = None) -> int:
        """Forget entries whose tokens have expired (validation refuses those anyway); return how many."""
        t = self._clock() if now is None else now
        with self._lock:
            dead = [jti for jti, until in self._until.items() if t >= until + self._leeway]
            for jti in dead:
                del self._until[jti]
        return len(dead)

    def __len__(self) -> int:
        return len(self._until)

    def __contains__(self, jti: object) -> bool:
        return isinstance(jti, str) and self.is_denied(jti)


@dataclass(frozen=True)
class SessionSigner:
    """Session tokens and states with one configured secret and algorithm, so routes cannot mix them up."""

    secret: bytes = field(repr=False)
    alg: str = "HS256"
    lifetime: int = DEFAULT_LIFETIME
    leeway: float = DEFAULT_LEEWAY
    #: ``iss`` and ``aud`` of this app's tokens (see the module docstring); None: tokens that name no app.
    app_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "secret", _secret_bytes(self.secret, _check_alg(self.alg), self.alg))
        _check_leeway(self.leeway)
        _check_app_id(self.app_id)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, lifetime: int = DEFAULT_LIFETIME,
                      leeway: float = DEFAULT_LEEWAY, random_bytes: Callable[[int], bytes] = os.urandom,
                      app_id: str | None = None) -> SessionSigner:
        """Read ``JWT_SECRET`` and ``JWT_ALG``; with no secret, warn and use 64 random bytes.

        The app id is ``app_id`` if given, else the origin of ``OIDC_REDIRECT_URI`` (the app's public base
        URL), else None (``create_app`` then binds the signer to its own redirect URI's origin).
        """
        s = Settings.from_env() if settings is None else settings
        _check_alg(s.jwt_alg)
        if app_id is None and s.redirect_uri:
            app_id = app_origin(s.redirect_uri)
        if s.jwt_secret is None:
            warnings.warn("JWT_SECRET is not set: signing sessions with a random secret, so every session ends "
                          "when this process stops and other app instances cannot read them. Set JWT_SECRET, e.g. "
                          "to the output of: python -c 'import secrets; print(secrets.token_urlsafe(64))'",
                          RandomSecretWarning, stacklevel=2)
            secret = random_bytes(64)
        else:
            secret = s.jwt_secret.encode("utf-8")
        return cls(secret=secret, alg=s.jwt_alg, lifetime=lifetime, leeway=leeway, app_id=app_id)

    def new_deny_list(self, *, clock: Callable[[], float] = time.time) -> DenyList:
        """A ``DenyList`` that keeps revoked tokens as long as this signer's leeway could still accept them."""
        return DenyList(leeway=self.leeway, clock=clock)

    def create_token(self, session_or_userinfo: UserSession | UserInfo | Mapping[str, Any], *,
                     now: float | None = None, jti: str | None = None, dynamic: Mapping[str, Any] | None = None,
                     random_bytes: Callable[[int], bytes] = os.urandom) -> str:
        """``create_token`` with this signer's secret, algorithm, lifetime and app id (as ``iss`` and ``aud``)."""
        return create_token(session_or_userinfo, secret=self.secret, alg=self.alg, lifetime=self.lifetime,
                            now=now, jti=jti, dynamic=dynamic, random_bytes=random_bytes, issuer=self.app_id,
                            audience=self.app_id)

    def validate_token(self, token: str, *, now: float | None = None,
                       deny_list: DenyList | None = None) -> UserSession:
        """``validate_token`` with this signer's secret, algorithm, leeway and app id (``iss`` and ``aud``)."""
        return validate_token(token, secret=self.secret, alg=self.alg, leeway=self.leeway, now=now,
                              deny_list=deny_list, issuer=self.app_id, audience=self.app_id)

    def sign_state(self, payload: Mapping[str, Any], *, now: float | None = None,
                   random_bytes: Callable[[int], bytes] = os.urandom) -> str:
        """``sign_state`` with this signer's secret."""
        return sign_state(payload, secret=self.secret, now=now, random_bytes=random_bytes)

    def validate_signed_state(self, state: str, *, max_age: float = STATE_MAX_AGE,
                              now: float | None = None) -> dict[str, Any]:
        """``validate_signed_state`` with this signer's secret and leeway."""
        return validate_signed_state(state, secret=self.secret, max_age=max_age, now=now, leeway=self.leeway)
