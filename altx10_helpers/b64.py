"""Strict base64url, as JWS (RFC 7515 section 2) defines it: no padding, no whitespace.

Python's ``base64.urlsafe_b64decode`` is lenient: it accepts padding, and
``b64decode`` silently drops characters outside the alphabet. A verifier that
accepts several spellings of the same bytes lets an attacker mint "different"
tokens with one signature, so decoding here accepts exactly one spelling.
"""

from __future__ import annotations

import base64
import binascii
import re

from .errors import Base64urlError

__all__ = ["b64url_decode", "b64url_encode"]

_ALPHABET = re.compile(rb"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes | str) -> str:
    """Encode bytes (or UTF-8 text) as unpadded base64url text."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"b64url_encode needs bytes or str, not {type(data).__name__}")
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes) -> bytes:
    """Decode unpadded base64url; raise ``Base64urlError`` naming the first problem."""
    if isinstance(text, str):
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError:
            raise Base64urlError("base64url text must be ASCII; found a non-ASCII character") from None
    elif isinstance(text, (bytes, bytearray)):
        raw = bytes(text)
    else:
        raise Base64urlError(f"base64url input must be str or bytes, not {type(text).__name__}")
    if not _ALPHABET.fullmatch(raw):
        bad = next(chr(c) for c in raw if not _ALPHABET.fullmatch(bytes([c])))
        reason = {
            "=": "padding '=' is not allowed in base64url (RFC 7515 section 2)",
            "+": "'+' belongs to standard base64; base64url uses '-'",
            "/": "'/' belongs to standard base64; base64url uses '_'",
        }.get(bad)
        if reason is None:
            reason = (
                "whitespace is not allowed" if bad.isspace() else f"character {bad!r} is not in the base64url alphabet"
            )
        raise Base64urlError(reason)
    if len(raw) % 4 == 1:
        raise Base64urlError(f"impossible length {len(raw)}: a base64url string cannot be 1 more than a multiple of 4")
    try:
        out = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except binascii.Error as exc:  # pragma: no cover - unreachable after the checks above
        raise Base64urlError(f"not base64url: {exc}") from None
    if b64url_encode(out) != raw.decode("ascii"):
        raise Base64urlError("non-canonical base64url: the unused low bits of the last character are not zero")
    return out
