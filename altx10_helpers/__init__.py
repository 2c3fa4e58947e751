"""Helpers for the altx10 JWT & Pocket ID notebooks.

The public API is flat: ``from altx10_helpers import b64url_encode, ...``.
"""

from .anatomy import TokenParts, parse_json_object, split_token
from .b64 import b64url_decode, b64url_encode
from .config import Settings, describe_provider
from .errors import (
    Altx10Error,
    BadSignature,
    Base64urlError,
    ConfigurationError,
    DisallowedAlgorithm,
    Expired,
    InvalidKey,
    InvalidToken,
    KeyMismatch,
    MalformedToken,
    MissingClaim,
    NetworkError,
    NotYetValid,
    OidcError,
    WeakKey,
    WrongAudience,
    WrongIssuer,
    WrongType,
)

__all__ = [
    "Altx10Error",
    "BadSignature",
    "Base64urlError",
    "ConfigurationError",
    "DisallowedAlgorithm",
    "Expired",
    "InvalidKey",
    "InvalidToken",
    "KeyMismatch",
    "MalformedToken",
    "MissingClaim",
    "NetworkError",
    "NotYetValid",
    "OidcError",
    "Settings",
    "TokenParts",
    "WeakKey",
    "WrongAudience",
    "WrongIssuer",
    "WrongType",
    "b64url_decode",
    "b64url_encode",
    "describe_provider",
    "parse_json_object",
    "split_token",
]
