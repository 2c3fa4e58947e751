"""Taking a compact JWT apart, strictly, without trusting any of it.

Everything here is *unverified*: it tells you what a token says, never whether
it is true. ``jws.verify`` builds on these parsers and adds the signature and
claim checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .b64 import b64url_decode
from .errors import Base64urlError, MalformedToken

__all__ = ["MAX_TOKEN_LENGTH", "TokenParts", "parse_json_object", "split_token"]

#: Longer tokens are refused before any parsing: a cookie holds 4 KB, an ID token
#: a few KB, so 100,000 characters is generous and still bounds the work.
MAX_TOKEN_LENGTH = 100_000

_SEGMENT_NAMES = ("header", "payload", "signature")


@dataclass(frozen=True)
class TokenParts:
    """The three segments of a compact JWS, as received and as decoded."""

    header_b64: str
    payload_b64: str
    signature_b64: str
    header: dict[str, Any]
    payload: bytes
    signature: bytes

    @property
    def signing_input(self) -> bytes:
        """The exact bytes the signature covers: ``header_b64 + '.' + payload_b64``."""
        return f"{self.header_b64}.{self.payload_b64}".encode("ascii")

    def claims(self) -> dict[str, Any]:
        """The payload parsed as a JSON object (a JWT claims set)."""
        return parse_json_object(self.payload, "payload")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise MalformedToken(f"duplicate member name {key!r}")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise MalformedToken(f"{name} is not valid JSON")


def parse_json_object(raw: bytes, what: str) -> dict[str, Any]:
    """Parse UTF-8 JSON that must be an object with no duplicate member names."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedToken(f"{what} is not UTF-8") from None
    try:
        value = json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except MalformedToken as exc:
        raise MalformedToken(f"{what}: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise MalformedToken(f"{what} is not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(value, dict):
        raise MalformedToken(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def split_token(token: object) -> TokenParts:
    """Split and strictly decode a compact JWS; raise ``MalformedToken`` naming the problem.

    Strict means: a ``str`` of exactly three dot-separated segments, each
    unpadded base64url, a header that is a JSON object without duplicate
    members, and a non-empty signature.
    """
    if not isinstance(token, str):
        raise MalformedToken(f"a token must be a str, not {type(token).__name__}")
    if not token:
        raise MalformedToken("the token is empty")
    if len(token) > MAX_TOKEN_LENGTH:
        raise MalformedToken(f"the token is {len(token)} characters, over the {MAX_TOKEN_LENGTH} limit")
    segments = token.split(".")
    if len(segments) != 3:
        hint = " (5 segments is a JWE, which this package does not accept)" if len(segments) == 5 else ""
        raise MalformedToken(f"a compact JWS has 3 dot-separated segments, this has {len(segments)}{hint}")
    decoded: list[bytes] = []
    for name, segment in zip(_SEGMENT_NAMES, segments, strict=True):
        try:
            decoded.append(b64url_decode(segment))
        except Base64urlError as exc:
            raise MalformedToken(f"{name} segment: {exc}") from None
    if not decoded[0]:
        raise MalformedToken("header segment is empty")
    if not decoded[2]:
        raise MalformedToken("signature segment is empty (an unsigned token is never accepted)")
    header = parse_json_object(decoded[0], "header")
    return TokenParts(segments[0], segments[1], segments[2], header, decoded[1], decoded[2])
