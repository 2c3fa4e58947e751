"""What the token endpoint hands back, and the ID token checks of OpenID Connect Core 3.1.3.7.

An ID token is only a claim about who signed in until every check below has passed: the signature with
the issuer's published keys and a pinned algorithm, then ``iss``, ``aud``, ``exp``, ``iat``, ``nonce``,
``sub`` and ``at_hash``. The order matters: nothing in the payload is believed before the signature is.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..anatomy import split_token
from ..b64 import b64url_encode
from ..errors import (
    ClaimMismatch,
    ConfigurationError,
    InvalidToken,
    MalformedToken,
    MissingClaim,
    TokenResponseError,
    WrongAudience,
    WrongType,
)
from ..jws import verify_token
from ._http import field_int, field_optional_str, field_str

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "HMAC_ALGORITHMS",
    "IdToken",
    "TokenSet",
    "parse_token_response",
    "token_hash",
    "validate_id_token",
]

#: Algorithms a provider signs ID tokens with using a private key only it holds.
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "ES512", "EdDSA")
#: MACs keyed with the client secret (OIDC Core 10.1): allowed only when configured explicitly.
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")

_VSCHAR = re.compile(r"[\x20-\x7e]*")
_HASH_FOR_ALG = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


def _short(token: str, keep: int = 12) -> str:
    return token if len(token) <= 2 * keep + 3 else f"{token[:keep]}...{token[-keep:]}"


@dataclass(frozen=True)
class TokenSet:
    """A checked token endpoint response (``raw`` is the JSON as received)."""

    access_token: str = field(repr=False)
    token_type: str
    id_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_in: int | None = None
    scope: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def shortened(self) -> dict[str, Any]:
        """The response with long tokens cut to their ends, for printing."""
        return {k: _short(v) if isinstance(v, str) and len(v) > 40 else v for k, v in self.raw.items()}


def parse_token_response(body: Mapping[str, Any], *, step: str, require_id_token: bool) -> TokenSet:
    """Check a token endpoint JSON body (RFC 6749 5.1): types, ``token_type`` bearer in any case."""
    what = "token response"
    where = {"step": step, "error": TokenResponseError, "what": what}
    token_type = field_str(body, "token_type", **where)
    for name in ("access_token", "refresh_token"):  # RFC 6749 A.12, A.17: printable ASCII (VSCHAR)
        value = body.get(name)
        if isinstance(value, str) and not _VSCHAR.fullmatch(value):
            raise TokenResponseError(f"{what}: {name!r} holds characters outside printable ASCII", step=step)
    if token_type.lower() != "bearer":
        raise TokenResponseError(f"{what}: 'token_type' is {token_type!r}; only bearer tokens are supported",
                                 step=step)
    return TokenSet(
        access_token=field_str(body, "access_token", **where),
        token_type=token_type,
        id_token=(field_str if require_id_token else field_optional_str)(body, "id_token", **where),
        refresh_token=field_optional_str(body, "refresh_token", **where),
        expires_in=field_int(body, "expires_in", **where),
        scope=field_optional_str(body, "scope", **where),
        raw=dict(body),
    )


def token_hash(value: str, alg: str) -> str:
    """``at_hash``/``c_hash``: the left half of the alg's hash of the ASCII value, base64url (OIDC Core 3.1.3.6).

    EdDSA (Ed25519) uses SHA-512, as the OpenID Foundation registered it.
    """
    bits = "512" if alg == "EdDSA" else alg[-3:]
    hash_fn = _HASH_FOR_ALG.get(bits)
    if hash_fn is None:
        raise ConfigurationError(f"no token hash is defined for alg {alg!r}")
    digest = hash_fn(value.encode("ascii")).digest()
    return b64url_encode(digest[: len(digest) // 2])


@dataclass(frozen=True)
class IdToken:
    """A validated ID token: the compact string, its header and its claims."""

    token: str = field(repr=False)
    header: Mapping[str, Any]
    claims: Mapping[str, Any]

    @property
    def sub(self) -> str:
        return self.claims["sub"]


def _is_access_token_type(typ: object) -> bool:
    if not isinstance(typ, str):
        return False
    typ = typ.lower()
    return typ.removeprefix("application/") == "at+jwt"


def validate_id_token(
    token: object,
    *,
    keys: Any,
    issuer: str,
    client_id: str,
    algorithms: Sequence[str],
    nonce: str | None,
    access_token: str | None = None,
    client_secret: str | None = None,
    trusted_audiences: Collection[str] = (),
    leeway: float = 60,
    now: float | None = None,
) -> IdToken:
    """Every applicable check of OIDC Core 3.1.3.7; the first failure raises an ``InvalidToken`` subclass.

    ``keys`` is the issuer's key source (a ``jwk.KeySet`` over its ``jwks_uri``); ``algorithms`` is the
    allow-list, fixed by configuration. A MAC algorithm in that list is verified with ``client_secret``.
    ``nonce`` is the value sent in the authorization request (None: none was sent, as on a refresh).
    """
    try:
        return _validate(token, keys=keys, issuer=issuer, client_id=client_id, algorithms=algorithms, nonce=nonce,
                         access_token=access_token, client_secret=client_secret,
                         trusted_audiences=trusted_audiences, leeway=leeway, now=now)
    except InvalidToken as exc:
        exc.add_note("step: id_token (OpenID Connect Core 3.1.3.7); the login was not completed")
        raise


def _validate(token: object, *, keys: Any, issuer: str, client_id: str, algorithms: Sequence[str],
              nonce: str | None, access_token: str | None, client_secret: str | None,
              trusted_audiences: Collection[str], leeway: float, now: float | None) -> IdToken:
    if not isinstance(token, str):
        raise MalformedToken(f"the ID token must be a string, got {type(token).__name__}")
    declared = split_token(token).header.get("alg")
    if declared in HMAC_ALGORITHMS and declared in algorithms:
        if not client_secret:
            raise ConfigurationError("MAC-signed ID tokens are verified with the client secret, which is not set")
        key: Any = client_secret.encode("utf-8")
        allowed: Sequence[str] = [declared]
    else:
        key, allowed = keys, [a for a in algorithms if a not in HMAC_ALGORITHMS]
    verified = verify_token(token, key, allowed, issuer=issuer, audience=client_id, leeway=leeway, now=now,
                            required=("iss", "sub", "aud", "exp", "iat"))
    header, claims = verified.header, verified.claims

    if _is_access_token_type(header.get("typ")):
        raise WrongType(f"typ {header.get('typ')!r} marks an access token, not an ID token")
    audiences = [claims["aud"]] if isinstance(claims["aud"], str) else list(claims["aud"])
    untrusted = [a for a in audiences if a != client_id and a not in trusted_audiences]
    if untrusted:
        raise WrongAudience(f"aud also names {untrusted!r}, which this client does not trust")
    if "azp" in claims and claims["azp"] != client_id:
        raise WrongAudience(f"azp is {claims['azp']!r}, not our client_id")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise MalformedToken("sub must be a non-empty string")
    if nonce is not None:
        sent = claims.get("nonce")
        if sent is None:
            raise MissingClaim("nonce is missing, but one was sent with the authorization request")
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode("utf-8", "surrogatepass"),
                                                                nonce.encode("utf-8", "surrogatepass")):
            raise ClaimMismatch("nonce differs from the one sent with the authorization request (replayed token?)")
    if access_token is not None and "at_hash" in claims:
        if not access_token.isascii():  # the hash is over ASCII octets (OIDC Core 3.1.3.6): no match possible
            raise ClaimMismatch("at_hash cannot match: the access token it came with is not ASCII")
        expected = token_hash(access_token, header["alg"])
        at_hash = claims["at_hash"]
        if not isinstance(at_hash, str) or not hmac.compare_digest(at_hash.encode(), expected.encode()):
            raise ClaimMismatch("at_hash does not match the access token it came with (swapped access token?)")
    return IdToken(token=token, header=dict(header), claims=dict(claims))
