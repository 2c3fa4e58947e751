"""The stand-in's signing key: one key, one algorithm, published as a one-key JWKS.

Signing and verification use ``cryptography`` directly (not ``altx10_helpers.jws``), so the
package's own JOSE code is tested against an independent implementation.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from ..anatomy import split_token
from ..b64 import b64url_encode
from ..errors import BadSignature, InvalidKey, InvalidToken, WeakKey

__all__ = ["PrivateKey", "SigningKey", "demo_key", "generate_key"]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

DEMO_KEY_FILE = "pocket_id_demo_rsa.pem"


@lru_cache(maxsize=1)
def demo_key() -> rsa.RSAPrivateKey:
    """The fixed, published RSA-2048 demo key, so notebook outputs are the same on every run.

    It is public knowledge: never let it sign anything outside the notebooks.
    """
    pem = (files("altx10_helpers") / "data" / DEMO_KEY_FILE).read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidKey("the demo key file does not hold an RSA key")
    return key


def generate_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 key, Pocket ID's default."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _uint(n: int, size: int | None = None) -> str:
    return b64url_encode(n.to_bytes(size or (n.bit_length() + 7) // 8, "big"))


def _json(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


class SigningKey:
    """A private key bound to exactly one algorithm and one ``kid``.

    RSA (>= 2048 bits) signs RS256, EC P-256 signs ES256 (raw R||S), Ed25519 signs EdDSA.
    """

    def __init__(self, private_key: PrivateKey, kid: str):
        if isinstance(private_key, rsa.RSAPrivateKey):
            if private_key.key_size < 2048:
                raise WeakKey(f"RSA keys need at least 2048 bits, got {private_key.key_size}")
            self.alg = "RS256"
        elif isinstance(private_key, ec.EllipticCurvePrivateKey):
            if not isinstance(private_key.curve, ec.SECP256R1):
                raise InvalidKey(f"EC keys must be on P-256 for ES256, got {private_key.curve.name}")
            self.alg = "ES256"
        elif isinstance(private_key, ed25519.Ed25519PrivateKey):
            self.alg = "EdDSA"
        else:
            raise InvalidKey(f"unsupported signing key type {type(private_key).__name__}")
        self.private_key = private_key
        self.public_key = private_key.public_key()
        self.kid = kid

    def public_jwk(self) -> dict[str, str]:
        """The public half as a JWK with ``alg``, ``kid`` and ``use: sig``."""
        pub = self.public_key
        if isinstance(pub, rsa.RSAPublicKey):
            nums = pub.public_numbers()
            jwk = {"kty": "RSA", "n": _uint(nums.n), "e": _uint(nums.e)}
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            nums = pub.public_numbers()
            jwk = {"kty": "EC", "crv": "P-256", "x": _uint(nums.x, 32), "y": _uint(nums.y, 32)}
        else:
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
        return {**jwk, "alg": self.alg, "kid": self.kid, "use": "sig"}

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())

    def sign(self, claims: dict[str, Any], *, typ: str) -> str:
        """A compact JWS with header ``{"alg","kid","typ"}`` over the sorted, compact JSON claims."""
        header = {"alg": self.alg, "kid": self.kid, "typ": typ}
        signing_input = b64url_encode(_json(header)) + "." + b64url_encode(_json(claims))
        return signing_input + "." + b64url_encode(self._sign(signing_input.encode("ascii")))

    def _sign(self, data: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if isinstance(key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return key.sign(data)

    def verify(self, token: str, *, typ: str) -> dict[str, Any]:
        """Check structure, ``alg``, ``kid``, ``typ`` and signature; return the claims (times are the caller's job)."""
        parts = split_token(token)
        header = parts.header
        if header.get("alg") != self.alg or header.get("kid") != self.kid:
            raise BadSignature("token was not signed by the current key")
        if header.get("typ") != typ:
            raise InvalidToken(f"token typ is {header.get('typ')!r}, expected {typ!r}")
        sig, data = parts.signature, parts.signing_input
        pub = self.public_key
        try:
            if isinstance(pub, rsa.RSAPublicKey):
                pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
            elif isinstance(pub, ec.EllipticCurvePublicKey):
                if len(sig) != 64:
                    raise BadSignature("ES256 signatures are 64 bytes")
                r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
                pub.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
            else:
                pub.verify(sig, data)
        except InvalidSignature as exc:
            raise BadSignature("signature does not verify") from exc
        return parts.claims()

    def token_hash(self, token: str) -> str:
        """``at_hash``: the left half of the token's hash (SHA-256, SHA-512 for EdDSA)."""
        digest = (hashlib.sha512 if self.alg == "EdDSA" else hashlib.sha256)(token.encode("ascii")).digest()
        return b64url_encode(digest[: len(digest) // 2])
