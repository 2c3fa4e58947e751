"""The registered-claim checks of RFC 7519 section 4.1, with an injectable clock and a leeway.

These run only after the signature verified: before that, the claims are the attacker's words.
``now`` is epoch seconds; pass a fixed number to freeze time in tests and notebooks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import (
    ConfigurationError,
    Expired,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    WrongAudience,
    WrongIssuer,
    WrongType,
)

__all__ = ["check_claims", "check_type"]


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if type(value) is int or (type(value) is float and math.isfinite(value)):  # bool is refused too
        return value
    raise MalformedToken(f"claim {name!r} must be a finite number of seconds since the epoch, got {value!r}")


def _time(now: float) -> str:
    """Epoch seconds as a reader expects them: 1760000000, or 1760000000.250 (never 1.76e+09)."""
    return str(int(now)) if float(now).is_integer() else f"{now:.3f}"


def check_claims(claims: Mapping[str, Any], *, now: float | None = None, leeway: float = 0,
                 issuer: str | None = None, audience: str | None = None, required: Iterable[str] = ()) -> None:
    """Raise the ``InvalidToken`` subclass naming the first failed check; return None when all pass.

    ``exp``: valid while ``now < exp + leeway``. ``nbf``: valid from ``nbf - leeway``. ``iat``: not
    after ``now + leeway``. ``iss``: equal to ``issuer`` when one is given. ``aud``: a string or an array
    containing ``audience``; a token that names an audience is refused when none is configured
    (RFC 7519 section 4.1.3: a recipient that does not find itself in ``aud`` must reject).
    """
    if not leeway >= 0:  # also refuses NaN, which would make every time comparison below pass
        raise ConfigurationError(f"leeway must be a non-negative number of seconds, got {leeway}")
    if now is None:
        now = time.time()
    elif not math.isfinite(now):
        raise ConfigurationError(f"now must be a finite number of seconds since the epoch, got {now}")
    for name in required:
        if name not in claims:
            raise MissingClaim(f"required claim {name!r} is missing")
    # Claim values may be huge integers: compare them, never do float arithmetic on them.
    exp = _number(claims, "exp")
    if exp is not None and now - leeway >= exp:
        raise Expired(f"token expired: exp is {exp}, now is {_time(now)} (leeway {leeway:g} s)")
    nbf = _number(claims, "nbf")
    if nbf is not None and now + leeway < nbf:
        raise NotYetValid(f"token not valid yet: nbf is {nbf}, now is {_time(now)} (leeway {leeway:g} s)")
    iat = _number(claims, "iat")
    if iat is not None and iat > now + leeway:
        raise NotYetValid(f"token issued in the future: iat is {iat}, now is {_time(now)} (leeway {leeway:g} s)")
    if issuer is not None:
        if "iss" not in claims:
            raise MissingClaim(f"claim 'iss' is missing (expected issuer {issuer!r})")
        if claims["iss"] != issuer:
            raise WrongIssuer(f"iss {claims['iss']!r} is not the expected issuer {issuer!r}")
    _check_audience(claims, audience)


def _check_audience(claims: Mapping[str, Any], audience: str | None) -> None:
    aud = claims.get("aud")
    if audience is None:
        if aud:
            raise WrongAudience(f"token is for audience {aud!r} but this verifier was given no audience")
        return
    if aud is None:
        raise MissingClaim(f"claim 'aud' is missing (expected audience {audience!r})")
    if isinstance(aud, str):
        if aud != audience:
            raise WrongAudience(f"aud {aud!r} is not our audience {audience!r}")
        return
    if not isinstance(aud, list) or not all(isinstance(a, str) for a in aud):
        raise MalformedToken(f"claim 'aud' must be a string or an array of strings, got {aud!r}")
    if audience not in aud:
        raise WrongAudience(f"aud {aud!r} does not contain our audience {audience!r}")


def _media_type(value: str) -> str:
    """RFC 7515 4.1.9: compare case-insensitively; ``application/`` may be omitted."""
    value = value.lower()
    return value[12:] if value.startswith("application/") else value


def check_type(header: Mapping[str, Any], expected: str) -> None:
    """Refuse a token whose ``typ`` header is not ``expected`` (an access token offered as an ID token)."""
    typ = header.get("typ")
    if typ is None:
        raise WrongType(f"header has no typ; expected {expected!r}")
    if not isinstance(typ, str) or _media_type(typ) != _media_type(expected):
        raise WrongType(f"typ {typ!r} is not {expected!r}")
