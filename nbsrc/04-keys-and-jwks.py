# %% [markdown]
# # Keys and JWKS
#
# Pocket ID signs its ID tokens with a **private** key and publishes the matching **public** key. Every altx10
# app verifies with the public key, and none of them can sign. Here we sign and verify with RSA, elliptic-curve
# and Ed25519 keys, publish public keys as JWKs, fingerprint them, and rotate them the way a provider does.

# %% [markdown]
# ## Learning objectives
#
# After this notebook you can:
#
# - sign and verify RS256, ES256 and EdDSA tokens with `cryptography` keys;
# - explain why an ES256 signature changes on every signing and an RS256 or EdDSA one does not;
# - export a public key as a JWK, publish several as a JWKS, and compute an RFC 7638 thumbprint;
# - say why one published public key lets every app verify without sharing a secret;
# - rotate a key: old tokens stop verifying, and the app's key cache refetches exactly once for the new `kid`.
#
# **Prerequisites:** [02: Verifying a JWT](02-verifying-a-jwt.ipynb), [03: Breaking JWTs](03-breaking-jwts.ipynb). Time to learn: about 35 minutes.

# %%
import hashlib
import json

from cryptography.hazmat.primitives.asymmetric import rsa

from altx10_helpers import JWK, JWKS, InvalidToken, KeySet, b64url_decode, b64url_encode, sign, verify
from altx10_helpers.demo import DEMO_KEYS, demo_key

# %% [markdown]
# ## Fixed demo keys
#
# Fresh keys are one call away, e.g. a 2048-bit RSA key:

# %%
fresh = rsa.generate_private_key(public_exponent=65537, key_size=2048)
fresh.key_size

# %% [markdown]
# But every fresh key gives different tokens, JWKs and thumbprints, and this notebook stores its outputs. So it
# uses keys generated once and committed with the package (`altx10_helpers/data/demo_keys/`). They are
# public now, so they are good for nothing but this series.

# %%
for name, role in DEMO_KEYS.items():
    print(f"{name:<11} {role}")

# %%
RSA_KEY = demo_key("rs256")
EC_KEY = demo_key("es256")
ED_KEY = demo_key("ed25519")
RSA_KEY.key_size, EC_KEY.curve.name, type(ED_KEY).__name__

# %% [markdown]
# The claims an identity provider puts in an ID token, with a frozen clock as before:

# %%
NOW = 1_767_225_600
IDP = "https://id.altx10.dev"
CLAIMS = {"iss": IDP, "aud": "notes", "sub": "tom", "iat": NOW, "exp": NOW + 300}
CHECKS = {"issuer": IDP, "audience": "notes", "now": NOW}

# %% [markdown]
# ## RS256: RSA with SHA-256
#
# RSASSA-PKCS1-v1_5 is deterministic: the same key and claims give the same token every time. The signature is
# as long as the modulus, 256 bytes.

# %%
rs_token = sign(CLAIMS, RSA_KEY, "RS256", headers={"kid": "rsa-2026"})
print(rs_token)

# %%
len(b64url_decode(rs_token.split(".")[2]))

# %% [markdown]
# Verifying needs only the public key:

# %%
verify(rs_token, RSA_KEY.public_key(), ["RS256"], **CHECKS)["sub"]

# %% [markdown]
# ## ES256: ECDSA on P-256
#
# A JWS carries an ECDSA signature as the raw 32-byte `r` and 32-byte `s` side by side (RFC 7518 section
# 3.4), 64 bytes, not the DER structure `cryptography` produces; the package converts between the two.
#
# ECDSA draws a fresh random number for every signature, so **an ES256 token is different every time it is
# signed**. That is why this notebook never prints one: its stored output would never match a re-run. We
# print what is stable instead: the length, and whether it verifies.

# %%
es_token = sign(CLAIMS, EC_KEY, "ES256", headers={"kid": "ec-2026"})
len(es_token), len(b64url_decode(es_token.split(".")[2]))

# %%
verify(es_token, EC_KEY.public_key(), ["ES256"], **CHECKS)["sub"]

# %% [markdown]
# Sign the same claims again: a different signature, and both verify. (The random number must never repeat or
# leak: Sony's PlayStation 3 signing key was recovered in 2010 because it reused one.)

# %%
es_again = sign(CLAIMS, EC_KEY, "ES256", headers={"kid": "ec-2026"})
es_again == es_token, verify(es_again, EC_KEY.public_key(), ["ES256"], **CHECKS)["sub"]

# %% [markdown]
# ## EdDSA: Ed25519
#
# Ed25519 derives its per-signature number from the key and the message, so it is deterministic like RS256,
# short like ES256 (a 64-byte signature), and fast.

# %%
ed_token = sign(CLAIMS, ED_KEY, "EdDSA", headers={"kid": "ed-2026"})
print(ed_token)

# %%
verify(ed_token, ED_KEY.public_key(), ["EdDSA"], **CHECKS)["sub"]

# %% [markdown]
# A key works for its own algorithm family only. An EC public key asked to verify RS256 is refused before any
# signature check:

# %% tags=["raises-exception"]
verify(rs_token, EC_KEY.public_key(), ["RS256"], **CHECKS)

# %% [markdown]
# ## The public key as a JWK
#
# A JSON Web Key (RFC 7517) writes a key as JSON: `kty` (the key type), the key's numbers in base64url, and
# optional `kid`, `alg` and `use`. Exported from the private key, it contains only the public half.

# %%
rsa_jwk = JWK.from_key(RSA_KEY, alg="RS256", kid="rsa-2026", use="sig")
public_rsa = rsa_jwk.to_dict()
print(json.dumps(public_rsa, indent=2))

# %%
"d" in public_rsa, sorted(rsa_jwk.to_dict(private=True))

# %% [markdown]
# The EC and Ed25519 public keys are much shorter:

# %%
ec_jwk = JWK.from_key(EC_KEY, alg="ES256", kid="ec-2026", use="sig")
ed_jwk = JWK.from_key(ED_KEY, alg="EdDSA", kid="ed-2026", use="sig")
print(json.dumps(ec_jwk.to_dict()))
print(json.dumps(ed_jwk.to_dict()))

# %% [markdown]
# ## The JWKS: what a provider publishes
#
# A JWK Set is `{"keys": [...]}`. A provider serves it at the `jwks_uri` of its discovery document; Pocket ID
# serves it at `/.well-known/jwks.json`. Only public keys go in it.

# %%
PUBLISHED = JWKS([rsa_jwk, ec_jwk, ed_jwk]).to_dict()
[(k["kid"], k["kty"], k["alg"]) for k in PUBLISHED["keys"]]

# %% [markdown]
# A verifier passes the whole set as the key; the token's `kid` only *selects* among these keys, it never
# brings a key of its own (notebook 03).

# %%
app_keys = JWKS.from_dict(PUBLISHED)
[verify(t, app_keys, ["RS256", "ES256", "EdDSA"], **CHECKS)["sub"] for t in (rs_token, es_token, ed_token)]

# %% [markdown]
# ## Thumbprints (RFC 7638)
#
# A thumbprint names a key by its content: hash the key's *required* members, sorted by name, written as JSON
# without whitespace. By hand, for the RSA key:

# %%
canonical = json.dumps({m: public_rsa[m] for m in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
by_hand = b64url_encode(hashlib.sha256(canonical.encode()).digest())
by_hand

# %%
by_hand == rsa_jwk.thumbprint(), ec_jwk.thumbprint(), ed_jwk.thumbprint()

# %% [markdown]
# `kid`, `alg` and `use` are not part of it, so the same key has the same thumbprint wherever it is published;
# many providers use it as the `kid`.

# %% [markdown]
# ## Why one public key is enough for every app
#
# With HS256, every app that verifies must hold the secret, and anything that holds the secret can also mint
# tokens: one leaky app could log in as anyone on every other app. With RS256, Pocket ID keeps the private key;
# `notes`, `photos` and every future `{app}.altx10.dev` fetch the same public JWKS and verify. None of them can
# sign:

# %% tags=["raises-exception"]
sign(CLAIMS | {"sub": "admin"}, app_keys.get("rsa-2026"), "RS256")

# %% [markdown]
# Nothing secret was shared, so there is nothing to leak, and adding an app means telling it one URL.

# %% [markdown]
# ## Rotation, and a JWKS cache
#
# Providers replace their signing key from time to time. An app should not fetch the JWKS on every request, nor
# keep a stale one forever. `KeySet` caches the JWKS for a time-to-live, and when a token names a `kid` it
# does not know, it refetches **once** (then not again for a minimum interval, so a flood of made-up `kid`s
# cannot make it hammer the provider).
#
# A stand-in provider that serves whatever JWKS we give it and counts the fetches, and a clock we move by hand:

# %%
JWKS_URI = f"{IDP}/.well-known/jwks.json"
provider = {"jwks": JWKS([JWK.from_key(RSA_KEY, alg="RS256", kid="rsa-2026")]).to_dict(), "fetches": []}
clock = {"now": 0.0}

def fetch(url):
    provider["fetches"].append(url)
    return provider["jwks"]

keys = KeySet(JWKS_URI, fetch=fetch, ttl=300, min_refetch_interval=60, clock=lambda: clock["now"])

# %% [markdown]
# The first token fetches the JWKS; a thousand more cost nothing:

# %%
for _ in range(1000):
    verify(rs_token, keys, ["RS256"], **CHECKS)
keys.fetch_count

# %% [markdown]
# Two minutes later the provider rotates: it publishes a new key, `rsa-2026b`, drops the old one, and signs
# new tokens with the new key.

# %%
NEXT_KEY = demo_key("rs256-next")
provider["jwks"] = JWKS([JWK.from_key(NEXT_KEY, alg="RS256", kid="rsa-2026b")]).to_dict()
new_token = sign(CLAIMS, NEXT_KEY, "RS256", headers={"kid": "rsa-2026b"})
clock["now"] = 120.0

# %% [markdown]
# The first token with the unknown `kid` triggers exactly one refetch, and then verifies, as do the next
# thousand:

# %%
for _ in range(1000):
    verify(new_token, keys, ["RS256"], **CHECKS)
keys.fetch_count

# %% [markdown]
# A token signed with the old key now fails: its `kid` is no longer published. (In practice a provider
# publishes the new key a while before signing with it, and keeps the old one until the last token it signed
# has expired; then nobody notices the switch.)

# %% tags=["raises-exception"]
verify(rs_token, keys, ["RS256"], **CHECKS)

# %% [markdown]
# And a flood of tokens with made-up `kid`s costs the provider nothing: still two fetches in all, both to the
# one URL the app configured.

# %%
refused = 0
for i in range(100):
    made_up = sign(CLAIMS, NEXT_KEY, "RS256", headers={"kid": f"made-up-{i}"})
    try:
        verify(made_up, keys, ["RS256"], **CHECKS)
    except InvalidToken:
        refused += 1
refused, keys.fetch_count, set(provider["fetches"])

# %% [markdown]
# ## Which outputs would change with fresh keys
#
# With newly generated keys instead of the committed ones, these outputs would differ: the printed RS256 and
# EdDSA tokens (their signatures), every JWK member (`n`, `x`, `y`), and the thumbprints. The ES256 token differs
# on *every run even with the same key*, because ECDSA signs with a fresh random number; that is why its cells
# print only lengths and verification results. Everything else (lengths, verdicts, fetch counts) stays the same.

# %% [markdown]
# ## Summary
#
# - RS256, ES256 and EdDSA sign with a private key and verify with the public one; a key verifies only its own
#   algorithm family.
# - ES256 signatures are raw R||S (64 bytes) and change on every signing; RS256 and Ed25519 are deterministic.
# - A public key travels as a JWK; a provider publishes a JWKS; an RFC 7638 thumbprint names a key by content.
# - Every app verifies with the one published JWKS and none can sign: nothing secret is shared.
# - A JWKS cache refetches once for a new `kid`, rate-limits unknown `kid`s, and old-key tokens stop verifying
#   once the key is withdrawn.
#
# ## What's next
#
# [05: The Pocket ID login](05-pocket-id-login.ipynb) puts these keys to work: a real OpenID Connect login, where
# the app verifies Pocket ID's ID token against its published JWKS.
