# %% [markdown]
# # Verifying a JWT
#
# Building a token is the easy half. The half that keeps the altx10 apps safe is **refusing** every token we
# did not make, and accepting ours only while it is valid. Here we verify the article's token step by step,
# then let `altx10_helpers.verify` do it in one call, and watch each check fail with its own exception.

# %% [markdown]
# ## Learning objectives
#
# After this notebook you can:
#
# - list the verification steps in their safe order: split, decode strictly, pin the algorithm, compare the
#   signature in constant time, and only then look at the claims;
# - explain why the article's 15-byte secret is refused unless you opt in, loudly;
# - check `exp`, `nbf` and `iat` against a clock you control, with a leeway for clock skew;
# - check `iss` and `aud`, and tell every failure apart by its exception;
# - use the JWT debugger widget, and compare our verifier with PyJWT on the same inputs.
#
# **Prerequisites:** [01: Anatomy of a JWT](01-anatomy-of-a-jwt.ipynb). Time to learn: about 30 minutes.

# %%
import hashlib
import hmac
import warnings
from datetime import datetime, timezone
from unittest import mock

import jwt

from altx10_helpers import InvalidToken, JwtDebugger, sign, split_token, verify

# %% [markdown]
# ## The inputs
#
# The article's token and secret, a proper 32+ byte secret for the notes app, and a **frozen clock**: every
# time check in this notebook uses `NOW`, passed as `now=NOW`, so the outputs are the same whenever you run it.
# (In an app you leave `now` out and the real clock is used.)

# %%
ARTICLE_TOKEN = "eyJhbGciIDogIkhTMjU2In0.eyJhYmMiIDogIjEyMyJ9.kbCDwKHU1Sx1EzMCo8PXEnRERFvKQETu7Za0ELdSoyg"
ARTICLE_SECRET = b"SUPER_SECRET_PW"
APP_SECRET = b"notes.altx10.dev demo secret, 32+ bytes; real ones come from secrets.token_bytes(32)"
ISSUER = "https://notes.altx10.dev"
AUDIENCE = "notes"
NOW = 1_767_225_600
datetime.fromtimestamp(NOW, timezone.utc).isoformat()

# %% [markdown]
# ## The steps, by hand
#
# ### Step 1: split
#
# Exactly three segments separated by dots, nothing else. `split_token` keeps each segment as received.

# %%
parts = split_token(ARTICLE_TOKEN)
parts.header_b64, parts.payload_b64, parts.signature_b64

# %% [markdown]
# ### Step 2: decode strictly
#
# Each segment must be strict base64url, and the header a JSON object. Anything else stops verification
# here, before any cryptography runs. A single `=` of padding is enough to be refused:

# %%
parts.header, parts.payload

# %% tags=["raises-exception"]
split_token(ARTICLE_TOKEN + "=")

# %% [markdown]
# ### Step 3: pin the algorithm
#
# The header *claims* an algorithm. We do not let it choose: our configuration says `HS256`, and the header's
# `alg` must be exactly that (case-sensitive). Letting the token pick is how `alg: none` and the RS256 to
# HS256 confusion of notebook 03 work.

# %%
ALGORITHMS = ["HS256"]
parts.header["alg"] in ALGORITHMS

# %% [markdown]
# ### Step 4: compare the signature in constant time
#
# Recompute HMAC-SHA256 over the **received** signing input and compare with `hmac.compare_digest`. A plain
# `==` may return as soon as one byte differs, and the time it takes can tell an attacker how many leading bytes
# of a guess were right.

# %%
expected = hmac.new(ARTICLE_SECRET, parts.signing_input, hashlib.sha256).digest()
hmac.compare_digest(expected, parts.signature)

# %% [markdown]
# ### Step 5: then, and only then, the claims
#
# Only a token whose signature holds has claims worth reading. (This one has no `exp`: it never expires.)

# %%
parts.claims()

# %% [markdown]
# ## The same steps in one call: `verify`
#
# `verify(token, key, algorithms)` runs those five steps, then the claim checks below. The algorithm list is
# required: there is no default, so no caller can forget to pin it.
#
# ### ⚠️ The article's secret is refused
#
# **`SUPER_SECRET_PW` is 15 bytes of guessable text. HS256 needs a key at least as long as its 32-byte hash
# (RFC 7518 section 3.2), and random.** `verify` refuses shorter HMAC keys with `WeakKey`, for signing and for
# verifying, because a short or guessable secret can be cracked offline from any single token (notebook 03
# cracks this one in a fraction of a second).

# %% tags=["raises-exception"]
verify(ARTICLE_TOKEN, ARTICLE_SECRET, algorithms=["HS256"])

# %% [markdown]
# To reproduce the article anyway, opt in with a name nobody types by accident. **`allow_weak_key=True` is for
# this demo only; never in an app.**

# %%
verify(ARTICLE_TOKEN, ARTICLE_SECRET, algorithms=["HS256"], allow_weak_key=True)

# %% [markdown]
# A wrong secret, one byte off, is a `BadSignature`:

# %% tags=["raises-exception"]
verify(ARTICLE_TOKEN, b"SUPER_SECRET_PX", algorithms=["HS256"], allow_weak_key=True)

# %% [markdown]
# A token whose `alg` is not in our list is a `DisallowedAlgorithm`, whatever its signature:

# %% tags=["raises-exception"]
verify(ARTICLE_TOKEN, ARTICLE_SECRET, algorithms=["HS512"], allow_weak_key=True)

# %% [markdown]
# An empty list is *our* mistake, not the token's, so it is a `ConfigurationError`, on a separate branch of the
# exception tree from every token error:

# %% tags=["raises-exception"]
verify(ARTICLE_TOKEN, ARTICLE_SECRET, algorithms=[], allow_weak_key=True)

# %% [markdown]
# ## Time: `exp`, `nbf`, `iat`
#
# A session token for the notes app, signed with the strong secret, valid for five minutes from `NOW`.
# HS256 is deterministic, so this token is the same on every run.

# %%
claims = {"sub": "tom", "iat": NOW, "nbf": NOW, "exp": NOW + 300}
token = sign(claims, APP_SECRET, "HS256")
token

# %%
verify(token, APP_SECRET, ["HS256"], now=NOW)

# %% [markdown]
# `exp` is the first instant the token is **no longer** valid: at `NOW + 300` it is expired.

# %% tags=["raises-exception"]
verify(token, APP_SECRET, ["HS256"], now=NOW + 300)

# %% [markdown]
# Clocks on different machines drift. A `leeway` of a few seconds (here 30) forgives that much skew, on
# `exp`, `nbf` and `iat` alike:

# %%
verify(token, APP_SECRET, ["HS256"], now=NOW + 310, leeway=30)["sub"]

# %% tags=["raises-exception"]
verify(token, APP_SECRET, ["HS256"], now=NOW + 330, leeway=30)

# %% [markdown]
# `nbf` ("not before") in the future: the token is not valid yet.

# %%
early = sign(claims | {"nbf": NOW + 60}, APP_SECRET, "HS256")

# %% tags=["raises-exception"]
verify(early, APP_SECRET, ["HS256"], now=NOW)

# %%
verify(early, APP_SECRET, ["HS256"], now=NOW, leeway=60)["nbf"] - NOW

# %% [markdown]
# `iat` ("issued at") in the future means a clock far off, or a forgery: refused beyond the leeway.

# %%
from_the_future = sign(claims | {"iat": NOW + 3600}, APP_SECRET, "HS256")

# %% tags=["raises-exception"]
verify(from_the_future, APP_SECRET, ["HS256"], now=NOW)

# %% [markdown]
# ## Who made it, and for whom: `iss` and `aud`
#
# `iss` must be exactly the issuer we expect. `aud` must name us: a token minted for the photos app must not
# open the notes app, even though both trust the same issuer. The notes app's real cookie carries both:

# %%
ISS_AUD = {"iss": ISSUER, "aud": AUDIENCE}
app_token = sign(claims | ISS_AUD, APP_SECRET, "HS256")
verify(app_token, APP_SECRET, ["HS256"], issuer=ISSUER, audience=AUDIENCE, now=NOW)["aud"]

# %% tags=["raises-exception"]
verify(app_token, APP_SECRET, ["HS256"], issuer="https://photos.altx10.dev", audience=AUDIENCE, now=NOW)

# %% tags=["raises-exception"]
verify(app_token, APP_SECRET, ["HS256"], issuer=ISSUER, audience="photos", now=NOW)

# %% [markdown]
# A verifier that does not say who it is cannot accept a token addressed to someone: RFC 7519 section 4.1.3
# says a recipient that does not find itself in `aud` must reject the token.

# %% tags=["raises-exception"]
verify(app_token, APP_SECRET, ["HS256"], now=NOW)

# %% [markdown]
# `aud` may also be a list; it passes when ours is in it.

# %%
shared = sign(claims | ISS_AUD | {"aud": ["notes", "photos"]}, APP_SECRET, "HS256")
verify(shared, APP_SECRET, ["HS256"], issuer=ISSUER, audience="photos", now=NOW)["aud"]

# %% [markdown]
# Two more checks on request: the header's `typ` (notebook 03 shows why an access token must not pass as an
# ID token), and claims that must be present.

# %% tags=["raises-exception"]
verify(token, APP_SECRET, ["HS256"], typ="at+jwt", now=NOW)

# %% tags=["raises-exception"]
verify(token, APP_SECRET, ["HS256"], required=["jti"], now=NOW)

# %% [markdown]
# ## One exception tree
#
# Every reason to refuse a token is its own subclass of `InvalidToken` (the list includes two that later
# notebooks use). An app catches `InvalidToken` and answers 401; logs and tests look at the subclass.

# %%
for cls in InvalidToken.__subclasses__():
    print(f"{cls.__name__:<20} {cls.__doc__}")

# %% [markdown]
# Here is that app code, given Tom's cookie, the bare token from the time section (it has no `iss`), and the
# article's token (signed with another secret):

# %%
def current_user(token: str) -> tuple[int, str]:
    """What the notes app does on every request: verify the cookie, or answer 401."""
    try:
        claims = verify(token, APP_SECRET, ["HS256"], issuer=ISSUER, audience=AUDIENCE, now=NOW)
    except InvalidToken as exc:
        return 401, type(exc).__name__
    return 200, claims["sub"]

current_user(app_token), current_user(token), current_user(ARTICLE_TOKEN)

# %% [markdown]
# ## The JWT debugger
#
# Like the debugger on jwt.io, with two differences: the algorithm comes from the dropdown (the first one in
# the list you give it), never from the token, and the result line names the exact exception. Try it: paste a
# token, change the key, edit the payload and watch the signature fail, then press **Re-sign**. It uses the
# frozen clock too.

# %%
debugger = JwtDebugger(ARTICLE_TOKEN, key="SUPER_SECRET_PW", algorithms=["HS256", "HS384", "HS512"], now=NOW)
debugger

# %% [markdown]
# A static copy of this page cannot show the widget, so here is the same session driven from code. The
# article's key is weak, so it starts out refused:

# %%
debugger.report.reason

# %% [markdown]
# Tick "allow weak key", and it verifies:

# %%
debugger.weak_box.value = True
debugger.report.reason

# %% [markdown]
# Edit the payload: the debugger rebuilds the token with the **old** header and signature segments, and the
# signature no longer matches.

# %%
debugger.payload_box.value = '{"abc": "124"}'
print(debugger.token_box.value)
print(debugger.report.reason)

# %% [markdown]
# Re-sign with the key: a new signature over the edited payload, and it verifies again. Anyone holding the
# secret can do this, which is exactly why the secret must stay secret.

# %%
debugger.resign()
print(debugger.token_box.value)
print(debugger.report.reason)

# %% [markdown]
# ## Side by side with PyJWT
#
# PyJWT's `jwt.decode` takes the same `algorithms`, `issuer`, `audience` and `leeway` arguments. It has no
# clock parameter, so to ask it about the same instant we freeze the clock it reads by patching its
# `datetime`. Its short-key warning was shown in notebook 01; here it is silenced.

# %%
def ours(token, key, now=NOW, **kwargs):
    try:
        verify(token, key, now=now, **kwargs)
    except InvalidToken as exc:
        return type(exc).__name__
    return "accepted"


def pyjwt(token, key, now=NOW, **kwargs):
    frozen = mock.Mock()
    frozen.now.return_value = datetime.fromtimestamp(now, timezone.utc)
    with mock.patch.object(jwt.api_jwt, "datetime", frozen), warnings.catch_warnings(action="ignore"):
        try:
            jwt.decode(token, key, **kwargs)
        except jwt.PyJWTError as exc:
            return type(exc).__name__
    return "accepted"

# %%
CHECKS = {"algorithms": ["HS256"], "issuer": ISSUER, "audience": AUDIENCE}
app_early = sign(claims | ISS_AUD | {"nbf": NOW + 60}, APP_SECRET, "HS256")
app_future = sign(claims | ISS_AUD | {"iat": NOW + 3600}, APP_SECRET, "HS256")
swapped = ".".join([app_token.split(".")[0], app_early.split(".")[1], app_token.split(".")[2]])
CASES = [
    ("valid", app_token, APP_SECRET, CHECKS | {"now": NOW}),
    ("expired", app_token, APP_SECRET, CHECKS | {"now": NOW + 300}),
    ("expired, within leeway", app_token, APP_SECRET, CHECKS | {"now": NOW + 310, "leeway": 30}),
    ("not yet valid (nbf)", app_early, APP_SECRET, CHECKS),
    ("issued in the future (iat)", app_future, APP_SECRET, CHECKS),
    ("wrong issuer", app_token, APP_SECRET, CHECKS | {"issuer": "https://photos.altx10.dev"}),
    ("wrong audience", app_token, APP_SECRET, CHECKS | {"audience": "photos"}),
    ("aud present, none expected", app_token, APP_SECRET, {"algorithms": ["HS256"]}),
    ("payload swapped in", swapped, APP_SECRET, CHECKS),
    ("alg not allowed", app_token, APP_SECRET, CHECKS | {"algorithms": ["HS512"]}),
    ("article token, 15-byte key", ARTICLE_TOKEN, ARTICLE_SECRET, {"algorithms": ["HS256"]}),
]
print(f"{'case':<28} {'altx10_helpers':<20} PyJWT")
for name, tok, key, kwargs in CASES:
    print(f"{name:<28} {ours(tok, key, **kwargs):<20} {pyjwt(tok, key, **kwargs)}")

# %% [markdown]
# Same verdict on every case but the last:
#
# - **The article's 15-byte key**: PyJWT accepts it with a warning; we refuse it (`WeakKey`) unless the caller
#   opts in. Stricter by design: a warning in a log does not stop an attacker with a word list.
#
# Expiry, leeway, `nbf`, `iat`, issuer, audience (including a token with an `aud` handed to a verifier that
# named none), the signature and the algorithm list all agree, one exception class per reason on each side.

# %% [markdown]
# ## Summary
#
# - Verify in this order: split, decode strictly, pin the algorithm from *your* configuration, compare the
#   signature with `hmac.compare_digest`, and only then read and check the claims.
# - `verify` requires the algorithm list and refuses HMAC keys shorter than the hash; the article's secret
#   needs `allow_weak_key=True`, which belongs in demos only.
# - `exp` is exclusive, `nbf` inclusive, `iat` may not be in the future; `leeway` forgives clock skew; pass
#   `now=` to test against a fixed instant.
# - `iss` must match exactly and `aud` must name us; every failure is its own `InvalidToken` subclass.
# - On the same inputs PyJWT agrees, except where we are stricter on purpose.
#
# ## What's next
#
# Open [03: Breaking JWTs](03-breaking-jwts.ipynb): forge tokens the ways real attackers did, and watch
# `verify` refuse each one.
