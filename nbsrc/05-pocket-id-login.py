# %% [markdown]
# # The Pocket ID login, step by step
#
# This is the heart of the series: the OpenID Connect authorization-code flow between the notes app and
# Pocket ID, one small step at a time. Every request and response is printed as it went over the wire, and
# every check the app makes is shown passing, then failing on purpose.

# %% [markdown]
# ## Learning objectives
#
# After this notebook you can:
#
# - read a provider's discovery document and register a client through Pocket ID's admin API;
# - build an authorization request with `state`, `nonce` and PKCE S256, and compute the PKCE challenge by hand;
# - check the callback's `state` and `iss` (RFC 9207), and redeem the code with `client_secret_basic`;
# - run every ID token check of OpenID Connect Core 3.1.3.7, plus `at_hash`, and say what each one stops;
# - call userinfo safely, rotate a refresh token, and end the session at the provider.
#
# **Prerequisites:** [02: Verifying a JWT](02-verifying-a-jwt.ipynb), [04: Keys and JWKS](04-keys-and-jwks.ipynb), the login diagram in [00: Start here](00-start-here.ipynb). Time to learn: about 45 minutes.

# %%
import hashlib
import hmac
import random
import socket
from urllib.parse import parse_qsl, urlsplit

from altx10_helpers import b64url_encode, decode_unverified, verify_token
from altx10_helpers.idp import LocalPocketId, demo_key
from altx10_helpers.idp.testing import FrozenClock
from altx10_helpers.lab import browser_login
from altx10_helpers.oidc import HopLog, PocketIdClient, fetch_metadata, token_hash

# %% [markdown]
# ## Against the stand-in, or against your Pocket ID
#
# This notebook runs against the local Pocket ID stand-in, so that it works offline and prints the same bytes on
# every run. What carries over to a real Pocket ID unchanged, and what is a stand-in convenience:
#
# | Step | Against a real Pocket ID |
# |------|--------------------------|
# | discovery, the admin API (`X-API-Key`), `/authorize`, the one-time login code, the token endpoint, userinfo, refresh, end-session | **the same** paths, parameters and JSON; the same `PocketIdClient` calls |
# | every check the client makes (state, `iss`, PKCE, the ID token, userinfo `sub`, refresh `sub`) | **the same** code |
# | the issuer, `kid`, signing key, user and client ids, codes, tokens, timestamps | different values: a real Pocket ID has its own key and the real clock |
# | `LocalPocketId(...)`, `seed_demo()`, the fixed `APP_URL`, the pinned clock, seeded randomness and published demo key | stand-in conveniences: against your Pocket ID you create the user once in its admin UI |
# | `clock.advance(...)` to make time pass | a stand-in convenience: against a real provider you would wait |
#
# To use your own Pocket ID, set `POCKET_ID_ENDPOINT`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`, `OIDC_REDIRECT_URI`
# and `POCKET_ID_API_KEY`, and build the client with `client = PocketIdClient.from_settings()`; every call after
# that is the one shown here.

# %% [markdown]
# ## Start the stand-in
#
# Pocket ID knows two addresses: `APP_URL`, where browsers reach it, which is also the **issuer** named in
# every token, and `INTERNAL_APP_URL`, where the back channel (token, userinfo, JWKS) reaches it. We give the
# stand-in Pocket ID's default `APP_URL`, `http://localhost:1411`, and let this kernel reach it on a free
# loopback port. A fixed issuer means every token below is byte-for-byte the same on every run.

# %%
APP_URL = "http://localhost:1411"
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    PORT = probe.getsockname()[1]

# %% [markdown]
# The clock is frozen at `NOW` (1 January 2026, 00:00 UTC) and only moves when we say so; the randomness is
# seeded; the signing key is the stand-in's published demo key. The stand-in and our client share the clock.

# %%
NOW = 1_767_225_600
clock = FrozenClock(NOW)
idp = LocalPocketId(app_url=APP_URL, internal_app_url=f"http://127.0.0.1:{PORT}", port=PORT,
                    clock=clock, random_bytes=random.Random(5).randbytes, key=demo_key()).start()
idp.url, idp.internal_url

# %% [markdown]
# Every HTTP request below goes through one recorded session, so we can print what really went over the wire.
# `show` prints the recorded hops with long tokens shortened and the two admin secrets replaced by their names.

# %%
log = HopLog()
REDACT = {idp.api_key: "<POCKET_ID_API_KEY>"}

def show(log: HopLog) -> None:
    text = "\n\n".join(hop.format(response_headers=("Location",)) for hop in log.hops)
    for secret, name in REDACT.items():
        text = text.replace(secret, name)
    print(text)

# %% [markdown]
# ## 1. Discovery
#
# A relying party learns everything about the provider from one JSON document at
# `<issuer>/.well-known/openid-configuration`. The client fetches it (here from `INTERNAL_APP_URL`) and checks
# that its `issuer` equals the configured issuer **exactly**.

# %%
metadata = fetch_metadata(APP_URL, session=log.session, base_url=idp.internal_url)
for name in ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
             "end_session_endpoint"):
    print(f"{name:<24} {metadata.raw[name]}")

# %% [markdown]
# The browser-facing endpoints (`/authorize`, end-session) are on `APP_URL`; the back-channel ones on
# `INTERNAL_APP_URL`, as Pocket ID advertises them. And what the provider promises:

# %%
for name in ("scopes_supported", "code_challenge_methods_supported", "token_endpoint_auth_methods_supported",
             "id_token_signing_alg_values_supported", "authorization_response_iss_parameter_supported"):
    print(f"{name:<47} {metadata.raw[name]}")

# %% [markdown]
# - `code_challenge_methods_supported` includes `S256`: PKCE with a hash, which we will use.
# - `id_token_signing_alg_values_supported` is `RS256` only: the client pins that list, minus anything that is
#   not an asymmetric signature (never `none`, never a MAC).
# - `authorization_response_iss_parameter_supported: true` is a promise (RFC 9207): every callback will carry
#   `iss`, so a callback without it must be refused.
#
# The issuer check is character for character. One trailing slash, and the document is about "someone else":

# %% tags=["raises-exception"]
fetch_metadata(APP_URL + "/", base_url=idp.internal_url)

# %% [markdown]
# ## 2. Registering a client
#
# An app must be registered with Pocket ID before it can ask for logins. In Pocket ID's admin UI that is a form;
# here it is the admin API behind that form, authenticated with the `X-API-Key` header (Pocket ID's
# `STATIC_API_KEY`). First a demo user to sign in as. `seed_demo` is a stand-in convenience that makes the
# user, a group and a client for a *second* app (photos) through the same admin API:

# %%
demo = idp.seed_demo(callback_urls=["https://photos.altx10.dev/auth/callback"], client_name="photos.altx10.dev")
demo.user["id"], demo.user["username"], demo.group["name"]

# %% [markdown]
# Now the notes app, by hand: its id, its callback URL (matched exactly, trailing slash and all), its logout
# callback, a confidential client (it has a secret), PKCE required (a code exchange without the verifier is
# refused), and no consent screen.

# %%
REDIRECT_URI = "https://notes.altx10.dev/auth/callback"
LOGOUT_URI = "https://notes.altx10.dev/"
NOTES = {"id": "notes", "name": "notes.altx10.dev", "callbackURLs": [REDIRECT_URI],
         "logoutCallbackURLs": [LOGOUT_URI], "isPublic": False, "pkceEnabled": True, "skipConsent": True}
ADMIN = {"X-API-Key": idp.api_key}

# %%
log.clear()
log.session.post(f"{idp.internal_url}/api/oidc/clients", headers=ADMIN, json=NOTES)
show(log)

# %% [markdown]
# A client secret is a separate call, and its answer is the **only** time Pocket ID shows the secret: store it
# (as `OIDC_CLIENT_SECRET`) right away. We print it by name only.

# %%
log.clear()
created = log.session.post(f"{idp.internal_url}/api/oidc/clients/notes/secrets", headers=ADMIN, json={})
SECRET = created.json()["secret"]
REDACT[SECRET] = "<OIDC_CLIENT_SECRET>"
show(log)

# %% [markdown]
# The app's OpenID Connect client: the issuer, the client id and secret, the redirect URI and, for the headless
# sign-in below, the admin API key. `internal_url`, the shared clock, seeded randomness and the recorded session
# are the stand-in settings of this notebook.

# %%
client = PocketIdClient(APP_URL, "notes", SECRET, REDIRECT_URI, api_key=idp.api_key,
                        internal_url=idp.internal_url, metadata=metadata, clock=clock,
                        random_bytes=random.Random(50).randbytes, session=log.session)

# %% [markdown]
# ## 3. The authorization request
#
# `start_login` makes a `LoginAttempt`: the URL to send the browser to, and the secrets the app keeps (in its
# session) until the browser comes back.

# %%
attempt = client.start_login()
url = urlsplit(attempt.authorization_url)
print(f"{url.scheme}://{url.netloc}{url.path}")
for name, value in parse_qsl(url.query):
    print(f"  {name:<22} {value}")

# %% [markdown]
# - `state` ties the callback to *this* browser's login: a callback with another state is refused. Pocket ID
#   requires at least 8 characters; ours are 16 random bytes, 22 characters.
# - `nonce` is copied by the provider into the ID token, tying the token to this login (no replayed tokens).
# - `code_challenge` is PKCE (RFC 7636): only whoever knows the matching `code_verifier` can redeem the code.

# %%
len(attempt.state), len(attempt.nonce)

# %% [markdown]
# The PKCE challenge by hand: `BASE64URL(SHA-256(ASCII(code_verifier)))`. The verifier never leaves the app until
# the token request, over the back channel.

# %%
verifier = attempt.code_verifier
challenge = b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())
verifier, challenge, challenge == dict(parse_qsl(url.query))["code_challenge"]

# %% [markdown]
# Pocket ID enforces the 8-character minimum. A request with `state=abc` comes back with an error, not a code:

# %%
short = client.build_authorization_url({**dict(parse_qsl(url.query)), "state": "abc"})
log.session.get(short.replace(APP_URL, idp.internal_url), allow_redirects=False).headers["Location"]

# %% [markdown]
# ## 4. Signing in
#
# In a browser, `/authorize` shows Pocket ID's sign-in page and the user signs in with a **passkey**. A notebook
# (and CI) has no browser and no passkey, so we sign in the way one automates a real Pocket ID: the admin API
# creates a one-time login code for the user (`POST /api/users/<id>/one-time-access-token`), exchanging the code
# sets Pocket ID's session cookie, and `/authorize` with that cookie redirects straight back to the app. The
# in-browser path, with Pocket ID's sign-in page and a passkey, is section 13.

# %%
log.clear()
callback_url = client.authorize_headless(attempt, demo.user["id"])
show(log)

# %% [markdown]
# Three hops: the admin API hands out a login code; redeeming it answers with the user and sets the session
# cookie (`access_token`, marked `Secure; HttpOnly; SameSite=Lax`, so a script on plain http sends it back
# itself); `/authorize` with the cookie answers `302` to our callback. The ID token will record how the user
# signed in: `amr` `["otp"]` for a login code, `["phr"]` for a passkey.

# %% [markdown]
# ## 5. The callback: `state` and `iss`
#
# The browser arrives at `/auth/callback` with these parameters:

# %%
dict(parse_qsl(urlsplit(callback_url).query))

# %% [markdown]
# Before anything else the app checks them against the attempt: the `state` must be the one it sent (compared in
# constant time), and `iss` must be our issuer (RFC 9207). `iss` defeats the *mix-up attack*, where an app that
# uses several providers is tricked into sending one provider's code to another. Only then does it take the code.
# The check consumes the attempt: one attempt, one callback.

# %%
callback = client.parse_callback(callback_url, attempt)
callback

# %% [markdown]
# ### When the callback is wrong
#
# A second login, and its callback with the `state` tampered with (as in a login-CSRF attack, where someone
# sends your browser to the app's callback with *their* code):

# %%
second = client.start_login()
second_url = client.authorize_headless(second, demo.user["id"])

# %% tags=["raises-exception"]
client.parse_callback(second_url.replace(second.state, "tampered-state"), second)

# %% [markdown]
# The failed check used up the attempt, so even the genuine callback cannot finish it now. Nothing
# half-logged-in is left behind; the user simply starts a new login.

# %% tags=["raises-exception"]
client.parse_callback(second_url, second)

# %% [markdown]
# A callback whose `iss` names another provider (the mix-up attack), and one with no `iss` although Pocket ID
# promised it:

# %% tags=["raises-exception"]
third = client.start_login()
client.parse_callback({"code": "a-code", "state": third.state, "iss": "https://id.attacker.example"}, third)

# %% tags=["raises-exception"]
fourth = client.start_login()
client.parse_callback({"code": "a-code", "state": fourth.state}, fourth)

# %% [markdown]
# ## 6. The code exchange
#
# The app redeems the code at the token endpoint, over the back channel, authenticating with
# `client_secret_basic`: an `Authorization: Basic` header holding `base64(client_id:client_secret)` (shortened
# below). It sends the PKCE verifier and repeats the redirect URI exactly.

# %%
log.clear()
tokens = client.exchange_code_for_tokens(callback.code, attempt)
show(log)

# %% [markdown]
# The response, checked by the client (JSON object, `token_type` bearer in any case, each field the right type),
# with the tokens shortened:

# %%
tokens.shortened()

# %% [markdown]
# ## 7. Two tokens side by side
#
# Both tokens are JWTs signed with the same key. The ID token tells *the app* who signed in; the access token is
# for *the provider's* APIs (userinfo). Their headers differ in `typ`:

# %%
id_header, id_claims = decode_unverified(tokens.id_token)
at_header, at_claims = decode_unverified(tokens.access_token)
id_header, at_header

# %% [markdown]
# And their claims (decoded without verifying, only to look; the checks come next):

# %%
print(f"{'claim':<19}{'ID token':<48}access token")
for name in sorted(id_claims.keys() | at_claims.keys()):
    cells = [str(c.get(name, "")) for c in (id_claims, at_claims)]
    print(f"{name:<19}{cells[0][:46]:<48}{cells[1][:46]}")

# %% [markdown]
# ## 8. Every ID token check (OpenID Connect Core 3.1.3.7)
#
# Until these checks pass, the ID token is only a *claim* about who signed in. Each one by hand first.
#
# **Signature, with a pinned algorithm** (steps 6 to 8). Verify with the issuer's published keys (the JWKS from
# `jwks_uri`, chosen by `kid`), allowing only the configured algorithms. The list comes from our configuration and
# the discovery document, never from the token's header: no `none`, and no MAC keyed with the client secret
# unless we configure it (notebook 03 shows both attacks). `verify_token` from notebook 02 does it, then checks
# `iss`, `aud` and the times, which we look at one by one below. (Step 6 would let a client that received the
# token straight from the token endpoint over TLS skip the signature; we verify it anyway, so the same code is
# safe wherever a token comes from, and this stand-in speaks plain http.)

# %%
verified = verify_token(tokens.id_token, client.keys, client.id_token_algorithms, issuer=client.issuer,
                        audience=client.client_id, now=clock())
client.id_token_algorithms, verified.header["kid"], verified.key.kid, client.keys.fetch_count

# %% [markdown]
# **`iss`** (step 2) must equal our issuer exactly, the same string discovery checked.

# %%
id_claims["iss"] == client.issuer

# %% [markdown]
# **`aud`** (steps 3 to 5) must contain our client id, and no audience we do not trust. With a single audience
# no `azp` is needed (Pocket ID never sends one); if one is present it must be our client id.

# %%
client.client_id in id_claims["aud"], set(id_claims["aud"]) - {client.client_id}, "azp" in id_claims

# %% [markdown]
# **`exp`** (step 9): now must be before the expiry (the client allows 60 s of clock skew). **`iat`** (step 10):
# not in the future, beyond the same leeway.

# %%
id_claims["exp"] - clock(), id_claims["iat"] <= clock() + client.leeway

# %% [markdown]
# **`nonce`** (step 11) must be the one this login sent, compared in constant time.

# %%
hmac.compare_digest(id_claims["nonce"], attempt.nonce)

# %% [markdown]
# **`sub`** must be present: the user's stable id at this provider, the key the app files the user under.

# %%
id_claims["sub"]

# %% [markdown]
# **`at_hash`** (section 3.1.3.8) ties the access token to this ID token: the left half of the SHA-256 of the
# access token (the hash of the ID token's `alg`), base64url. By hand, and with the helper:

# %%
digest = hashlib.sha256(tokens.access_token.encode("ascii")).digest()
b64url_encode(digest[:16]), token_hash(tokens.access_token, "RS256"), id_claims["at_hash"]

# %% [markdown]
# **`typ`**: the header says `JWT`, not `at+jwt` (an access token offered as an ID token is refused).

# %%
id_header["typ"]

# %% [markdown]
# The other steps do not apply here: the token is not encrypted (step 1), we asked for no `acr` (step 12) and
# sent no `max_age` (step 13). `validate_id_token` runs every check above, in a safe order, in one call:

# %%
id_token = client.validate_id_token(tokens.id_token, nonce=attempt.nonce, access_token=tokens.access_token)
id_token.sub == id_claims["sub"]

# %% [markdown]
# ### The checks failing
#
# **Wrong nonce.** Our real, correctly signed ID token, offered to another login attempt (a replayed token):

# %% tags=["raises-exception"]
client.validate_id_token(tokens.id_token, nonce=client.start_login().nonce, access_token=tokens.access_token)

# %% [markdown]
# **Another audience.** The photos app signs the same user in and gets its own ID token, signed by the same
# Pocket ID. Presented to the notes app, it is refused: it was not issued to us.

# %%
photos = PocketIdClient(APP_URL, demo.client_id, demo.client_secret, "https://photos.altx10.dev/auth/callback",
                        api_key=idp.api_key, internal_url=idp.internal_url, clock=clock,
                        random_bytes=random.Random(60).randbytes)
photos_login = photos.sign_in_headless(photos.start_login(), demo.user["id"])
photos_login.id_token.claims["aud"]

# %% tags=["raises-exception"]
client.validate_id_token(photos_login.id_token.token, nonce=attempt.nonce)

# %% [markdown]
# **Swapped access token.** Our ID token with the photos app's access token: `at_hash` does not match.

# %% tags=["raises-exception"]
client.validate_id_token(tokens.id_token, nonce=attempt.nonce, access_token=photos_login.tokens.access_token)

# %% [markdown]
# **Wrong type.** The access token is signed by the same key and has `iss`, `sub`, `aud`, `exp` and `iat`, but it
# is not an ID token:

# %% tags=["raises-exception"]
client.validate_id_token(tokens.access_token, nonce=None)

# %% [markdown]
# ## 9. Userinfo, with the `sub` match
#
# The access token buys the user's current profile from the userinfo endpoint, sent as a Bearer token:

# %%
log.clear()
info = client.get_user_info(tokens.access_token, expected_sub=id_token.sub)
show(log)

# %% [markdown]
# The answer's `sub` must equal the ID token's (OpenID Connect Core 5.3.2): otherwise the profile belongs to
# someone else (a mixed-up or substituted token) and the app refuses it, whatever else it says:

# %% tags=["raises-exception"]
client.get_user_info(tokens.access_token, expected_sub="someone-else")

# %% [markdown]
# ## 10. Refresh: rotation, and what reuse does
#
# Two hours pass (a stand-in convenience: we move the shared clock). The ID token has expired, even with the
# leeway, and the access token no longer buys userinfo:

# %%
clock.advance(2 * 60 * 60)

# %% tags=["raises-exception"]
client.validate_id_token(tokens.id_token, nonce=attempt.nonce)

# %% tags=["raises-exception"]
client.get_user_info(tokens.access_token, expected_sub=id_token.sub)

# %% [markdown]
# The refresh token gets new tokens without the user. The new ID token passes every check above and must name
# the same user (`sub`) and the same sign-in (`auth_time`) as the original (OpenID Connect Core 12.2). Pocket ID
# **rotates** the refresh token: the answer carries a new one, and the old one is spent.

# %%
refreshed = client.refresh_access_token(tokens.refresh_token, previous=id_token)
refreshed.tokens.shortened()

# %%
same_user = refreshed.sub == id_token.sub
same_user, refreshed.id_token.claims["iat"] - NOW, refreshed.tokens.refresh_token != tokens.refresh_token

# %% [markdown]
# Reusing the spent refresh token is what a thief would do with a copy, so Pocket ID refuses it **and revokes
# the whole grant** (the rotation of RFC 9700, the OAuth security best practice): the thief gets nothing, and
# neither does whoever holds the new refresh token. The user signs in again.

# %% tags=["raises-exception"]
client.refresh_access_token(tokens.refresh_token, previous=id_token)

# %% tags=["raises-exception"]
client.refresh_access_token(refreshed.tokens.refresh_token, previous=refreshed.id_token)

# %% [markdown]
# ## 11. A code works once
#
# The whole login once more, step by step, for a code we can replay.

# %%
replay = client.start_login()
replay_callback = client.parse_callback(client.authorize_headless(replay, demo.user["id"]), replay)
replay_tokens = client.exchange_code_for_tokens(replay_callback.code, replay)

# %% [markdown]
# Redeeming the same code again fails with `invalid_grant`. A second redemption means someone else has the code,
# so Pocket ID also revokes what the code bought, in case the first redemption was the attacker's (as RFC 6749
# section 4.1.2 recommends). The access token from the first redemption is dead too:

# %% tags=["raises-exception"]
client.exchange_code_for_tokens(replay_callback.code, replay)

# %% tags=["raises-exception"]
client.get_user_info(replay_tokens.access_token, expected_sub=demo.user["id"])

# %% [markdown]
# ## 12. Logout through end-session
#
# A fresh login, this time in one call, as in notebook 00: `sign_in_headless` runs steps 4 to 9.

# %%
result = client.sign_in_headless(client.start_login(), demo.user["id"])
result.describe()

# %% [markdown]
# Clearing the app's own cookie logs the user out of the app only; the Pocket ID session and the grant live on.
# RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) sends the browser to the provider's
# `end_session_endpoint` with the ID token as a hint, where to come back to (a registered logout callback) and a
# `state`:

# %%
logout_url = client.build_end_session_url(result.id_token.token, post_logout_redirect_uri=LOGOUT_URI)
for name, value in parse_qsl(urlsplit(logout_url).query):
    print(f"{name:<25} {value[:60]}")

# %% [markdown]
# The browser follows it (here, the kernel plays the browser at `INTERNAL_APP_URL`): Pocket ID ends the session
# and sends the browser back to the app with the same `state`.

# %%
log.clear()
log.session.get(logout_url.replace(APP_URL, idp.internal_url), allow_redirects=False)
show(log)

# %% [markdown]
# The grant is over: its refresh token no longer works.

# %% tags=["raises-exception"]
client.refresh_access_token(result.tokens.refresh_token, previous=result.id_token)

# %% [markdown]
# ## 13. In your browser, with a passkey
#
# Now the login as you would do it. The next cell shows a **Sign in with Pocket ID** button. It opens Pocket ID's
# sign-in page in a new tab; you sign in there with a passkey; the tab comes back to a small helper in this kernel
# (a *callback catcher*) and tells you that you can close it. The cell after that collects the login: nothing
# to copy. Behind the button it is the same `PocketIdClient` as above: `state`, `nonce`, PKCE, the `iss` check,
# the code exchange, every ID token check and userinfo.
#
# - **First time?** Click *No passkey yet? Add one first*: the stand-in signs you in once with a one-time login
#   code and lets you add a passkey (your browser or password manager keeps it). Then click the sign-in button.
# - **How your browser reaches the kernel.** JupyterLab serves the helper at `<your Jupyter address>/altx10-callback/`
#   and the stand-in at `<your Jupyter address>/proxy/<port>/` (the `jupyter-server-proxy` extension). The first
#   click tells the helper the address your browser uses (its `Host` and `X-Forwarded-Prefix` headers), and it
#   makes that the stand-in's `APP_URL`: the issuer, the sign-in pages and the passkey's relying party. The kernel
#   keeps reaching the stand-in on loopback, its `INTERNAL_APP_URL`. So it works the same on `localhost` and on
#   Binder, behind `/user/<name>/`. (Browsers allow passkeys on `localhost` and https, not on `127.0.0.1`.)
# - **With your own Pocket ID** (the variables above set), register this redirect URI for your client:
#   `<your Jupyter address>/altx10-callback/callback`. For `make lab` that is
#   `http://localhost:8888/altx10-callback/callback`, and since Pocket ID matches a loopback URL on any port,
#   registering `http://localhost/altx10-callback/callback` is enough. On Binder it is
#   `https://<binder host>/user/<your name>/altx10-callback/callback`, where a `*` can stand for the changing
#   name. Or register any URI and set `OIDC_REDIRECT_URI` to it.
# - **Headless.** Under nbval (`make test` sets `ALTX10_HEADLESS=1`) or in a kernel no Jupyter server started,
#   there is no browser: the cell below shows a note instead of the button, and the next one signs in with a
#   one-time login code, as in section 4.

# %%
login = browser_login(clock=FrozenClock(NOW), seed=13, key=demo_key())
login

# %% [markdown]
# Sign in in the new tab, then run the next cell. It waits up to five minutes for the tab to come back. If the tab
# could not reach the notebook, paste the address it ended on into the box above and press *Use this address*
# first. A forged or replayed callback, a cancelled sign-in (`access_denied`), a closed tab (the wait times out)
# or a second click on the button each end with a clear message above and here; click the button again to retry.

# %%
browser_result = login.wait()
browser_result.describe()

# %% [markdown]
# The ID token records how you signed in, in `amr`: `["phr"]` (phishing-resistant) for a passkey, `["otp"]` for a
# login code. A passkey only works on the address it was made for, which is why a look-alike site cannot use it.

# %%
browser_result.sub, browser_result.id_token.claims["amr"]

# %% [markdown]
# ## Summary
#
# - Discovery tells the client every endpoint; its `issuer` must equal the configured one exactly.
# - The authorization request carries `state` (the browser), `nonce` (the ID token) and a PKCE S256 challenge
#   (the code); the app keeps their secrets in a `LoginAttempt` that is good for one callback.
# - The callback is checked before its code is used: `state`, then `iss` (RFC 9207), then errors.
# - The code is redeemed once, over the back channel, with `client_secret_basic` and the PKCE verifier.
# - The ID token is believed only after its signature (JWKS, pinned algorithm), `iss`, `aud`, `exp`, `iat`,
#   `nonce`, `sub`, `at_hash` and `typ` all pass; userinfo must describe the same `sub`.
# - Refresh tokens rotate; reusing one revokes the grant. End-session ends the provider's grant too.
# - Every step works the same against a real Pocket ID; only the stand-in's setup and pinned clock differ.
# - In JupyterLab or on Binder the login is a click: a passkey in the browser, the callback caught in the kernel.
#
# ## What's next
#
# [06: Securing an API](06-securing-an-api.ipynb) turns this login into the notes app's own session cookie and
# protects its routes with it. The map of the series is in [00: Start here](00-start-here.ipynb).

# %%
idp.stop()
login.close()
