# %% [markdown]
# # Breaking JWTs
#
# An attack lab. Each section forges a token the way a real attacker did against a real library or app,
# right here in front of you, and hands it to `verify`, which refuses it. One sentence per attack says which
# real-world bug it comes from, so you know what to look for in code you review.

# %% [markdown]
# ## Learning objectives
#
# After this notebook you can:
#
# - forge tokens with `alg: none`, a cracked weak secret, an injected `jwk` or `jku`, a malicious `kid`, the
#   RS256 to HS256 confusion, tampered claims, the ECDSA "psychic signature", and a substituted token;
# - say which verification rule stops each one;
# - explain why decoding without verifying must never decide who a user is.
#
# **Prerequisites:** [02: Verifying a JWT](02-verifying-a-jwt.ipynb). Time to learn: about 40 minutes.

# %%
import warnings

import jwt
from cryptography.hazmat.primitives import serialization

from altx10_helpers import JWK, JWKS, KeySet, b64url_decode, decode_unverified, sign, verify
from altx10_helpers import attacks
from altx10_helpers.demo import demo_key

# %% [markdown]
# ## The lab
#
# Two kinds of token are in play, as in the altx10 picture of notebook 00:
#
# - the notes app's own **session cookie**, HS256 with the app's secret;
# - the identity provider's **ID token**, RS256 with the provider's private key; the app holds only the public
#   key.
#
# Fixed demo keys and a frozen clock (`NOW`) keep every output the same on every run.

# %%
NOW = 1_767_225_600
APP = "https://notes.altx10.dev"
IDP = "https://id.altx10.dev"
APP_SECRET = b"notes.altx10.dev demo secret, 32+ bytes; real ones come from secrets.token_bytes(32)"
PROVIDER = demo_key("rs256")
PROVIDER_PUBLIC = PROVIDER.public_key()
ATTACKER = demo_key("attacker")

# %% [markdown]
# The two verifiers, configured the way an app configures them: the algorithm, the key, the issuer and the
# audience all come from the app, none from the token.

# %%
def app_verify(token, **extra):
    """The notes app checking its own session cookie."""
    return verify(token, APP_SECRET, ["HS256"], issuer=APP, audience="notes", now=NOW, **extra)


def provider_verify(token, **extra):
    """The notes app checking an ID token from the identity provider."""
    return verify(token, PROVIDER_PUBLIC, ["RS256"], issuer=IDP, audience="notes", now=NOW, **extra)

# %% [markdown]
# Tom's genuine tokens, which both verifiers accept:

# %%
SESSION = {"iss": APP, "aud": "notes", "sub": "tom", "admin": False, "iat": NOW, "exp": NOW + 900}
ID_CLAIMS = {"iss": IDP, "aud": "notes", "sub": "tom", "iat": NOW, "exp": NOW + 300}
session = sign(SESSION, APP_SECRET, "HS256")
id_token = sign(ID_CLAIMS, PROVIDER, "RS256", headers={"kid": "provider-2026"})
app_verify(session)["sub"], provider_verify(id_token)["sub"]

# %% [markdown]
# ## 1. Decoding without verifying
#
# **The bug:** reading claims from a token nobody verified, e.g. PyJWT's
# `jwt.decode(token, options={"verify_signature": False})` left in a login path, is a common JWT bug in real
# code. Here Tom makes himself an admin by editing the payload; the signature is his old one.

# %%
forged = attacks.tamper_claims(session, admin=True)
decode_unverified(forged)[1]

# %% [markdown]
# `decode_unverified` "accepts" it: it only decodes, which is what its name says. It is for display, never for
# deciding who somebody is. `verify` checks the signature:

# %% tags=["raises-exception"]
app_verify(forged)

# %% [markdown]
# ## 2. `alg: none`
#
# **The bug:** RFC 7519 defines an "unsecured" JWT with `"alg": "none"` and an empty signature; in 2015 several
# libraries accepted it whenever the token asked for it, and in 2020 Auth0's API accepted `nonE` after a
# case-sensitive deny-list stopped only `none`. The plain version: `alg` set to `none`, signature dropped.

# %%
unsigned = attacks.alg_none(session)
unsigned

# %% [markdown]
# An empty signature is refused before anything else is looked at:

# %% tags=["raises-exception"]
app_verify(unsigned)

# %% [markdown]
# So the attacker puts a few bytes back where the signature was, and tries four casings:

# %%
CASINGS = ("none", "None", "NONE", "nOnE")
none_tokens = {alg: attacks.alg_none(session, alg=alg, signature=b"forged") for alg in CASINGS}
none_tokens["nOnE"]

# %% tags=["raises-exception"]
app_verify(none_tokens["none"])

# %% tags=["raises-exception"]
app_verify(none_tokens["None"])

# %% tags=["raises-exception"]
app_verify(none_tokens["NONE"])

# %% tags=["raises-exception"]
app_verify(none_tokens["nOnE"])

# %% [markdown]
# Each is refused by the algorithm check: `alg` must be exactly one of the app's algorithms, and any casing of
# `none` never is. Putting `none` in the list is a configuration error, not an option:

# %% tags=["raises-exception"]
verify(none_tokens["none"], APP_SECRET, ["none"])

# %% [markdown]
# ## 3. A weak secret, cracked
#
# **The bug:** an HMAC secret chosen by a person (`SUPER_SECRET_PW`, `secret`, the app's name) can be guessed
# offline from one captured token: the attacker tries each word until the signature matches, and tools like
# hashcat try hundreds of millions per second on one GPU. Here is the article's token against the small word
# list shipped in the repo:

# %%
WORDS = attacks.load_wordlist()
cracked = attacks.crack_hmac(
    "eyJhbGciIDogIkhTMjU2In0.eyJhYmMiIDogIjEyMyJ9.kbCDwKHU1Sx1EzMCo8PXEnRERFvKQETu7Za0ELdSoyg", WORDS)
print(f"found {cracked.secret!r} after {cracked.tried} of {len(WORDS)} guesses")

# %% [markdown]
# How long it took depends on the machine, so this is the one cell whose output is not compared when the
# notebook is tested:

# %% tags=["nbval-ignore-output"]
print(f"{cracked.seconds * 1000:.2f} ms")

# %% [markdown]
# With the secret the attacker signs anything, and an app that verifies with that secret believes it. PyJWT
# only warns about the short key (silenced here):

# %%
admin = sign({"abc": "123", "admin": True}, cracked.secret, "HS256", headers={"typ": None}, allow_weak_key=True)
with warnings.catch_warnings(action="ignore"):
    print(jwt.decode(admin, "SUPER_SECRET_PW", algorithms=["HS256"]))

# %% [markdown]
# `verify` refuses to work with such a key at all:

# %% tags=["raises-exception"]
verify(admin, cracked.secret, ["HS256"])

# %% [markdown]
# The notes app's secret is long and not in any word list, so the same attack finds nothing:

# %%
attacks.crack_hmac(session, WORDS).secret is None

# %% [markdown]
# ## 4. `jwk` header injection
#
# **The bug:** a JWS header may carry a public key in `jwk`; libraries that verified with *that* key (Cisco's
# node-jose, CVE-2018-0114) accepted any token signed with any key, as long as the attacker put their own
# public key next to it.

# %%
forged = attacks.jwk_header_injection(ID_CLAIMS | {"sub": "admin"}, ATTACKER)
header, _ = decode_unverified(forged)
header["alg"], header["jwk"]["kty"], header["jwk"]["n"][:20]

# %% [markdown]
# The header's key is ignored: the app verifies with the provider's public key, which did not sign this.

# %% tags=["raises-exception"]
provider_verify(forged)

# %% [markdown]
# ## 5. `jku` injection
#
# **The bug:** `jku` is a URL to a JWKS. A verifier that fetches keys from the URL *in the token* lets the
# attacker host the key that verifies their forgery. Here the attacker points it at their own server:

# %%
forged = attacks.jku_injection(ID_CLAIMS | {"sub": "admin"}, ATTACKER, "https://attacker.example/jwks.json")
decode_unverified(forged)[0]

# %% [markdown]
# An app that fetches the provider's keys uses a `KeySet` for the URL **it** configured. To see which URLs it
# fetches, we give it a fake fetcher that records every URL and answers with the provider's JWKS:

# %%
PROVIDER_JWKS = JWKS([JWK.from_key(PROVIDER_PUBLIC, alg="RS256", kid="provider-2026")]).to_dict()
fetched = []

def fake_fetch(url):
    fetched.append(url)
    return PROVIDER_JWKS

keys = KeySet(f"{IDP}/.well-known/jwks.json", fetch=fake_fetch, clock=lambda: 0.0)
verify(id_token, keys, ["RS256"], issuer=IDP, audience="notes", now=NOW)["sub"]

# %% tags=["raises-exception"]
verify(forged, keys, ["RS256"], issuer=IDP, audience="notes", now=NOW)

# %% [markdown]
# The attacker's URL was never fetched:

# %%
fetched

# %% [markdown]
# ## 6. `kid` path traversal and `kid` injection
#
# **The bug:** `kid` names the key to use. Apps that turned it into a file path or a database query let the
# attacker choose the key: `../../../../dev/null` reads an empty file, so the "secret" is empty; a `kid` like
# `' UNION SELECT 'x` makes the query return a secret the attacker picked.

# %%
traversal = attacks.kid_injection(SESSION | {"admin": True}, kid="../../../../../../dev/null", secret=b"")
sqli = attacks.kid_injection(SESSION | {"admin": True}, kid="x' UNION SELECT 'attacker-secret' --",
                             secret=b"attacker-secret")
decode_unverified(traversal)[0], decode_unverified(sqli)[0]

# %% [markdown]
# `verify` never looks a key up from a header value: the key is the one the app passed in.

# %% tags=["raises-exception"]
app_verify(traversal)

# %% tags=["raises-exception"]
app_verify(sqli)

# %% [markdown]
# ## 7. RS256 to HS256: algorithm confusion
#
# **The bug:** the provider's public key is public. If a verifier lets the token pick HS256 and then uses "the
# key" (the public key's PEM text) as the HMAC secret, the attacker signs with that PEM and wins (PyJWT before
# 1.5.1, CVE-2017-11424; node jsonwebtoken before 4.2.2, CVE-2015-9235).

# %%
PROVIDER_PEM = PROVIDER_PUBLIC.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
forged = attacks.alg_confusion(ID_CLAIMS | {"sub": "admin"}, PROVIDER_PEM)
decode_unverified(forged)[0]

# %% [markdown]
# Refused twice over. The app's list says RS256 only:

# %% tags=["raises-exception"]
provider_verify(forged)

# %% [markdown]
# Even a misconfigured list that also allows HS256 does not help: an RSA public key can never be an HMAC
# secret.

# %% tags=["raises-exception"]
verify(forged, PROVIDER_PUBLIC, ["RS256", "HS256"], issuer=IDP, audience="notes", now=NOW)

# %% [markdown]
# And the PEM bytes themselves are refused as an HMAC secret, by us and, since that CVE, by PyJWT:

# %% tags=["raises-exception"]
verify(forged, PROVIDER_PEM, ["HS256"], now=NOW)

# %% tags=["raises-exception"]
jwt.decode(forged, PROVIDER_PEM, algorithms=["HS256"])

# %% [markdown]
# ## 8. Claim tampering
#
# **The bug:** verifiers that checked the signature over JSON they re-encoded themselves, or skipped the check
# for some tokens, accepted edited claims. Here the payload gets a far-future `exp`, and the signature is the
# original:

# %%
forged = attacks.tamper_claims(session, exp=NOW + 10 * 365 * 24 * 3600)
forged.split(".")[2] == session.split(".")[2]

# %% tags=["raises-exception"]
app_verify(forged)

# %% [markdown]
# ## 9. The ECDSA "psychic signature"
#
# **The bug:** ECDSA signatures are two numbers, r and s, and both must be between 1 and the curve order. Java
# 15 to 18 forgot that check (CVE-2022-21449): the signature r = s = 0 verified **any** message under
# **any** key. The forgery is 64 zero bytes:

# %%
ES_PUBLIC = demo_key("es256").public_key()
forged = attacks.psychic_signature(SESSION | {"admin": True}, alg="ES256")
b64url_decode(forged.split(".")[2]) == bytes(64)

# %% tags=["raises-exception"]
verify(forged, ES_PUBLIC, ["ES256"], now=NOW)

# %% [markdown]
# ## 10. Token substitution
#
# **The bug:** a genuine token, signed by the right key, used where it does not belong. OpenID Connect requires
# the `aud` check because a token the provider issued to the photos app must not log anyone into the notes app;
# RFC 9068 gives access tokens the type `at+jwt` so that one cannot be passed off as an ID token (RFC 8725
# section 3.11, "use explicit typing").
#
# A genuine ID token, for another app:

# %%
for_photos = sign(ID_CLAIMS | {"aud": "photos"}, PROVIDER, "RS256", headers={"kid": "provider-2026"})

# %% tags=["raises-exception"]
provider_verify(for_photos)

# %% [markdown]
# A genuine access token (`typ: at+jwt`) passed where an ID token (`typ: JWT`) is expected:

# %%
access_token = sign(ID_CLAIMS | {"scope": "openid email"}, PROVIDER, "RS256",
                    headers={"typ": "at+jwt", "kid": "provider-2026"})
decode_unverified(access_token)[0]

# %% tags=["raises-exception"]
provider_verify(access_token, typ="JWT")

# %% [markdown]
# ## 11. Replaying an old token
#
# **The bug:** a stolen token that never expires works forever. Tom's genuine session, replayed an hour later:

# %% tags=["raises-exception"]
verify(session, APP_SECRET, ["HS256"], issuer=APP, audience="notes", now=NOW + 3600)

# %% [markdown]
# ## Summary
#
# | attack | what stops it |
# |---|---|
# | decoding without verifying | never use `decode_unverified` for decisions; `verify` checks the signature |
# | `alg: none`, any casing | the algorithm list comes from configuration; `none` is never allowed |
# | weak secret cracked | HMAC keys shorter than the hash are refused; use 32 random bytes |
# | `jwk` / `jku` injection | keys come from the app (a key or its own `KeySet` URL), never from the header |
# | `kid` path traversal / SQL | `kid` only selects among keys the app already has; it is never a path or a query |
# | RS256 to HS256 confusion | pinned algorithms, and a public key or PEM is never an HMAC secret |
# | claim tampering | the signature is checked over the exact received bytes |
# | ECDSA r = s = 0 | r and s must lie in 1 .. n-1, checked before any curve arithmetic |
# | token substitution | `aud` must name us; `typ` checked when asked |
# | replay of an old token | `exp` with a small leeway |
#
# ## What's next
#
# Open [04: Keys and JWKS](04-keys-and-jwks.ipynb): sign with RSA, EC and Ed25519 keys, publish the public
# ones as a JWKS, and rotate them.
