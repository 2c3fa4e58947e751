"""PKCE (RFC 7636): proof that the client redeeming a code is the one that asked for it.

The client keeps a random ``code_verifier`` and sends only its hash, the ``code_challenge``, in the
authorization request. Whoever steals the code from the redirect cannot redeem it without the verifier.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from ..b64 import b64url_encode
from ..errors import ConfigurationError

__all__ = ["METHODS", "Pkce", "code_challenge", "make_verifier"]

#: ``S256`` is the default and the only method worth using; ``plain`` exists for constrained clients.
METHODS = ("S256", "plain")

# RFC 7636 section 4.1: 43 to 128 characters of the unreserved set.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def make_verifier(random_bytes: Callable[[int], bytes] = secrets.token_bytes, nbytes: int = 32) -> str:
    """A fresh verifier: ``nbytes`` random bytes in base64url (32 bytes give the minimum 43 characters)."""
    verifier = b64url_encode(random_bytes(nbytes))
    if not _VERIFIER.fullmatch(verifier):
        raise ConfigurationError(f"a PKCE verifier needs 43 to 128 characters; {nbytes} bytes give {len(verifier)}")
    return verifier


def code_challenge(verifier: str, method: str = "S256") -> str:
    """The challenge for ``verifier``: ``BASE64URL(SHA256(ASCII(verifier)))`` for S256, the verifier for plain."""
    if not isinstance(verifier, str) or not _VERIFIER.fullmatch(verifier):
        raise ConfigurationError("a PKCE verifier is 43 to 128 characters of [A-Za-z0-9-._~]")
    if method == "S256":
        return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())
    if method == "plain":
        return verifier
    raise ConfigurationError(f"unknown PKCE method {method!r}; use one of {METHODS}")


@dataclass(frozen=True)
class Pkce:
    """A verifier and the challenge sent for it."""

    verifier: str = field(repr=False)
    challenge: str
    method: str = "S256"

    @classmethod
    def generate(cls, method: str = "S256", random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> Pkce:
        verifier = make_verifier(random_bytes)
        return cls(verifier, code_challenge(verifier, method), method)
