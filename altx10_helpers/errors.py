"""One exception tree for the whole package.

Catch ``InvalidToken`` to refuse any bad token; its subclasses say exactly why.
Key, configuration, network and provider problems are *not* token problems and
live on separate branches, so a flaky network is never mistaken for an attack.

    Altx10Error
    ├── Base64urlError            strict base64url decoding failed
    ├── InvalidToken              the token must be refused
    │   ├── MalformedToken        not a well-formed compact JWS
    │   ├── BadSignature          signature does not match
    │   ├── DisallowedAlgorithm   alg not in the caller's allow-list / not the key's
    │   ├── Expired               now >= exp (+ leeway)
    │   ├── NotYetValid           now < nbf, or iat in the future (- leeway)
    │   ├── WrongIssuer           iss differs from the expected issuer
    │   ├── WrongAudience         aud does not contain ours (or has untrusted extras)
    │   ├── WrongType             typ / token type is not the one asked for
    │   ├── MissingClaim          a required claim is absent
    │   ├── ClaimMismatch         a claim differs from what this login expects (nonce, at_hash, sub)
    │   ├── RevokedToken          signed and in date, but revoked (its jti is on a deny-list)
    │   └── WeakKey               (also an InvalidKey) key too short / too small
    ├── InvalidKey                a key or JWK is unusable
    │   └── KeyMismatch           (also an InvalidToken) the key cannot serve that algorithm
    ├── ConfigurationError        the caller's settings are wrong
    ├── NetworkError              a fetch failed (timeout, refused, 5xx, not JSON)
    └── OidcError                 the OpenID Connect exchange failed
        ├── DiscoveryError        the discovery document is unusable or names another issuer
        ├── CallbackError         the redirect back is malformed, forged (state, iss) or an error
        ├── TokenResponseError    the token endpoint refused or answered nonsense
        └── UserInfoError         userinfo refused, answered nonsense, or about someone else
"""

from __future__ import annotations


class Altx10Error(Exception):
    """Base of every exception this package raises on purpose."""


class Base64urlError(Altx10Error, ValueError):
    """Input is not strict, unpadded base64url."""


class InvalidToken(Altx10Error):
    """The token must be refused. Subclasses name the reason."""


class MalformedToken(InvalidToken):
    """The token is not a well-formed compact JWS/JWT."""


class BadSignature(InvalidToken):
    """The signature does not verify with the configured key."""


class DisallowedAlgorithm(InvalidToken):
    """The token's ``alg`` is not allowed by configuration or does not fit the key."""


class Expired(InvalidToken):
    """The token's ``exp`` has passed."""


class NotYetValid(InvalidToken):
    """The token's ``nbf`` (or ``iat``) lies in the future."""


class WrongIssuer(InvalidToken):
    """The ``iss`` claim is not the expected issuer."""


class WrongAudience(InvalidToken):
    """The ``aud`` claim does not name us (or names someone we do not trust)."""


class WrongType(InvalidToken):
    """The token is of another type (``typ`` header or token-type claim)."""


class MissingClaim(InvalidToken):
    """A claim the caller requires is absent."""


class RevokedToken(InvalidToken):
    """The token is genuine and unexpired, but was revoked (its ``jti`` is on a deny-list)."""


class ClaimMismatch(InvalidToken):
    """A claim differs from what this exchange expects: ``nonce``, ``at_hash``, or ``sub`` after a refresh."""


class InvalidKey(Altx10Error, ValueError):
    """A key or JWK cannot be used (malformed, wrong type, private where public expected)."""


class KeyMismatch(InvalidKey, InvalidToken):
    """The key's type or bound algorithm does not fit the requested algorithm.

    Also an ``InvalidToken``: a token whose ``alg`` the configured key cannot serve must be refused by code that
    catches only ``InvalidToken``, never turn into a 500.
    """


class WeakKey(InvalidKey, InvalidToken):
    """The key is too weak: an HMAC secret shorter than the hash, RSA under 2048 bits."""


class ConfigurationError(Altx10Error):
    """Settings are missing or contradictory (e.g. no algorithm list given)."""


class NetworkError(Altx10Error):
    """A network fetch failed or answered something that is not what was asked for."""


class OidcError(Altx10Error):
    """The OpenID Connect exchange failed; ``step`` says where."""

    def __init__(self, message: str, *, step: str = "", error: str = "", description: str = ""):
        super().__init__(message)
        self.step = step
        self.error = error
        self.description = description


class DiscoveryError(OidcError):
    """The provider's discovery document (or JWKS) is unusable, or names another issuer."""


class CallbackError(OidcError):
    """The redirect back from the provider is malformed, forged (``state``, ``iss``) or carries an error."""


class TokenResponseError(OidcError):
    """The token endpoint refused the request (``error`` says why) or answered something unusable."""


class UserInfoError(OidcError):
    """The userinfo endpoint refused, answered something unusable, or described another user."""
