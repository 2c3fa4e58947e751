"""One login attempt: what was sent, what must come back, and the redirect back checked against it.

A ``LoginAttempt`` holds the secrets of one authorization request (state, nonce, PKCE verifier). The
callback is checked against it exactly once: the first callback consumes the attempt, whether it
succeeds or fails, so a replayed or forged redirect can never finish a login halfway.

The headless part drives the provider the way a script drives a real Pocket ID: an admin-issued
one-time access token buys a session cookie, and ``/authorize`` with that cookie redirects straight
back with a code. No browser, no passkey.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from ..errors import CallbackError, OidcError
from ._http import send

__all__ = ["CallbackResult", "LoginAttempt", "follow_authorization", "origin", "parse_callback"]

_STEP = "callback"


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased, for same-origin comparisons."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _same_endpoint(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme.lower(), pa.netloc.lower(), pa.path) == (pb.scheme.lower(), pb.netloc.lower(), pb.path)


@dataclass
class LoginAttempt:
    """The state of one authorization request, kept by the client until its callback arrives."""

    authorization_url: str
    redirect_uri: str
    scope: str
    state: str
    nonce: str | None
    code_verifier: str | None = field(repr=False)
    code_challenge_method: str | None
    created_at: float
    expires_at: float
    consumed: bool = False

    def consume(self, now: float) -> None:
        """Mark the attempt used; refuse one already used or too old (a stale or replayed callback)."""
        if self.consumed:
            raise CallbackError("this login attempt was already used; start a new login", step=_STEP,
                                error="attempt_used")
        self.consumed = True
        if now >= self.expires_at:
            raise CallbackError(f"this login attempt expired {now - self.expires_at:.0f} s ago; start a new login",
                                step=_STEP, error="attempt_expired")


@dataclass(frozen=True)
class CallbackResult:
    """A callback that passed the state and ``iss`` checks: the code to exchange."""

    code: str = field(repr=False)
    state: str
    iss: str | None
    scope: str | None
    params: Mapping[str, str] = field(repr=False)


def _single_params(redirect: str | Mapping[str, str], attempt: LoginAttempt) -> dict[str, str]:
    if isinstance(redirect, Mapping):
        items = list(redirect.items())
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in items):
            raise CallbackError("callback parameters must be strings", step=_STEP)
        return dict(items)
    if not isinstance(redirect, str):
        raise CallbackError(f"the callback must be a URL string, got {type(redirect).__name__}", step=_STEP)
    try:
        parts = urlsplit(redirect)
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query),
                         errors="strict", max_num_fields=50)
    except (ValueError, UnicodeError) as exc:
        raise CallbackError(f"the callback URL is malformed: {exc}", step=_STEP) from None
    if not _same_endpoint(redirect, attempt.redirect_uri):
        raise CallbackError(f"the callback arrived at {parts.scheme}://{parts.netloc}{parts.path}, not at the "
                            f"redirect URI this login used ({attempt.redirect_uri})", step=_STEP)
    repeated = sorted(k for k, v in query.items() if len(v) > 1)
    if repeated:  # RFC 6749 3.1: parameters must not be included more than once
        raise CallbackError(f"the callback repeats parameter(s) {repeated}", step=_STEP)
    return {k: v[0] for k, v in query.items()}


def parse_callback(redirect: str | Mapping[str, str], attempt: LoginAttempt, *, issuer: str, iss_required: bool,
                   now: float) -> CallbackResult:
    """Check the redirect back (state, RFC 9207 ``iss``, error) and return its code; consumes ``attempt``.

    ``redirect`` is the full URL the browser was sent to, or its query parameters as a mapping.
    ``iss_required`` is the provider's ``authorization_response_iss_parameter_supported``.
    """
    attempt.consume(now)
    params = _single_params(redirect, attempt)
    state = params.get("state")
    if state is None:
        raise CallbackError("the callback has no 'state'; it cannot be tied to this login", step=_STEP,
                            error="missing_state")
    if not hmac.compare_digest(state.encode(), attempt.state.encode()):
        raise CallbackError("'state' differs from the one this login sent (forged or crossed callback)",
                            step=_STEP, error="state_mismatch")
    iss = params.get("iss")
    if iss is not None and iss != issuer:
        raise CallbackError(f"'iss' is {iss!r}, not our issuer {issuer!r} (a mix-up attack?)", step=_STEP,
                            error="iss_mismatch")
    if "error" in params:
        code, desc = params["error"], params.get("error_description", "")
        raise CallbackError(f"the provider refused the login: {code}" + (f" ({desc})" if desc else ""),
                            step=_STEP, error=code, description=desc)
    if iss is None and iss_required:
        raise CallbackError("'iss' is missing, but the provider promises it (RFC 9207)", step=_STEP,
                            error="missing_iss")
    code = params.get("code")
    if not code:
        raise CallbackError("the callback has no 'code'", step=_STEP, error="missing_code")
    return CallbackResult(code=code, state=state, iss=iss, scope=params.get("scope"), params=params)


def follow_authorization(browser: requests.Session, url: str, *, redirect_uri: str, allowed_origins: Collection[str],
                         rewrite: Callable[[str], str], timeout: float, max_hops: int = 10) -> str:
    """Follow the provider's redirects from the authorization URL until one points at ``redirect_uri``.

    Returns that callback URL without requesting it (the app's callback is not ours to call). Any hop
    that leaves ``allowed_origins``, or stops on a page instead of redirecting, raises ``OidcError``:
    the provider wants a human (a consent screen, a passkey).
    """
    step = "sign_in"
    for _ in range(max_hops):
        resp = send(browser, "GET", url, step=step, error=OidcError, timeout=timeout)
        location = resp.headers.get("Location")
        where = url.split("?")[0]
        if resp.status_code == 200:
            raise OidcError(f"the provider stopped at a page ({where}) instead of redirecting back: it wants an "
                            "interaction a script cannot do (consent, a passkey); headless sign-in needs a client "
                            "that skips consent", step=step)
        if resp.status_code not in (301, 302, 303, 307, 308) or not location:
            text = " ".join(resp.text.split())[:80]
            raise OidcError(f"the provider refused the authorization request at {where}: HTTP {resp.status_code} "
                            f"{text!r}", step=step)
        target = urljoin(url, location)
        if _same_endpoint(target, redirect_uri):
            return target
        if origin(target) not in allowed_origins:
            raise OidcError(f"the provider redirected to {origin(target)}, outside the provider and our "
                            "redirect URI", step=step)
        url = rewrite(target)
    raise OidcError(f"more than {max_hops} redirects without reaching the redirect URI", step=step)
