"""``PocketIdClient``: the relying party of the altx10 apps, with the author's method names and the checks
the author's library leaves out (PKCE, nonce, ``iss`` on the callback, the ID token verified, userinfo
``sub`` matched, refresh-token rotation checked).

Five calls sign a user in without a browser::

    client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, redirect_uri, api_key=idp.api_key)
    attempt = client.start_login()
    result = client.sign_in_headless(attempt, demo.user["id"])
    result.describe()

and each step is also a method of its own (``parse_callback``, ``exchange_code_for_tokens``,
``validate_id_token``, ``get_user_info``, ``refresh_access_token``, ``build_end_session_url``).
Time (``clock``), randomness (``random_bytes``) and the network (``session``) are parameters.
"""

from __future__ import annotations

import secrets
import time
from base64 import b64encode
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from ..b64 import b64url_encode
from ..config import Settings
from ..errors import (
    ClaimMismatch,
    ConfigurationError,
    DiscoveryError,
    NetworkError,
    OidcError,
    TokenResponseError,
    UserInfoError,
)
from ..jwk import KeySet
from ._http import field_str, read_json_object, send
from .discovery import ProviderMetadata, fetch_metadata
from .login import CallbackResult, LoginAttempt, follow_authorization, origin, parse_callback
from .pkce import METHODS, Pkce
from .tokens import (
    ASYMMETRIC_ALGORITHMS,
    HMAC_ALGORITHMS,
    IdToken,
    TokenSet,
    parse_token_response,
    validate_id_token,
)

__all__ = ["AUTH_METHODS", "DEFAULT_SCOPE", "LoginResult", "PocketIdClient", "SignupToken"]

#: The author's scope; add ``offline_access`` where a provider wants it before issuing refresh tokens.
DEFAULT_SCOPE = "openid email profile groups"
#: How the client proves itself at the token endpoint (RFC 6749 2.3.1; ``none`` is a public client).
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")

_USERINFO_TYPES: dict[str, type] = {
    "email": str, "name": str, "given_name": str, "family_name": str, "preferred_username": str,
    "display_name": str, "picture": str, "email_verified": bool, "groups": list,
}


@dataclass(frozen=True)
class LoginResult:
    """A completed login: the tokens, the validated ID token and (when fetched) the userinfo answer."""

    tokens: TokenSet
    id_token: IdToken
    userinfo: Mapping[str, Any] | None = None

    @property
    def sub(self) -> str:
        return self.id_token.sub

    def describe(self) -> str:
        """One line saying who signed in, for a notebook."""
        info: Mapping[str, Any] = {**self.id_token.claims, **(self.userinfo or {})}
        name = info.get("name") or info.get("preferred_username") or self.sub
        email = f" <{info['email']}>" if info.get("email") else ""
        groups = f", groups {', '.join(info['groups'])}" if info.get("groups") else ""
        return f"Signed in as {name}{email} (sub {self.sub}{groups})"


@dataclass(frozen=True)
class SignupToken:
    """A Pocket ID signup token (admin API): ``token`` goes into the link a new user opens."""

    id: str
    token: str = field(repr=False)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


class PocketIdClient:
    """An OpenID Connect relying party for Pocket ID (and any provider that follows the standards).

    ``issuer`` is the provider's URL exactly as its discovery document names it (for Pocket ID, its
    ``APP_URL``, no trailing slash). ``internal_url`` is where this process reaches the provider when
    that differs (``INTERNAL_APP_URL``). ``api_key`` (Pocket ID's ``STATIC_API_KEY``) is only needed for
    the admin calls: signup tokens and headless sign-in.

    ``id_token_algorithms`` pins the signature algorithms; by default, the provider's advertised ones
    that are asymmetric (never ``none``, never a MAC keyed with our own secret unless listed here).
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str | None = None,
        redirect_uri: str | None = None,
        *,
        api_key: str | None = None,
        internal_url: str | None = None,
        auth_method: str = "client_secret_basic",
        scope: str = DEFAULT_SCOPE,
        id_token_algorithms: Sequence[str] | None = None,
        trusted_audiences: Collection[str] = (),
        leeway: float = 60,
        login_ttl: float = 600,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
        timeout: float = 10,
        jwks_ttl: float = 300,
        jwks_min_refetch_interval: float = 60,
        metadata: ProviderMetadata | None = None,
    ) -> None:
        for name, value in (("issuer", issuer), ("client_id", client_id)):
            if not isinstance(value, str) or not value:
                raise ConfigurationError(f"{name} is required")
        if urlsplit(issuer).scheme not in ("http", "https"):
            raise ConfigurationError(f"issuer must be an http(s) URL, got {issuer!r}")
        if auth_method not in AUTH_METHODS:
            raise ConfigurationError(f"auth_method must be one of {AUTH_METHODS}, got {auth_method!r}")
        if auth_method != "none" and not client_secret:
            raise ConfigurationError(f"{auth_method} needs client_secret (OIDC_CLIENT_SECRET)")
        if "openid" not in scope.split():
            raise ConfigurationError("scope must include 'openid' for an OpenID Connect login")
        if id_token_algorithms is not None:
            unknown = [a for a in id_token_algorithms if a not in ASYMMETRIC_ALGORITHMS + HMAC_ALGORITHMS]
            if unknown or not id_token_algorithms:
                raise ConfigurationError(f"id_token_algorithms must be a non-empty list of JWS algorithms; "
                                         f"not usable: {unknown}")
            if any(a in HMAC_ALGORITHMS for a in id_token_algorithms) and not client_secret:
                raise ConfigurationError("MAC ID token algorithms need the client secret")
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.api_key = api_key
        self.internal_url = (internal_url or issuer).rstrip("/")
        self.auth_method = auth_method
        self.scope = scope
        self.trusted_audiences = tuple(trusted_audiences)
        self.leeway = leeway
        self.login_ttl = login_ttl
        self.session = session if session is not None else requests.Session()
        self.clock = clock
        self.random_bytes = random_bytes
        self.timeout = timeout
        self._configured_algorithms = tuple(id_token_algorithms) if id_token_algorithms is not None else None
        self._jwks_ttl = jwks_ttl
        self._jwks_min_refetch_interval = jwks_min_refetch_interval
        self._metadata = metadata
        self._keys: KeySet | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> PocketIdClient:
        """Build from the author's variables (``POCKET_ID_ENDPOINT``, ``OIDC_CLIENT_ID``, ``OIDC_CLIENT_SECRET``,
        ``OIDC_REDIRECT_URI``, ``POCKET_ID_API_KEY``); keyword ``overrides`` win."""
        s = Settings.from_env() if settings is None else settings
        if s.pocket_id_endpoint is None and "issuer" not in overrides:
            raise ConfigurationError("POCKET_ID_ENDPOINT is not set (use the local stand-in's URL as issuer=...)")
        args: dict[str, Any] = {"issuer": s.pocket_id_endpoint, "client_id": s.client_id,
                                "client_secret": s.client_secret, "redirect_uri": s.redirect_uri,
                                "api_key": s.api_key}
        args.update(overrides)
        if not args["client_id"]:
            raise ConfigurationError("OIDC_CLIENT_ID is not set")
        return cls(**args)

    # -- discovery and keys -------------------------------------------------------------------------

    def discover(self) -> ProviderMetadata:
        """Fetch (again) and check the discovery document; its ``issuer`` must equal ours exactly."""
        self._metadata = fetch_metadata(self.issuer, session=self.session, base_url=self.internal_url,
                                        timeout=self.timeout)
        self._keys = None
        return self._metadata

    @property
    def metadata(self) -> ProviderMetadata:
        """The provider's checked discovery document, fetched on first use."""
        return self._metadata if self._metadata is not None else self.discover()

    @property
    def keys(self) -> KeySet:
        """The issuer's JWKS cache: fetched on first use, refetched once on an unknown ``kid``."""
        if self._keys is None:
            self._keys = KeySet(self.metadata.jwks_uri, fetch=self._fetch_jwks, ttl=self._jwks_ttl,
                                min_refetch_interval=self._jwks_min_refetch_interval, clock=self.clock)
        return self._keys

    def _fetch_jwks(self, uri: str) -> dict[str, Any]:
        step, what = "jwks", "JWKS"
        resp = send(self.session, "GET", uri, step=step, error=DiscoveryError, timeout=self.timeout,
                    headers={"Accept": "application/json"})
        return read_json_object(resp, step=step, error=DiscoveryError, what=what)

    @property
    def id_token_algorithms(self) -> tuple[str, ...]:
        """The pinned ID token algorithms: configured, else the provider's advertised asymmetric ones."""
        if self._configured_algorithms is not None:
            return self._configured_algorithms
        advertised = self.metadata.id_token_signing_alg_values_supported
        algs = tuple(a for a in advertised if a in ASYMMETRIC_ALGORITHMS)
        if not algs:
            raise ConfigurationError(f"the provider signs ID tokens with {list(advertised)}, none of them an "
                                     "asymmetric algorithm; pass id_token_algorithms=... to choose explicitly")
        return algs

    def _browser_url(self, url: str) -> str:
        """A provider URL as this process must request it (``APP_URL`` swapped for ``INTERNAL_APP_URL``)."""
        if self.internal_url != self.issuer and url.startswith(self.issuer):
            return self.internal_url + url[len(self.issuer):]
        return url

    # -- the authorization request ------------------------------------------------------------------

    def _random_token(self, nbytes: int = 16) -> str:
        return b64url_encode(self.random_bytes(nbytes))

    def start_login(self, *, scope: str | None = None, pkce: str | None = "S256", nonce: bool = True,
                    extra_params: Mapping[str, str] | None = None) -> LoginAttempt:
        """A new attempt with fresh state (22 characters), nonce and PKCE S256; its URL is ``authorization_url``.

        ``pkce=None`` leaves PKCE out (only for teaching what it prevents; public clients refuse it).
        """
        if not self.redirect_uri:
            raise ConfigurationError("redirect_uri (OIDC_REDIRECT_URI) is required to log in")
        if pkce is not None and pkce not in METHODS:
            raise ConfigurationError(f"pkce must be one of {METHODS} or None, got {pkce!r}")
        if pkce is None and self.auth_method == "none":
            raise ConfigurationError("a public client must use PKCE")
        now = self.clock()
        state = self._random_token()
        nonce_value = self._random_token() if nonce else None
        challenge = Pkce.generate(pkce, self.random_bytes) if pkce else None
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                  "scope": scope or self.scope, "state": state}
        if nonce_value:
            params["nonce"] = nonce_value
        if challenge:
            params.update(code_challenge=challenge.challenge, code_challenge_method=challenge.method)
        clash = sorted(set(extra_params or {}) & set(params))
        if clash:
            raise ConfigurationError(f"extra_params may not replace {clash}: the attempt checks those later")
        params.update(extra_params or {})
        return LoginAttempt(
            authorization_url=self.build_authorization_url(params),
            redirect_uri=self.redirect_uri,
            scope=params["scope"],
            state=state,
            nonce=nonce_value,
            code_verifier=challenge.verifier if challenge else None,
            code_challenge_method=pkce,
            created_at=now,
            expires_at=now + self.login_ttl,
        )

    def build_authorization_url(self, params: Mapping[str, str]) -> str:
        """The provider's authorization endpoint with ``params`` as its query (the author's name)."""
        endpoint = self.metadata.authorization_endpoint
        return endpoint + ("&" if urlsplit(endpoint).query else "?") + urlencode(params, quote_via=quote)

    # -- the callback, the code exchange and the ID token ------------------------------------------

    def parse_callback(self, redirect: str | Mapping[str, str], attempt: LoginAttempt) -> CallbackResult:
        """Check the redirect back against ``attempt`` (state, ``iss``, error); consumes the attempt."""
        return parse_callback(redirect, attempt, issuer=self.issuer, now=self.clock(),
                              iss_required=self.metadata.authorization_response_iss_parameter_supported)

    def _client_auth(self, form: dict[str, str]) -> dict[str, str]:
        """Add client authentication to a token request; returns the headers to send."""
        if self.auth_method == "client_secret_basic":
            # RFC 6749 2.3.1: each part form-urlencoded before the Basic encoding.
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret or '', safe='')}"
            return {"Authorization": "Basic " + b64encode(pair.encode()).decode("ascii")}
        form["client_id"] = self.client_id
        if self.auth_method == "client_secret_post":
            form["client_secret"] = self.client_secret or ""
        return {}

    def _token_request(self, form: dict[str, str], *, step: str, require_id_token: bool) -> TokenSet:
        headers = {"Accept": "application/json", **self._client_auth(form)}
        resp = send(self.session, "POST", self.metadata.token_endpoint, step=step, error=TokenResponseError,
                    timeout=self.timeout, data=form, headers=headers)
        body = read_json_object(resp, step=step, error=TokenResponseError, what="token endpoint")
        return parse_token_response(body, step=step, require_id_token=require_id_token)

    def exchange_code_for_tokens(self, code: str, attempt: LoginAttempt) -> TokenSet:
        """Redeem the code (with the PKCE verifier and the same redirect URI); the response is type-checked."""
        if not attempt.consumed:
            raise ConfigurationError("check the callback with parse_callback(...) before exchanging its code")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": attempt.redirect_uri}
        if attempt.code_verifier:
            form["code_verifier"] = attempt.code_verifier
        return self._token_request(form, step="token", require_id_token=True)

    def validate_id_token(self, id_token: str | None, *, nonce: str | None,
                          access_token: str | None = None) -> IdToken:
        """OIDC Core 3.1.3.7 with the issuer's JWKS and the pinned algorithms; raises ``InvalidToken`` subclasses."""
        try:
            return validate_id_token(id_token, keys=self.keys, issuer=self.issuer, client_id=self.client_id,
                                     algorithms=self.id_token_algorithms, nonce=nonce, access_token=access_token,
                                     client_secret=self.client_secret, trusted_audiences=self.trusted_audiences,
                                     leeway=self.leeway, now=self.clock())
        except NetworkError as exc:  # the JWKS cache could not load the issuer's keys
            raise DiscoveryError(f"the issuer's signing keys could not be loaded: {exc}", step="jwks") from exc

    def get_user_info(self, access_token: str, *, expected_sub: str) -> dict[str, Any]:
        """GET userinfo with the Bearer token; its ``sub`` must be the ID token's (OIDC Core 5.3.2)."""
        step, what = "userinfo", "userinfo"
        endpoint = self.metadata.userinfo_endpoint
        if endpoint is None:
            raise UserInfoError("the provider advertises no userinfo_endpoint", step=step)
        resp = send(self.session, "GET", endpoint, step=step, error=UserInfoError, timeout=self.timeout,
                    headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"})
        if resp.status_code == 401:
            challenge = resp.headers.get("WWW-Authenticate", "")
            raise UserInfoError(f"userinfo refused the access token (HTTP 401 {challenge})".rstrip(), step=step,
                                error="invalid_token", description=challenge)
        info = read_json_object(resp, step=step, error=UserInfoError, what=what)
        sub = field_str(info, "sub", step=step, error=UserInfoError, what=what)
        if sub != expected_sub:
            raise UserInfoError(f"userinfo describes sub {sub!r}, but the ID token is about {expected_sub!r}; "
                                "refusing it (OIDC Core 5.3.2)", step=step, error="sub_mismatch")
        for name, kind in _USERINFO_TYPES.items():
            if name in info and not isinstance(info[name], kind):
                raise UserInfoError(f"{what}: {name!r} must be {kind.__name__}, "
                                    f"got {type(info[name]).__name__}", step=step)
        if "groups" in info and not all(isinstance(g, str) for g in info["groups"]):
            raise UserInfoError(f"{what}: 'groups' must be a list of strings", step=step)
        return info

    def finish_login(self, redirect: str | Mapping[str, str], attempt: LoginAttempt, *,
                     userinfo: bool = True) -> LoginResult:
        """Callback checks, code exchange, ID token validation and userinfo, in that order."""
        callback = self.parse_callback(redirect, attempt)
        tokens = self.exchange_code_for_tokens(callback.code, attempt)
        id_token = self.validate_id_token(tokens.id_token, nonce=attempt.nonce, access_token=tokens.access_token)
        info = self.get_user_info(tokens.access_token, expected_sub=id_token.sub) if userinfo else None
        return LoginResult(tokens=tokens, id_token=id_token, userinfo=info)

    # -- refresh and logout ------------------------------------------------------------------------

    def refresh_access_token(self, refresh_token: str, *, previous: IdToken) -> LoginResult:
        """Trade the refresh token for new tokens; a new ID token must keep ``iss``, ``sub`` (OIDC Core 12.2).

        Pocket ID rotates the refresh token on every use: keep ``result.tokens.refresh_token``, the old
        one is spent (reusing it revokes the whole grant).
        """
        tokens = self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token},
                                     step="refresh", require_id_token=False)
        if tokens.id_token is None:
            return LoginResult(tokens=tokens, id_token=previous)
        new = self.validate_id_token(tokens.id_token, nonce=None, access_token=tokens.access_token)
        for claim in ("sub", "auth_time"):
            if claim in previous.claims and new.claims.get(claim) != previous.claims[claim]:
                error = ClaimMismatch(f"the refreshed ID token has {claim} {new.claims.get(claim)!r}, "
                                      f"the original {previous.claims[claim]!r}")
                error.add_note("step: refresh (OpenID Connect Core 12.2)")
                raise error
        return LoginResult(tokens=tokens, id_token=new)

    def build_end_session_url(self, id_token: str, *, post_logout_redirect_uri: str | None = None,
                              state: str | None = None) -> str:
        """RP-initiated logout: where to send the browser so the provider ends its session and grant too."""
        endpoint = self.metadata.end_session_endpoint
        if endpoint is None:
            raise OidcError("the provider advertises no end_session_endpoint", step="end_session")
        params = {"id_token_hint": id_token, "client_id": self.client_id}
        if post_logout_redirect_uri:
            params["post_logout_redirect_uri"] = post_logout_redirect_uri
            params["state"] = state or self._random_token()
        return endpoint + ("&" if urlsplit(endpoint).query else "?") + urlencode(params, quote_via=quote)

    # -- Pocket ID's admin API ---------------------------------------------------------------------

    def _admin(self, method: str, path: str, body: Any, *, step: str) -> dict[str, Any]:
        if not self.api_key:
            raise ConfigurationError(f"{step} needs the admin API key (POCKET_ID_API_KEY)")
        resp = send(self.session, method, self.internal_url + path, step=step, error=OidcError,
                    timeout=self.timeout, json=body, headers={"X-API-Key": self.api_key, "Accept": "application/json"})
        return read_json_object(resp, step=step, error=OidcError, what=f"admin API {method} {path}",
                                expected=(200, 201))

    def create_signup_token(self, ttl: str | int = "5m", usage_limit: int = 1,
                            user_group_ids: Sequence[str] = ()) -> SignupToken:
        """A signup token a new user registers with (the author's defaults: 5 minutes, one use)."""
        step = "signup_token"
        body = self._admin("POST", "/api/signup-tokens",
                           {"ttl": ttl, "usageLimit": usage_limit, "userGroupIds": list(user_group_ids)}, step=step)
        what = "signup token"
        return SignupToken(id=field_str(body, "id", step=step, error=OidcError, what=what),
                           token=field_str(body, "token", step=step, error=OidcError, what=what), raw=body)

    def build_token_link(self, token: str) -> str:
        """The registration link for a signup token, as the author builds it."""
        return f"{self.issuer}/signup?token={quote(token, safe='')}"

    def create_login_code(self, user_id: str, ttl: str | int = "15m") -> str:
        """A one-time access token for ``user_id`` (what Pocket ID's "login code" links carry)."""
        step = "login_code"
        body = self._admin("POST", f"/api/users/{quote(user_id, safe='')}/one-time-access-token", {"ttl": ttl},
                           step=step)
        return field_str(body, "token", step=step, error=OidcError, what="one-time access token")

    def build_login_code_link(self, code: str) -> str:
        """The page a person opens to sign in with a login code."""
        return f"{self.issuer}/lc/{quote(code, safe='')}"

    # -- headless sign-in --------------------------------------------------------------------------

    def _browser(self) -> requests.Session:
        """A fresh cookie jar per sign-in (nothing of one login leaks into the next), with our hooks."""
        browser = requests.Session()
        browser.hooks = {k: list(v) for k, v in self.session.hooks.items()}
        browser.trust_env = self.session.trust_env
        return browser

    def _start_provider_session(self, browser: requests.Session, user_id: str) -> None:
        """Admin API -> one-time access token -> session cookie, as a script signs in to a real Pocket ID."""
        code = self.create_login_code(user_id)
        step = "sign_in"
        url = f"{self.internal_url}/api/one-time-access-token/{quote(code, safe='')}"
        resp = send(browser, "POST", url, step=step, error=OidcError, timeout=self.timeout)
        read_json_object(resp, step=step, error=OidcError, what="one-time access token exchange")
        if not resp.cookies:
            raise OidcError("the one-time access token exchange set no session cookie", step=step)
        if urlsplit(url).scheme == "http":
            # Pocket ID marks its session cookie Secure even on http; a script sends it back itself.
            for cookie in browser.cookies:
                cookie.secure = False

    def authorize_headless(self, attempt: LoginAttempt, user_id: str | None = None) -> str:
        """Sign ``user_id`` in at the provider and follow ``/authorize``; returns the callback URL.

        With ``user_id`` this uses Pocket ID's automation path (needs ``api_key``); without, it relies on
        the provider letting the request through (a provider whose login is automatic, as in the tests).
        """
        allowed = {origin(u) for u in (self.issuer, self.internal_url, self.metadata.authorization_endpoint)}
        with self._browser() as browser:
            if user_id is not None:
                self._start_provider_session(browser, user_id)
            return follow_authorization(browser, self._browser_url(attempt.authorization_url),
                                        redirect_uri=attempt.redirect_uri, allowed_origins=allowed,
                                        rewrite=self._browser_url, timeout=self.timeout)

    def sign_in_headless(self, attempt: LoginAttempt, user_id: str | None = None) -> LoginResult:
        """The whole login without a browser: ``authorize_headless`` then ``finish_login``.

        On any failure the attempt is consumed and no tokens are returned: start a new login.
        """
        try:
            callback_url = self.authorize_headless(attempt, user_id)
        except Exception:
            attempt.consumed = True
            raise
        return self.finish_login(callback_url, attempt)
