"""Fixed demo keys, so the notebooks' stored outputs are the same on every run.

The private keys under ``data/demo_keys/`` were generated once and committed. They are public knowledge:
never use them for anything but these notebooks. Fresh keys come from ``cryptography``, e.g.
``rsa.generate_private_key(public_exponent=65537, key_size=2048)``.
"""

from __future__ import annotations

from importlib.resources import files

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

__all__ = ["DEMO_KEYS", "DemoPrivateKey", "demo_key", "demo_key_pem"]

DemoPrivateKey = RSAPrivateKey | EllipticCurvePrivateKey | Ed25519PrivateKey

#: name -> what the key plays in the notebooks.
DEMO_KEYS: dict[str, str] = {
    "rs256": "the identity provider's RSA 2048 signing key (RS256)",
    "rs256-next": "the provider's next RSA key, for the rotation demo",
    "es256": "an EC P-256 key (ES256)",
    "ed25519": "an Ed25519 key (EdDSA)",
    "attacker": "an attacker's own RSA key, for the key-injection attacks",
}


def demo_key_pem(name: str) -> bytes:
    """The PKCS#8 PEM of the named demo private key."""
    if name not in DEMO_KEYS:
        raise KeyError(f"no demo key {name!r}; known: {', '.join(DEMO_KEYS)}")
    return (files("altx10_helpers") / "data" / "demo_keys" / f"{name}.pem").read_bytes()


def demo_key(name: str) -> DemoPrivateKey:
    """Load the named demo private key as a ``cryptography`` object (``.public_key()`` gives its public half)."""
    key = load_pem_private_key(demo_key_pem(name), password=None)
    assert isinstance(key, RSAPrivateKey | EllipticCurvePrivateKey | Ed25519PrivateKey)
    return key
