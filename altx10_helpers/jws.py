"""Compact JWS sign and verify (RFC 7515/7518/8037) that a security reviewer can sign off on.

The rules, each one a real-world bug avoided:

* The caller lists the algorithms; the token's ``alg`` only has to be one of them, compared
  case-sensitively, and ``none`` is never allowed (not even ``NoNe``).
* The key decides the family: an HMAC secret never verifies RS*/ES*/EdDSA, and a PEM text or a
  public key object is never used as an HMAC secret (the RS256-to-HS256 confusion).
* HMAC secrets shorter than the hash and RSA keys under 2048 bits are refused (``WeakKey``); the
  loudly named ``allow_weak_key=True`` exists only to replay demos such as the article's 15-byte secret.
* The signature covers the exact received segments, decoded strictly (``anatomy.split_token``);
  MACs are compared with ``hmac.compare_digest``; ECDSA signatures are raw R||S with r, s in [1, n-1].
* Header ``jwk``, ``jku``, ``x5u``, ``x5c`` and ``kid`` are never key sources. ``kid`` only selects
  among keys the caller supplied (a ``JWKS`` or ``KeySet``).
* A ``crit`` header is refused: this verifier understands no extensions.
* Claims are read only after the signature verified.
"""

from __future__ import annotations

import binascii
import copy
import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .anatomy import MAX_TOKEN_LENGTH, parse_json_object, split_token
from .b64 import b64url_encode
from .claims import check_claims, check_type
from .errors import (
    BadSignature,
    ConfigurationError,
    DisallowedAlgorithm,
    InvalidKey,
    KeyMismatch,
    MalformedToken,
    WeakKey,
)
from .jwk import CURVE_FOR_ALG, JWK

__all__ = ["ALGORITHMS", "VerifiedToken", "decode_unverified", "sign", "verify", "verify_payload", "verify_token"]


@dataclass(frozen=True)
class _Alg:
    name: str
    family: str  # HMAC, RSA, PSS, EC, OKP
    hash_name: str = ""
    size: int = 0  # HMAC: minimum key bytes (the hash length). EC: bytes per coordinate.
    order: int = 0  # EC: the group order n; r and s must lie in [1, n-1]

    @property
    def hash(self) -> hashes.HashAlgorithm:
        return {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}[self.hash_name]()


_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P384_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973
_P521_N = int("01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F70"
              "9A5D03BB5C9B8899C47AEBB6FB71E91386409", 16)

_ALGS: dict[str, _Alg] = {
    "HS256": _Alg("HS256", "HMAC", "sha256", 32),
    "HS384": _Alg("HS384", "HMAC", "sha384", 48),
    "HS512": _Alg("HS512", "HMAC", "sha512", 64),
    "RS256": _Alg("RS256", "RSA", "sha256"),
    "RS384": _Alg("RS384", "RSA", "sha384"),
    "RS512": _Alg("RS512", "RSA", "sha512"),
    "PS256": _Alg("PS256", "PSS", "sha256"),
    "ES256": _Alg("ES256", "EC", "sha256", 32, _P256_N),
    "ES384": _Alg("ES384", "EC", "sha384", 48, _P384_N),
    "ES512": _Alg("ES512", "EC", "sha512", 66, _P521_N),
    "EdDSA": _Alg("EdDSA", "OKP"),
    "Ed25519": _Alg("Ed25519", "OKP"),
}

#: Every algorithm ``sign`` and ``verify`` know. ``verify`` uses only those the caller lists.
ALGORITHMS: tuple[str, ...] = tuple(_ALGS)

_MIN_RSA_BITS = 2048
_CACHE_SIZE = 256
_PEM_OR_SSH = (b"-----BEGIN", b"ssh-rsa ", b"ssh-ed25519 ", b"ecdsa-sha2-")
_RSA_KEYS = (rsa.RSAPrivateKey, rsa.RSAPublicKey)
_EC_KEYS = (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)
_ED_KEYS = (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)
_PRIVATE = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)
_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_a2b, _b2a = binascii.a2b_base64, binascii.b2a_base64

# Small caches that keep verify lean: validated algorithm lists, headers already parsed and checked,
# and per-key prepared verifiers. Keyed by identity with the key kept alive, so an id is never reused.
_ALLOWED: dict[tuple[Any, ...], frozenset[str]] = {}
_HEADERS: dict[str, dict[str, Any]] = {}
_PREPARED: dict[tuple[int, str, bool, bool], tuple[Any, Callable[..., Any]]] = {}


@dataclass(frozen=True)
class VerifiedToken:
    """A verified token: its header, its claims, and the key that verified it (a ``JWK`` for key sets)."""

    header: dict[str, Any]
    claims: dict[str, Any]
    key: Any = field(repr=False)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed(algorithms: Sequence[str]) -> frozenset[str]:
    """Validate the caller's algorithm list once; later calls with the same list hit a cache."""
    if isinstance(algorithms, (str, bytes)):
        raise ConfigurationError(f"algorithms must be a list such as [{algorithms!r}], not a single string")
    try:
        wanted = tuple(algorithms)
    except TypeError:
        raise ConfigurationError("algorithms must be a list of algorithm names") from None
    try:
        hit = _ALLOWED.get(wanted)
    except TypeError:  # an unhashable member: the checks below name it
        hit = None
    if hit is not None:
        return hit
    if not wanted:
        raise ConfigurationError("algorithms must not be empty: say which algorithms you accept, e.g. ['RS256']")
    for alg in wanted:
        if not isinstance(alg, str):
            raise ConfigurationError(f"algorithm names are strings, got {_short(alg)}")
        if alg.lower() == "none":
            raise ConfigurationError(f"{alg!r} (unsigned tokens) can never be an allowed algorithm")
        if alg not in _ALGS:
            raise ConfigurationError(f"unknown algorithm {alg!r}; supported: {', '.join(ALGORITHMS)}")
    if len(_ALLOWED) >= _CACHE_SIZE:
        _ALLOWED.clear()
    allowed = _ALLOWED[wanted] = frozenset(wanted)
    return allowed


def _check_header(header: dict[str, Any]) -> None:
    """Checks that depend on the header alone (so a header that passed them can be cached)."""
    alg = header.get("alg")
    if alg is None:
        raise MalformedToken("header has no alg")
    if not isinstance(alg, str):
        raise MalformedToken(f"header alg must be a string, got {_short(alg)}")
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
            raise MalformedToken(f"header crit must be a non-empty array of names (RFC 7515 4.1.11), "
                                 f"got {_short(crit)}")
        raise MalformedToken(f"header crit lists {_short(crit)}: this verifier understands no extensions, "
                             "and RFC 7515 4.1.11 says to refuse what it does not understand")


def _b64(segment: str) -> bytes:
    """Strict base64url decoding, accepting exactly what ``b64.b64url_decode`` accepts, faster.

    Decoding leniently and then requiring that re-encoding gives back the very same text refuses
    every character outside the alphabet, padding, whitespace, impossible lengths and non-zero
    unused bits in one comparison. Raises ValueError; callers then let ``split_token`` name the problem.
    """
    raw = segment.encode("ascii")
    out = _a2b(raw.translate(_TO_STANDARD) + b"==")
    if _b2a(out, newline=False).translate(_TO_URLSAFE, b"=") != raw:
        raise ValueError("not canonical base64url")
    return out


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate member name")
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_JSON = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)


def _claims(payload: bytes) -> dict[str, Any]:
    """The payload as a JSON object, with ``anatomy.parse_json_object``'s rules (which names any problem)."""
    try:
        claims = _JSON.decode(payload.decode("utf-8"))
    except (ValueError, RecursionError):
        claims = None
    if type(claims) is dict:
        return claims
    return parse_json_object(payload, "payload")


def _split(token: object) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """(header, signing input, payload, signature), exactly as received and strictly decoded.

    A header seen before skips JSON parsing; anything unusual goes through ``split_token``, which
    raises ``MalformedToken`` with the precise reason.
    """
    if type(token) is str and len(token) <= MAX_TOKEN_LENGTH:
        segments = token.split(".")
        if len(segments) == 3:
            header = _HEADERS.get(segments[0])
            if header is not None:
                try:
                    payload = _b64(segments[1])
                    signature = _b64(segments[2])
                except ValueError:
                    pass
                else:
                    if signature:
                        return header, token[: token.rindex(".")].encode("ascii"), payload, signature
    parts = split_token(token)
    _check_header(parts.header)
    if len(_HEADERS) >= _CACHE_SIZE:
        _HEADERS.clear()
    _HEADERS[parts.header_b64] = parts.header
    return parts.header, parts.signing_input, parts.payload, parts.signature


def _copy_header(header: dict[str, Any]) -> dict[str, Any]:
    """A copy the caller may change: the parsed header is cached and shared by later verifications."""
    return {name: copy.deepcopy(value) if isinstance(value, (dict, list)) else value
            for name, value in header.items()}


def _refuse_alg(alg: str, allowed: frozenset[str]) -> DisallowedAlgorithm:
    if alg.lower() == "none":
        return DisallowedAlgorithm(f"alg {_short(alg)} means an unsigned token; it is never accepted")
    same = sorted(a for a in allowed if a.lower() == alg.lower())
    if same:
        return DisallowedAlgorithm(f"alg {_short(alg)} is not allowed: algorithm names are case-sensitive "
                                   f"({same[0]!r} is allowed)")
    return DisallowedAlgorithm(f"alg {_short(alg)} is not in the allowed algorithms {sorted(allowed)}")


# --- keys ---------------------------------------------------------------------------------------------------------

def _describe(key: Any) -> str:
    if isinstance(key, _RSA_KEYS):
        return f"an RSA {'private' if isinstance(key, _PRIVATE) else 'public'} key"
    if isinstance(key, _EC_KEYS):
        return f"an EC {_CURVES.get(key.curve.name, key.curve.name)} key"
    if isinstance(key, _ED_KEYS):
        return "an Ed25519 key"
    if isinstance(key, (bytes, bytearray, memoryview, str)):
        return "an HMAC secret (bytes/str)"
    return f"a {type(key).__name__}"


def _material(key: Any, spec: _Alg) -> Any:
    """Unwrap a JWK, enforcing its ``alg`` binding and ``use``; return the raw key."""
    if isinstance(key, JWK):
        if key.alg is not None and key.alg != spec.name:
            raise KeyMismatch(f"this JWK is bound to alg {key.alg!r}; it cannot be used for {spec.name}")
        if key.use not in (None, "sig"):
            raise KeyMismatch(f"this JWK has use {key.use!r}; only signing keys verify signatures")
        return key.key
    return key


def _hmac_secret(key: Any, spec: _Alg, allow_weak_key: bool) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    elif isinstance(key, (bytearray, memoryview)):
        key = bytes(key)
    elif not isinstance(key, bytes):
        raise KeyMismatch(f"{spec.name} needs an HMAC secret (bytes or str); {_describe(key)} can never be one")
    if key.lstrip().startswith(_PEM_OR_SSH):
        raise KeyMismatch(f"this {spec.name} secret is a PEM/SSH public key text: a public key is never an HMAC "
                          "secret (that is the RS256-to-HS256 confusion attack)")
    if not key:
        raise WeakKey(f"an empty {spec.name} secret is never accepted")
    if len(key) < spec.size and not allow_weak_key:
        raise WeakKey(f"{spec.name} needs a secret of at least {spec.size} bytes (RFC 7518 3.2), this one has "
                      f"{len(key)}; allow_weak_key=True exists for demos only")
    return key


def _asymmetric(key: Any, spec: _Alg, private: bool) -> Any:
    """Check the key fits the algorithm (type, curve, size); return the private or public object needed."""
    if spec.family in ("RSA", "PSS"):
        kinds, kind = _RSA_KEYS, "an RSA key"
    elif spec.family == "EC":
        kinds, kind = _EC_KEYS, f"an EC {CURVE_FOR_ALG[spec.name]} key"
    else:
        kinds, kind = _ED_KEYS, "an Ed25519 key"
    if not isinstance(key, kinds):
        hint = " (load PEM text with cryptography's load_pem_public_key)" if isinstance(key, (str, bytes)) else ""
        raise KeyMismatch(f"{spec.name} needs {kind}; got {_describe(key)}{hint}")
    if spec.family == "EC" and _CURVES.get(key.curve.name) != CURVE_FOR_ALG[spec.name]:
        raise KeyMismatch(f"{spec.name} needs curve {CURVE_FOR_ALG[spec.name]}; got {_describe(key)}")
    if isinstance(key, _RSA_KEYS) and key.key_size < _MIN_RSA_BITS:
        raise WeakKey(f"RSA keys under {_MIN_RSA_BITS} bits are refused; this one has {key.key_size}")
    if private:
        if not isinstance(key, _PRIVATE):
            raise InvalidKey(f"signing with {spec.name} needs a private key; got a public one")
        return key
    return key.public_key() if isinstance(key, _PRIVATE) else key


def _make_verifier(key: Any, spec: _Alg, allow_weak_key: bool) -> Callable[[bytes, bytes], None]:
    material = _material(key, spec)
    if spec.family == "HMAC":
        secret, hash_name = _hmac_secret(material, spec, allow_weak_key), spec.hash_name

        def check_hmac(signature: bytes, data: bytes) -> None:
            if not hmac.compare_digest(hmac.digest(secret, data, hash_name), signature):
                raise BadSignature(f"{spec.name} signature does not match")

        return check_hmac
    public = _asymmetric(material, spec, private=False)
    if spec.family in ("RSA", "PSS"):
        size = (public.key_size + 7) // 8
        pad = (padding.PKCS1v15() if spec.family == "RSA"
               else padding.PSS(padding.MGF1(spec.hash), salt_length=spec.hash.digest_size))
        digest = spec.hash

        def check_rsa(signature: bytes, data: bytes) -> None:
            if len(signature) != size:
                raise BadSignature(f"{spec.name} signature must be {size} bytes for this key, got {len(signature)}")
            try:
                public.verify(signature, data, pad, digest)
            except InvalidSignature:
                raise BadSignature(f"{spec.name} signature does not match") from None

        return check_rsa
    if spec.family == "EC":
        half, order, ecdsa = spec.size, spec.order, ec.ECDSA(spec.hash)

        def check_ec(signature: bytes, data: bytes) -> None:
            if len(signature) != 2 * half:
                raise BadSignature(f"{spec.name} signature must be {2 * half} bytes of raw R||S, got "
                                   f"{len(signature)}" + (" (DER-encoded?)" if signature[:1] == b"0" else ""))
            r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            if r == 0 or s == 0:
                raise BadSignature(f"{spec.name} signature has r = 0 or s = 0: the 'psychic signature' "
                                   "(CVE-2022-21449) is refused")
            if r >= order or s >= order:
                raise BadSignature(f"{spec.name} signature r or s is not below the curve order")
            try:
                public.verify(encode_dss_signature(r, s), data, ecdsa)
            except InvalidSignature:
                raise BadSignature(f"{spec.name} signature does not match") from None

        return check_ec

    def check_eddsa(signature: bytes, data: bytes) -> None:
        if len(signature) != 64:
            raise BadSignature(f"{spec.name} signature must be 64 bytes, got {len(signature)}")
        try:
            public.verify(signature, data)
        except InvalidSignature:
            raise BadSignature(f"{spec.name} signature does not match") from None

    return check_eddsa


def _make_signer(key: Any, spec: _Alg, allow_weak_key: bool) -> Callable[[bytes], bytes]:
    material = _material(key, spec)
    if spec.family == "HMAC":
        secret = _hmac_secret(material, spec, allow_weak_key)
        return lambda data: hmac.digest(secret, data, spec.hash_name)
    private = _asymmetric(material, spec, private=True)
    if spec.family == "RSA":
        return lambda data: private.sign(data, padding.PKCS1v15(), spec.hash)
    if spec.family == "PSS":
        return lambda data: private.sign(data, padding.PSS(padding.MGF1(spec.hash), spec.hash.digest_size), spec.hash)
    if spec.family == "EC":
        def sign_ec(data: bytes) -> bytes:
            r, s = decode_dss_signature(private.sign(data, ec.ECDSA(spec.hash)))
            return r.to_bytes(spec.size, "big") + s.to_bytes(spec.size, "big")

        return sign_ec
    return private.sign


def _prepared(key: Any, spec: _Alg, allow_weak_key: bool, signing: bool) -> Callable[..., Any]:
    """The verifier (or signer) for this key and algorithm, built once per key object."""
    if isinstance(key, (bytearray, memoryview)):  # mutable: never cached
        return (_make_signer if signing else _make_verifier)(key, spec, allow_weak_key)
    slot = (id(key), spec.name, allow_weak_key, signing)
    hit = _PREPARED.get(slot)
    if hit is not None and hit[0] is key:
        return hit[1]
    prepared = (_make_signer if signing else _make_verifier)(key, spec, allow_weak_key)
    if len(_PREPARED) >= _CACHE_SIZE:
        _PREPARED.clear()
    _PREPARED[slot] = (key, prepared)
    return prepared


# --- public API ---------------------------------------------------------------------------------------------------

def sign(claims_or_bytes: Mapping[str, Any] | bytes, key: Any, alg: str, headers: Mapping[str, Any] | None = None,
         *, allow_weak_key: bool = False) -> str:
    """Sign claims (a dict, JSON-encoded compactly) or exact payload bytes; return the compact token.

    The header is ``{"alg": alg, "typ": "JWT"}``, then a JWK key's ``kid``, then ``headers``
    (a value of None removes a member, e.g. ``{"typ": None}``). ``key`` is an HMAC secret (bytes/str),
    a ``cryptography`` private key, or a private ``JWK``.
    """
    spec = _ALGS.get(alg) if isinstance(alg, str) else None
    if spec is None:
        if isinstance(alg, str) and alg.lower() == "none":
            raise ConfigurationError("alg 'none' makes an unsigned token; sign() never does that")
        raise ConfigurationError(f"unknown algorithm {_short(alg)}; supported: {', '.join(ALGORITHMS)}")
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if isinstance(key, JWK) and key.kid is not None:
        header["kid"] = key.kid
    for name, value in (headers or {}).items():
        if name == "alg":
            if value != alg:
                raise ConfigurationError(f"headers say alg {value!r} but sign() was asked for {alg!r}")
        elif value is None:
            header.pop(name, None)
        else:
            header[name] = value
    if isinstance(claims_or_bytes, (bytes, bytearray)):
        payload = bytes(claims_or_bytes)
    elif isinstance(claims_or_bytes, Mapping):
        payload = json.dumps(dict(claims_or_bytes), separators=(",", ":"), allow_nan=False).encode("utf-8")
    else:
        raise TypeError(f"sign() needs a claims mapping or payload bytes, not {type(claims_or_bytes).__name__}")
    signer = _prepared(key, spec, allow_weak_key, signing=True)
    signing_input = (b64url_encode(json.dumps(header, separators=(",", ":"), allow_nan=False)) + "."
                     + b64url_encode(payload))
    return signing_input + "." + b64url_encode(signer(signing_input.encode("ascii")))


def _verify_signature(token: object, key: Any, algorithms: Sequence[str], typ: str | None,
                      allow_weak_key: bool) -> tuple[dict[str, Any], bytes, Any]:
    """Everything up to and including the signature; returns (header, payload bytes, key that matched)."""
    allowed = _allowed(algorithms)
    header, signing_input, payload, signature = _split(token)
    alg = header["alg"]
    if alg not in allowed:
        raise _refuse_alg(alg, allowed)
    if typ is not None:
        check_type(header, typ)
    spec = _ALGS[alg]
    if type(key) is bytes or type(key) is str or not hasattr(key, "keys_for"):
        _prepared(key, spec, allow_weak_key, False)(signature, signing_input)
        return header, payload, key
    candidates = key.keys_for(header)
    if not candidates:
        which = f"kid {header['kid']!r}" if "kid" in header else "any key"
        raise DisallowedAlgorithm(f"no key in the key set fits alg {alg} ({which}: wrong type, curve, alg or use)")
    failures = []
    for candidate in candidates:
        try:
            _prepared(candidate, spec, allow_weak_key, False)(signature, signing_input)
        except BadSignature as exc:
            failures.append(exc)
        else:
            return header, payload, candidate
    if len(failures) == 1:
        raise failures[0]
    raise BadSignature(f"{alg} signature matches none of the {len(failures)} keys allowed for it")


def verify(token: str, key: Any, algorithms: Sequence[str], *, issuer: str | None = None,
           audience: str | None = None, leeway: float = 0, now: float | None = None, typ: str | None = None,
           required: Iterable[str] = (), allow_weak_key: bool = False) -> dict[str, Any]:
    """Verify the signature with ``key`` under one of ``algorithms``, then the claims; return the claims.

    Raises an ``InvalidToken`` subclass naming the exact reason; ``ConfigurationError`` for a bad
    algorithm list; ``KeyMismatch`` when ``key`` cannot serve the (allowed) algorithm; ``NetworkError``
    when a ``KeySet`` cannot fetch its keys.
    """
    _, payload, _ = _verify_signature(token, key, algorithms, typ, allow_weak_key)
    claims = _claims(payload)
    check_claims(claims, now=now, leeway=leeway, issuer=issuer, audience=audience, required=required)
    return claims


def verify_token(token: str, key: Any, algorithms: Sequence[str], *, issuer: str | None = None,
                 audience: str | None = None, leeway: float = 0, now: float | None = None, typ: str | None = None,
                 required: Iterable[str] = (), allow_weak_key: bool = False) -> VerifiedToken:
    """Like ``verify``, but also return the header and the key that matched (e.g. the JWK chosen by ``kid``)."""
    header, payload, used = _verify_signature(token, key, algorithms, typ, allow_weak_key)
    claims = _claims(payload)
    check_claims(claims, now=now, leeway=leeway, issuer=issuer, audience=audience, required=required)
    return VerifiedToken(_copy_header(header), claims, used)


def verify_payload(token: str, key: Any, algorithms: Sequence[str], *, typ: str | None = None,
                   allow_weak_key: bool = False) -> bytes:
    """Verify the signature only and return the payload bytes: for a JWS whose payload is not a claims set
    (RFC 8037 A.4 signs plain text). Tokens used for authentication go through ``verify`` instead."""
    return _verify_signature(token, key, algorithms, typ, allow_weak_key)[1]


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) WITHOUT checking anything: for display and debugging only, never for decisions.

    Decoding is still strict. An unsigned token (empty signature) is decoded too, so it can be shown.
    """
    if isinstance(token, str) and token.endswith(".") and token.count(".") == 2:
        token += "AA"  # a placeholder signature, so split_token accepts what it would refuse as unsigned
    parts = split_token(token)
    return dict(parts.header), parts.claims()
