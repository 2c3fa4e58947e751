"""JSON Web Keys (RFC 7517/7518/8037): import, export, thumbprints, key sets and a JWKS cache.

An identity provider publishes its *public* keys as a JWKS at its ``jwks_uri``; every app fetches them
once, caches them, and verifies tokens without ever holding a secret. Parsing is strict because a JWKS
crosses the network: each bad member raises ``InvalidKey`` naming it, a private key (or a shared ``oct``
secret) is refused where a public key is expected, and an EC point must lie on its curve.

``KeySet`` is the cache: keys live for a TTL, an unknown ``kid`` (the provider rotated its key)
triggers at most one refetch per ``min_refetch_interval``, and a failed fetch raises ``NetworkError``
without throwing away the keys already known. The URL is the caller's, never a token's.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .b64 import b64url_decode, b64url_encode
from .errors import BadSignature, ConfigurationError, InvalidKey, KeyMismatch, MalformedToken, NetworkError

__all__ = ["CURVE_FOR_ALG", "JWK", "JWKS", "KTY_FOR_ALG", "KeySet", "fetch_jwks"]

#: The key type each JWS algorithm needs (RFC 7518 section 3, RFC 8037, RFC 9864).
KTY_FOR_ALG: dict[str, str] = {
    "HS256": "oct", "HS384": "oct", "HS512": "oct",
    "RS256": "RSA", "RS384": "RSA", "RS512": "RSA", "PS256": "RSA",
    "ES256": "EC", "ES384": "EC", "ES512": "EC",
    "EdDSA": "OKP", "Ed25519": "OKP",
}

#: The one curve each elliptic-curve algorithm may use (ES256 on P-384 is a mismatch, not a variant).
CURVE_FOR_ALG: dict[str, str] = {
    "ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "EdDSA": "Ed25519", "Ed25519": "Ed25519",
}

_EC_CURVES: dict[str, tuple[type[ec.EllipticCurve], int]] = {
    "P-256": (ec.SECP256R1, 32),
    "P-384": (ec.SECP384R1, 48),
    "P-521": (ec.SECP521R1, 66),
}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_RSA_PRIVATE_MEMBERS = ("p", "q", "dp", "dq", "qi")
_PRIVATE_KEYS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)


def _uint(n: int, size: int | None = None) -> str:
    """Base64url of a non-negative integer: minimal octets, or exactly ``size`` octets."""
    if size is None:
        size = max(1, (n.bit_length() + 7) // 8)
    return b64url_encode(n.to_bytes(size, "big"))


class _Reader:
    """Reads members of one JWK object, naming the member (and its place in a JWKS) in every error."""

    def __init__(self, data: Mapping[str, Any], where: str):
        self.data = data
        self.where = where

    def fail(self, name: str, problem: str) -> InvalidKey:
        return InvalidKey(f"{self.where}member {name!r}: {problem}")

    def text(self, name: str, *, required: bool = True) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "is missing")
            return None
        if not isinstance(value, str):
            raise self.fail(name, f"must be a string, got {type(value).__name__}")
        return value

    def octets(self, name: str, *, size: int | None = None, required: bool = True) -> bytes | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            raw = b64url_decode(value)
        except ValueError as exc:
            raise self.fail(name, f"not base64url ({exc})") from None
        if not raw:
            raise self.fail(name, "is empty")
        if size is not None and len(raw) != size:
            raise self.fail(name, f"must be exactly {size} octets, got {len(raw)}")
        return raw

    def uint(self, name: str) -> int:
        return int.from_bytes(self.octets(name) or b"", "big")


def _check_binding(kty: str, crv: str | None, alg: str | None) -> None:
    """A JWK's ``alg`` must be one its key type can do (RS256 on an EC key is refused)."""
    if alg is None or alg not in KTY_FOR_ALG:
        return  # absent, or an algorithm we never verify with (e.g. RSA-OAEP): it binds the key to nothing of ours
    if KTY_FOR_ALG[alg] != kty:
        raise KeyMismatch(f"alg {alg!r} needs a {KTY_FOR_ALG[alg]} key, this JWK is kty {kty!r}")
    if alg in CURVE_FOR_ALG and CURVE_FOR_ALG[alg] != crv:
        raise KeyMismatch(f"alg {alg!r} needs curve {CURVE_FOR_ALG[alg]}, this key is on {crv}")


def _curve_of(key: Any) -> str | None:
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        name = _CURVE_NAMES.get(key.curve.name)
        if name is None:
            raise InvalidKey(f"EC curve {key.curve.name} is not supported (P-256, P-384, P-521 are)")
        return name
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "Ed25519"
    return None


def _kty_of(key: Any) -> str:
    if isinstance(key, bytes):
        return "oct"
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "RSA"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return "EC"
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "OKP"
    raise InvalidKey(f"unsupported key type {type(key).__name__}: use bytes, or an RSA, EC or Ed25519 key")


@dataclass(frozen=True, eq=False, repr=False)
class JWK:
    """One key with its JOSE metadata. ``key`` is bytes for ``oct``, else a ``cryptography`` key object.

    ``alg``, when set, binds the key: it verifies (and signs) that algorithm only.
    """

    kty: str
    key: Any
    kid: str | None = None
    alg: str | None = None
    use: str | None = None

    def __post_init__(self) -> None:
        if _kty_of(self.key) != self.kty:
            raise InvalidKey(f"kty {self.kty!r} does not describe a {type(self.key).__name__}")
        _check_binding(self.kty, self.crv, self.alg)

    @property
    def crv(self) -> str | None:
        """The curve name for EC and OKP keys (``P-256``, ``Ed25519``), else None."""
        return _curve_of(self.key)

    @property
    def is_private(self) -> bool:
        """True for private keys and for ``oct`` secrets (which must never be published)."""
        return self.kty == "oct" or isinstance(self.key, _PRIVATE_KEYS)

    def __repr__(self) -> str:  # never shows key material
        extras = "".join(f", {n}={getattr(self, n)!r}" for n in ("kid", "alg", "use") if getattr(self, n))
        return f"JWK(kty={self.kty!r}{extras}, {'private' if self.is_private else 'public'})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JWK):
            return NotImplemented
        return self.to_dict(private=True) == other.to_dict(private=True)

    def __hash__(self) -> int:
        return hash((self.kid, self.thumbprint()))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, allow_private: bool = False, _where: str = "") -> JWK:
        """Import a JWK object; ``allow_private`` must be set to accept private keys or ``oct`` secrets."""
        if not isinstance(data, Mapping):
            raise InvalidKey(f"{_where}a JWK must be a JSON object, got {type(data).__name__}")
        r = _Reader(data, f"{_where}JWK " if _where else "JWK ")
        kty = r.text("kty")
        kid, alg, use = r.text("kid", required=False), r.text("alg", required=False), r.text("use", required=False)
        key_ops = data.get("key_ops")
        if key_ops is not None and not (isinstance(key_ops, list) and all(isinstance(o, str) for o in key_ops)):
            raise r.fail("key_ops", "must be an array of strings")

        def private(name: str) -> None:
            if not allow_private:
                raise r.fail(name, "this is a private key (or secret) where a public key was expected")

        key: Any
        if kty == "oct":
            private("k")
            key = r.octets("k")
        elif kty == "RSA":
            key = _rsa_from(r, private)
        elif kty == "EC":
            key = _ec_from(r, private)
        elif kty == "OKP":
            key = _okp_from(r, private)
        else:
            raise r.fail("kty", f"unsupported key type {kty!r} (oct, RSA, EC and OKP are)")
        try:
            return cls(kty, key, kid=kid, alg=alg, use=use)
        except KeyMismatch as exc:
            raise KeyMismatch(f"{r.where}member 'alg': {exc}") from None

    @classmethod
    def from_key(cls, key: Any, *, alg: str | None = None, kid: str | None = None, use: str | None = None) -> JWK:
        """Wrap bytes (an HMAC secret), a str secret (UTF-8) or a ``cryptography`` key as a JWK."""
        if isinstance(key, JWK):
            return replace(key, alg=alg or key.alg, kid=kid or key.kid, use=use or key.use)
        if isinstance(key, str):
            key = key.encode("utf-8")
        elif isinstance(key, (bytearray, memoryview)):
            key = bytes(key)
        return cls(_kty_of(key), key, kid=kid, alg=alg, use=use)

    def public(self) -> JWK:
        """The public half (same kid, alg, use). An ``oct`` secret has none."""
        if self.kty == "oct":
            raise InvalidKey("an oct key is a shared secret: it has no public half to publish")
        if not isinstance(self.key, _PRIVATE_KEYS):
            return self
        return replace(self, key=self.key.public_key())

    def to_dict(self, private: bool = False) -> dict[str, Any]:
        """Export as a JWK object; private members (and ``oct`` secrets) only with ``private=True``."""
        if self.kty == "oct":
            if not private:
                raise InvalidKey("an oct key is a secret: export it only with to_dict(private=True)")
            out: dict[str, Any] = {"kty": "oct", "k": b64url_encode(self.key)}
        elif self.kty == "RSA":
            out = _rsa_to(self.key, private)
        elif self.kty == "EC":
            out = _ec_to(self.key, private)
        else:
            out = _okp_to(self.key, private)
        for name in ("alg", "kid", "use"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    def thumbprint(self, hash_name: str = "sha256") -> str:
        """RFC 7638 thumbprint: the hash of the required members, sorted, without whitespace, base64url."""
        members = {"oct": ("k", "kty"), "RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"),
                   "OKP": ("crv", "kty", "x")}[self.kty]
        full = self.to_dict(private=self.kty == "oct")
        canonical = json.dumps({m: full[m] for m in members}, separators=(",", ":"), sort_keys=True)
        return b64url_encode(hashlib.new(hash_name, canonical.encode("utf-8")).digest())


def _rsa_from(r: _Reader, private: Callable[[str], None]) -> rsa.RSAPrivateKey | rsa.RSAPublicKey:
    n, e = r.uint("n"), r.uint("e")
    if e < 3 or e % 2 == 0:
        raise r.fail("e", f"RSA public exponent must be odd and at least 3, got {e}")
    if n <= e:
        raise r.fail("n", "RSA modulus is smaller than its exponent")
    public = rsa.RSAPublicNumbers(e, n)
    if "oth" in r.data:
        raise r.fail("oth", "multi-prime RSA keys are not supported")
    if r.data.get("d") is None:
        present = [m for m in _RSA_PRIVATE_MEMBERS if m in r.data]
        if present:
            raise r.fail(present[0], "private RSA member without 'd'")
        try:
            return public.public_key()
        except ValueError as exc:
            raise r.fail("n", f"not a valid RSA public key ({exc})") from None
    private("d")
    d = r.uint("d")
    present = [m for m in _RSA_PRIVATE_MEMBERS if r.data.get(m) is not None]
    if present and len(present) != len(_RSA_PRIVATE_MEMBERS):
        missing = next(m for m in _RSA_PRIVATE_MEMBERS if m not in present)
        raise r.fail(missing, "is missing (p, q, dp, dq and qi come together)")
    try:
        if present:
            p, q, dp, dq, qi = (r.uint(m) for m in _RSA_PRIVATE_MEMBERS)
        else:
            p, q = rsa.rsa_recover_prime_factors(n, e, d)
            dp, dq, qi = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)
        return rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public).private_key()
    except ValueError as exc:
        raise r.fail("d", f"the private members do not form a valid RSA key with n and e ({exc})") from None


def _rsa_to(key: rsa.RSAPrivateKey | rsa.RSAPublicKey, private: bool) -> dict[str, Any]:
    pub = key.public_key().public_numbers() if isinstance(key, rsa.RSAPrivateKey) else key.public_numbers()
    out: dict[str, Any] = {"kty": "RSA", "n": _uint(pub.n), "e": _uint(pub.e)}
    if private and isinstance(key, rsa.RSAPrivateKey):
        nums = key.private_numbers()
        out.update(d=_uint(nums.d), p=_uint(nums.p), q=_uint(nums.q), dp=_uint(nums.dmp1), dq=_uint(nums.dmq1),
                   qi=_uint(nums.iqmp))
    return out


def _ec_from(r: _Reader, private: Callable[[str], None]) -> ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey:
    crv = r.text("crv")
    if crv not in _EC_CURVES:
        raise r.fail("crv", f"unsupported curve {crv!r} (P-256, P-384, P-521 are)")
    curve, size = _EC_CURVES[crv]
    x = int.from_bytes(r.octets("x", size=size) or b"", "big")
    y = int.from_bytes(r.octets("y", size=size) or b"", "big")
    public = ec.EllipticCurvePublicNumbers(x, y, curve())
    if r.data.get("d") is None:
        try:
            return public.public_key()
        except ValueError:
            raise r.fail("x", f"the point (x, y) is not on curve {crv}") from None
    private("d")
    d = int.from_bytes(r.octets("d", size=size) or b"", "big")
    try:
        public.public_key()
    except ValueError:
        raise r.fail("x", f"the point (x, y) is not on curve {crv}") from None
    try:
        return ec.EllipticCurvePrivateNumbers(d, public).private_key()
    except ValueError:
        raise r.fail("d", "does not match the public point (x, y)") from None


def _ec_to(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey, private: bool) -> dict[str, Any]:
    crv = _curve_of(key)
    assert crv is not None
    size = _EC_CURVES[crv][1]
    pub = key.public_key().public_numbers() if isinstance(key, ec.EllipticCurvePrivateKey) else key.public_numbers()
    out: dict[str, Any] = {"kty": "EC", "crv": crv, "x": _uint(pub.x, size), "y": _uint(pub.y, size)}
    if private and isinstance(key, ec.EllipticCurvePrivateKey):
        out["d"] = _uint(key.private_numbers().private_value, size)
    return out


def _okp_from(r: _Reader, private: Callable[[str], None]) -> ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey:
    crv = r.text("crv")
    if crv != "Ed25519":
        raise r.fail("crv", f"unsupported OKP curve {crv!r} (Ed25519 is)")
    x = r.octets("x", size=32) or b""
    if r.data.get("d") is None:
        return ed25519.Ed25519PublicKey.from_public_bytes(x)
    private("d")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(r.octets("d", size=32) or b"")
    if key.public_key().public_bytes_raw() != x:
        raise r.fail("x", "is not the public key of 'd'")
    return key


def _okp_to(key: ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey, private: bool) -> dict[str, Any]:
    pub = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey) else key
    out: dict[str, Any] = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(pub.public_bytes_raw())}
    if private and isinstance(key, ed25519.Ed25519PrivateKey):
        out["d"] = b64url_encode(key.private_bytes_raw())
    return out


def _fits(jwk: JWK, alg: str) -> bool:
    """Whether this key may verify ``alg``: a signing key (not ``use: enc``) of the right type, curve and binding."""
    return (jwk.use in (None, "sig") and (jwk.alg is None or jwk.alg == alg) and KTY_FOR_ALG.get(alg) == jwk.kty
            and CURVE_FOR_ALG.get(alg, jwk.crv) == jwk.crv)


class JWKS:
    """A JWK Set: the keys an issuer publishes, selected by ``kid`` and algorithm."""

    def __init__(self, keys: list[JWK] | tuple[JWK, ...]):
        if not all(isinstance(k, JWK) for k in keys):
            raise InvalidKey("a JWKS holds JWK objects only")
        self.keys: tuple[JWK, ...] = tuple(keys)

    def __repr__(self) -> str:
        return f"JWKS({list(self.keys)!r})"

    def __iter__(self) -> Iterator[JWK]:
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, allow_private: bool = False) -> JWKS:
        """Import ``{"keys": [...]}``; a bad key raises ``InvalidKey`` naming ``keys[i]`` and the member."""
        if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
            raise InvalidKey("a JWKS must be a JSON object with a 'keys' array")
        return cls([JWK.from_dict(d, allow_private=allow_private, _where=f"keys[{i}]: ")
                    for i, d in enumerate(data["keys"])])

    def to_dict(self) -> dict[str, Any]:
        """The public JWKS, as published at a ``jwks_uri``."""
        return {"keys": [k.to_dict() for k in self.keys]}

    def get(self, kid: str) -> JWK | None:
        """The first key with this ``kid``, or None."""
        return next((k for k in self.keys if k.kid == kid), None)

    def keys_for(self, header: Mapping[str, Any]) -> list[JWK]:
        """The keys that may verify a token with this header; ``kid`` only *selects* among our own keys.

        With a ``kid``: the keys carrying it (an unknown ``kid`` is refused). Without: the single key if
        there is exactly one, else every key allowed for the token's ``alg``.
        """
        kid = header.get("kid")
        alg = header.get("alg")
        if kid is not None:
            if not isinstance(kid, str):
                raise MalformedToken(f"header kid must be a string, got {type(kid).__name__}")
            chosen: tuple[JWK, ...] | list[JWK] = [k for k in self.keys if k.kid == kid]
            if not chosen:
                raise BadSignature(f"no key with kid {kid!r} in the key set")
        else:
            chosen = self.keys  # one key, or several: either way only those fitting the alg are tried
        return [k for k in chosen if isinstance(alg, str) and _fits(k, alg)]


def fetch_jwks(url: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """GET a JWKS document; any failure (network, timeout, non-200, not a JSON object) is a ``NetworkError``."""
    try:
        response = requests.get(url, timeout=timeout,
                                headers={"Accept": "application/jwk-set+json, application/json"})
    except requests.RequestException as exc:
        raise NetworkError(f"fetching the JWKS at {url} failed: {exc.__class__.__name__}: {exc}") from None
    if response.status_code != 200:
        raise NetworkError(f"the JWKS endpoint {url} answered HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        start = response.text[:40]
        raise NetworkError(f"the JWKS endpoint {url} did not answer JSON "
                           f"(Content-Type {response.headers.get('Content-Type')!r}, starts {start!r})") from None
    if not isinstance(data, dict):
        raise NetworkError(f"the JWKS endpoint {url} answered JSON that is not an object")
    return data


class KeySet:
    """A JWKS cache for one issuer, usable as ``key`` in ``jws.verify``.

    Keys are fetched on first use and after ``ttl`` seconds. A token whose ``kid`` is unknown triggers a
    refetch (the provider may have rotated its key), but fetches are at most one per
    ``min_refetch_interval``, so a flood of tokens with made-up kids costs the provider nothing.
    A failed fetch raises ``NetworkError`` and keeps the keys already cached. ``fetch`` and ``clock``
    are injectable; ``fetch_count`` counts fetch attempts.
    """

    def __init__(self, jwks_uri: str, *, fetch: Callable[[str], dict] | None = None, ttl: float = 300,
                 min_refetch_interval: float = 60, clock: Callable[[], float] = time.monotonic):
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise ConfigurationError(f"jwks_uri must be an http(s) URL, got {jwks_uri!r}")
        if ttl < 0 or min_refetch_interval < 0:
            raise ConfigurationError("ttl and min_refetch_interval must not be negative")
        self.jwks_uri = jwks_uri
        self._fetch = fetch or fetch_jwks
        self.ttl = ttl
        self.min_refetch_interval = min_refetch_interval
        self._clock = clock
        self._jwks: JWKS | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self._last_error = ""
        self._lock = threading.Lock()
        self.fetch_count = 0

    def __repr__(self) -> str:
        known = "not fetched" if self._jwks is None else f"{len(self._jwks)} keys"
        return f"KeySet({self.jwks_uri!r}, {known}, fetches={self.fetch_count})"

    @property
    def jwks(self) -> JWKS | None:
        """The cached key set (None before the first successful fetch)."""
        return self._jwks

    def keys_for(self, header: Mapping[str, Any]) -> list[JWK]:
        """Keys for this header, fetching when the cache is empty or stale or the ``kid`` is unknown."""
        jwks = self._jwks
        if jwks is None or self._clock() - self._fetched_at >= self.ttl:
            jwks = self._refresh()
        kid = header.get("kid")
        if isinstance(kid, str) and jwks.get(kid) is None:
            jwks = self._refresh()
        return jwks.keys_for(header)

    def _refresh(self) -> JWKS:
        """Fetch unless the last attempt was under ``min_refetch_interval`` ago; return the keys to use."""
        with self._lock:
            now = self._clock()
            if self._attempted_at is not None and now - self._attempted_at < self.min_refetch_interval:
                if self._jwks is None:
                    raise NetworkError(f"no keys from {self.jwks_uri} yet; the last fetch failed "
                                       f"({self._last_error}); retrying after {self.min_refetch_interval:g} s")
                return self._jwks
            self._attempted_at = now
            self.fetch_count += 1
            try:
                data = self._fetch(self.jwks_uri)
                if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
                    raise NetworkError(f"{self.jwks_uri} answered JSON without a 'keys' array")
                jwks = JWKS.from_dict(data)
            except NetworkError as exc:
                self._last_error = str(exc)
                raise
            except InvalidKey as exc:
                self._last_error = f"unusable JWKS from {self.jwks_uri}: {exc}"
                raise NetworkError(self._last_error) from exc
            except Exception as exc:  # an injected fetch may raise anything: it is still a network failure
                self._last_error = f"fetching {self.jwks_uri} failed: {exc.__class__.__name__}: {exc}"
                raise NetworkError(self._last_error) from exc
            self._jwks = jwks
            self._fetched_at = now
            return jwks
