# %% [markdown]
# # Anatomy of a JWT
#
# The article behind this series builds a JSON Web Token with two `echo | base64` commands and one `openssl`
# command. Here we rebuild that exact token, byte for byte, with nothing but Python's standard library, and
# find out why the shell recipe works, and when it would not.

# %% [markdown]
# ## Learning objectives
#
# After this notebook you can:
#
# - build a compact JWS (the signed JWT) from a header, a payload and an HMAC secret, by hand;
# - explain the difference between standard base64 and *base64url*, and why JWTs drop the `=` padding;
# - show that a signature covers **bytes**, not the meaning of the JSON;
# - check your hand-built token with PyJWT, and say how long an HS256 secret must be.
#
# **Prerequisites:** [00: Start here](00-start-here.ipynb); Python bytes and strings. Time to learn: about 20 minutes.

# %%
import base64
import hashlib
import hmac
import json
import secrets
import shutil
import subprocess
import warnings

import jwt

from altx10_helpers import b64url_decode, b64url_encode, split_token

# %% [markdown]
# ## The article's token
#
# These are the article's inputs, copied exactly, spaces and all, and the token it arrives at.

# %%
header_bytes = b'{"alg" : "HS256"}'
payload_bytes = b'{"abc" : "123"}'
secret = b"SUPER_SECRET_PW"
ARTICLE_TOKEN = "eyJhbGciIDogIkhTMjU2In0.eyJhYmMiIDogIjEyMyJ9.kbCDwKHU1Sx1EzMCo8PXEnRERFvKQETu7Za0ELdSoyg"

# %% [markdown]
# ## Step 1: base64, the way the shell does it
#
# The article runs `echo -n '{"alg" : "HS256"}' | base64`. Python's `base64.b64encode` is the same standard
# base64 (RFC 4648 section 4):

# %%
base64.b64encode(header_bytes)

# %% [markdown]
# Look at the end: `=`. Standard base64 pads its output to a multiple of 4 characters. The article's token has
# `eyJhbGciIDogIkhTMjU2In0` without it. A JWT uses **base64url** (RFC 4648 section 5, as RFC 7515 section 2
# requires): the same idea with `-` and `_` instead of `+` and `/`, and **no padding**. Dropping the `=` by
# hand turned the shell's output into valid base64url.

# %%
def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

header_b64 = b64url(header_bytes)
payload_b64 = b64url(payload_bytes)
header_b64, payload_b64

# %% [markdown]
# ## Where the shell recipe would break
#
# The recipe only worked because neither `+` nor `/` appeared. Give the user a name with an accent, and
# standard base64 produces a `/`:

# %%
zoe = '{"name":"Zoë"}'.encode("utf-8")
base64.b64encode(zoe), b64url(zoe)

# %% [markdown]
# The two spellings differ in one character. A strict JWT parser refuses the standard one, rightly: it is
# not base64url. Here is the package's strict decoder refusing it:

# %% tags=["raises-exception"]
b64url_decode(base64.b64encode(zoe).decode())

# %% [markdown]
# It refuses padding too, with its own error rather than a confusing `binascii.Error`:

# %% tags=["raises-exception"]
b64url_decode("eyJhbGciIDogIkhTMjU2In0=")

# %% [markdown]
# ## Step 2: the signing input
#
# The signature covers the two encoded segments joined by a dot, as ASCII bytes.

# %%
signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
signing_input

# %% [markdown]
# ## Step 3: the HMAC-SHA256 signature
#
# `HS256` means HMAC with SHA-256, keyed with the shared secret. The 32-byte result is base64url-encoded too.

# %%
mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
signature_b64 = b64url(mac)
len(mac), signature_b64

# %% [markdown]
# ## Step 4: the token

# %%
token = f"{header_b64}.{payload_b64}.{signature_b64}"
print(token)
print("identical to the article's token:", token == ARTICLE_TOKEN)

# %% [markdown]
# The package's `b64url_encode` is the same function as our `b64url`, with strict checks on the way back in:

# %%
b64url_encode(header_bytes) == header_b64

# %% [markdown]
# ## The article's own `openssl` command
#
# The article signs with `openssl dgst -sha256 -binary -hmac ... | base64`. Where `openssl` is installed, this
# cell runs that exact pipeline. Note the trailing `=` again: standard base64, padding included.

# %%
OPENSSL_CMD = ('echo -n "eyJhbGciIDogIkhTMjU2In0.eyJhYmMiIDogIjEyMyJ9" '
               '| openssl dgst -sha256 -binary -hmac "SUPER_SECRET_PW" | base64')
if shutil.which("openssl"):
    out = subprocess.run(["bash", "-c", OPENSSL_CMD], capture_output=True, text=True, check=True).stdout.strip()
    print("openssl says:", out)
    print("same signature as Python:", out.rstrip("=") == signature_b64)
else:
    print("openssl is not installed on this machine, so the command was not run;"
          " the Python cells above compute the same signature.")

# %% [markdown]
# ## A signature is over bytes, not over meaning
#
# `{"alg" : "HS256"}` and `{"alg":"HS256"}` mean the same thing to a JSON parser, but they are different bytes.
# Sign the compact spelling and you get a different, equally valid, token:

# %%
compact_header = b64url(b'{"alg":"HS256"}')
compact_input = f"{compact_header}.{payload_b64}".encode("ascii")
compact_token = f"{compact_header}.{payload_b64}.{b64url(hmac.new(secret, compact_input, hashlib.sha256).digest())}"
print(compact_token)
print("same JSON meaning:", json.loads(b'{"alg":"HS256"}') == json.loads(header_bytes))
print("same token:", compact_token == ARTICLE_TOKEN)

# %% [markdown]
# This is why a verifier must check the signature over the segments **exactly as received**, never over JSON it
# re-encoded itself: re-encoding changes the bytes. The package's `split_token` keeps the received segments:

# %%
parts = split_token(ARTICLE_TOKEN)
parts.header, parts.claims(), parts.signing_input == signing_input

# %% [markdown]
# It refuses things that are not tokens, with a message that says what is wrong:

# %% tags=["raises-exception"]
split_token("")

# %% tags=["raises-exception"]
split_token(ARTICLE_TOKEN.encode())

# %% [markdown]
# ## The same token through PyJWT
#
# PyJWT is the library most Python apps use. It accepts our hand-built token, but it warns about the secret.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    claims = jwt.decode(ARTICLE_TOKEN, "SUPER_SECRET_PW", algorithms=["HS256"])
claims

# %%
for w in caught:
    print(f"{w.category.__name__}: {w.message}")

# %% [markdown]
# ## How long must an HS256 secret be?
#
# RFC 7518 section 3.2: a key of the same size as the hash output *or larger*, so at least 32 bytes (256 bits)
# for HS256, and it must be random. `SUPER_SECRET_PW` is 15 bytes of guessable text: fine for a blog post,
# crackable from a word list (notebook 03 does it). Make real secrets with `secrets`:

# %%
real_secret = secrets.token_bytes(32)
print(f"{len(real_secret)} random bytes = {len(real_secret) * 8} bits; the article's secret has {len(secret)} bytes")

# %% [markdown]
# (The secret itself is random and changes on every run, so we print only its size.) Store it as
# `JWT_SECRET`, e.g. `secrets.token_urlsafe(32)`, and never in the notebook or the repository.

# %% [markdown]
# ## RFC 7515 appendix A.1, built the same way
#
# The JWS specification's own HS256 example: its header contains a carriage return and line feed, and its key
# is given as a JWK with base64url `k`. Same four steps, same result as the RFC prints.

# %%
rfc_header = b'{"typ":"JWT",\r\n "alg":"HS256"}'
rfc_payload = b'{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}'
rfc_key = b64url_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
rfc_input = f"{b64url(rfc_header)}.{b64url(rfc_payload)}".encode("ascii")
rfc_token = f"{rfc_input.decode()}.{b64url(hmac.new(rfc_key, rfc_input, hashlib.sha256).digest())}"
print(rfc_token)

# %%
RFC_A1_TOKEN = ("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
                ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
                ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
print("matches RFC 7515 A.1:", rfc_token == RFC_A1_TOKEN, "| key length:", len(rfc_key), "bytes")

# %% [markdown]
# ## Summary
#
# - A compact JWS is `base64url(header) . base64url(payload) . base64url(signature)`, and HS256's signature is
#   HMAC-SHA256 over the first two segments *as ASCII bytes*.
# - base64url is base64 with `-` `_` and no `=`. The article's shell recipe worked because its padding was
#   dropped by hand and no `+` or `/` occurred; a name like "Zoë" would have broken it.
# - Signatures cover bytes: the same JSON spelled differently gives a different token. Verify what you received.
# - An HS256 secret needs at least 32 random bytes; `SUPER_SECRET_PW` has 15 guessable ones.
#
# ## What's next
#
# Open [02: Verifying a JWT](02-verifying-a-jwt.ipynb): check a token the safe way, step by step, and see every
# kind of bad token refused with its own exception.
