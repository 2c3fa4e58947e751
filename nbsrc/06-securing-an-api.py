# %% [markdown]
# # Securing an API with the app's own session cookie
#
# Pocket ID tells an altx10 app *who* signed in. From then on the app answers a different question on every
# request: *may this request do that?* It does so with its **own** signed JWT, kept in a cookie it set itself.
# Here we mint that token, run the demo app against the local Pocket ID stand-in, follow a real login hop by
# hop, and look at each defence the author's original app lacked.

# %% [markdown]
# ## Learning objectives
#
# After this notebook you can:
#
# - tell the ID token (Pocket ID identifies the user) from the session JWT (the app authorizes requests);
# - mint, read and validate the app's session JWT, and say why its algorithm comes from configuration;
# - protect routes with `auto_authorize`, `authorized` and `maybe_authorized`;
# - follow a complete login through the browser's redirects and the app's back channel;
# - read a `Set-Cookie` header: `HttpOnly`, `Secure`, `SameSite=Lax`, `Path=/`, the `__Host-` prefix, and why
#   no `Domain=.altx10.dev`;
# - explain the open redirect in `redirectTo` and the rule that closes it.
#
# **Prerequisites:** [02: Verifying a JWT](02-verifying-a-jwt.ipynb) and [05: The Pocket ID login](05-pocket-id-login.ipynb). Time to learn: about 35 minutes.

# %%
import json
import random
from contextlib import ExitStack

import requests

from altx10_helpers import SessionSigner, decode_unverified, sign
from altx10_helpers.idp import LocalPocketId, demo_key
from altx10_helpers.idp.testing import FrozenClock
from altx10_helpers.oidc import HopLog, PocketIdClient
from altx10_helpers.webapp import (
    AppServer,
    authorized,
    create_app,
    describe_hops,
    safe_redirect,
    sign_in_with_login_code,
)

# %% [markdown]
# ## Two tokens, two jobs
#
# - The **ID token** is signed by Pocket ID with its private RSA key. It is addressed to the app (`aud`), lives
#   one hour, and is read exactly once: at the end of the login.
# - The **session JWT** is signed by the app with its own HMAC secret (`JWT_SECRET`, HS256 or HS512 from
#   `JWT_ALG`). Only this app can make or check it. It rides in a cookie on every request.
#
# The session JWT has the author's shape: `sub`, `exp`, `iat`, `userInfo` (what userinfo said about the user)
# and `dynamic` (anything the app adds), plus a `jti` so one token can be revoked early (notebook 07), and `iss`
# and `aud` naming the app (its public base URL, by default the origin of its redirect URI).
#
# Every output below is reproducible: the clock is frozen and every random value comes from a seeded generator.

# %%
clock = FrozenClock(1_800_000_000)  # 2027-01-15 08:00:00 UTC, and it only moves when told
signer = SessionSigner(secret=b"notes.altx10.dev demo secret: 64 bytes, public, never use it for real", alg="HS256",
                       app_id="https://notes.altx10.dev")
ada = {"sub": "0b7e4f52-4c2a-4d51-9d3e-6f1a2b3c4d5e", "email": "ada@altx10.dev", "name": "Ada Lovelace",
       "given_name": "Ada", "family_name": "Lovelace", "email_verified": True, "groups": ["developers"]}

# %%
token = signer.create_token(ada, now=clock(), random_bytes=random.Random(1).randbytes)
print(token)

# %%
header, claims = decode_unverified(token)
print(json.dumps(header))
print(json.dumps(claims, indent=2))

# %% [markdown]
# `validate_token` checks the signature with the **configured** algorithm (the header's `alg` is only compared
# with it), then the author's time rule `iat <= now < exp`, each side widened by a 30-second leeway:

# %%
signer.validate_token(token, now=clock())

# %% [markdown]
# A day and a minute later the same token is refused:

# %% tags=["raises-exception"]
signer.validate_token(token, now=clock() + 24 * 3600 + 60)

# %% [markdown]
# And a token that names another algorithm is refused before its claims are even read, even when it is signed
# with the right secret. The algorithm is a decision of the app's configuration, never of the token:

# %% tags=["raises-exception"]
signer.validate_token(sign(claims, signer.secret, "HS512"), now=clock())

# %% [markdown]
# The author's token names no app, so two altx10 apps that share a `JWT_SECRET` would accept each other's cookies:
# a session for `photos.altx10.dev` would open `notes.altx10.dev`. Ours names the app that minted it (`iss`) and the
# app it is for (`aud`), and `validate_token` requires both to be this app. A cookie that photos minted, with the
# very same secret, is refused by notes (whoever *holds* the secret can still mint for both: see "Why each app keeps
# its own cookie" below):

# %% tags=["raises-exception"]
photos = SessionSigner(secret=signer.secret, alg="HS256", app_id="https://photos.altx10.dev")
photos_cookie = photos.create_token(ada, now=clock(), random_bytes=random.Random(2).randbytes)
signer.validate_token(photos_cookie, now=clock())

# %% [markdown]
# ## Pocket ID and the app, running locally
#
# The stand-in plays Pocket ID, with the fixed demo key, the frozen clock and seeded randomness. The app is
# served on its own loopback port. `AppServer` binds the port first, because the app's redirect URI must name it.

# %%
stack = ExitStack()
idp = stack.enter_context(LocalPocketId(key=demo_key(), clock=clock, random_bytes=random.Random(6).randbytes))
demo = idp.seed_demo()
server = stack.enter_context(AppServer())
client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, server.url + "/auth/callback",
                        api_key=idp.api_key, clock=clock, random_bytes=random.Random(60).randbytes)
back_channel = HopLog(client.session)
names = {server.url: "app", idp.url: "pocket-id"}

# %% [markdown]
# ## Protecting routes: three decorators
#
# `create_app` builds the app with `/login`, `/auth/callback`, `/logout`, `/register` and `/me`. Your own routes
# choose one of three decorators:
#
# | decorator | signed in | not signed in | for |
# |---|---|---|---|
# | `auto_authorize` | calls the view with `session=` | 302 to `/login?redirectTo=<this path>`, and back after | pages people open |
# | `authorized` | calls the view with `session=` | 401 JSON saying why | APIs and scripts |
# | `maybe_authorized` | `session=` the session | `session=None` | pages for everyone |
#
# `/me` uses `auto_authorize`. We add an API route with `authorized`:

# %%
app = create_app(client=client, signer=signer, now=clock, random_bytes=random.Random(600).randbytes)

@app.get("/api/notes")
@authorized
def notes(session):
    return {"owner": session.userInfo.email, "notes": ["buy milk", "learn JWTs"]}

server.mount(app)

# %% [markdown]
# Signed out, the API answers 401 with the reason, and the page sends the browser to sign in:

# %%
answer = requests.get(server.url + "/api/notes")
answer.status_code, answer.json()

# %%
answer = requests.get(server.url + "/me", allow_redirects=False)
answer.status_code, answer.headers["Location"]

# %% [markdown]
# ## The login, hop by hop
#
# A `requests.Session` plays the browser: it keeps cookies and follows redirects. `HopLog` records every
# request it makes. Open `/me`:

# %%
browser = requests.Session()
hops = HopLog(browser)
page = browser.get(server.url + "/me")
print(describe_hops(hops.hops, names))

# %% [markdown]
# 1. `/me` is protected by `auto_authorize`: off to `/login`, remembering where we were.
# 2. `/login` starts a login: a fresh `state`, `nonce` and PKCE pair. Only the `state` and the PKCE *challenge*
#    go to Pocket ID. The PKCE *verifier*, the nonce and `redirectTo` stay in the `login_state` cookie: signed,
#    timestamped, valid 5 minutes, `HttpOnly`. The author's library put a signed state in the URL instead; a
#    cookie also ties the callback to *this* browser, so nobody can finish their own login in your browser.
# 3. Pocket ID has no session for us yet, so 4. it shows its sign-in page.
#
# Real Pocket ID asks for a passkey here. The stand-in takes a one-time **login code**, which an admin creates:

# %%
hops.clear()
page = sign_in_with_login_code(browser, page.url, demo.login_code())
print(describe_hops(hops.hops, names))

# %% [markdown]
# 1. Signed in at Pocket ID (its own `access_token` cookie), back to `/authorize`.
# 2. Pocket ID redirects to the app's callback with a one-time `code`, our `state` and its `iss`.
# 3. The callback checks the `login_state` cookie's signature and age, that `state` matches and that `iss` is our
#    Pocket ID; then, on the back channel below, it redeems the code and validates the ID token. It sets the
#    `session` cookie, clears `login_state`, and returns to `/me`, where 4. we are signed in.
#
# What the app said to Pocket ID directly, where no browser can see or change it:

# %%
print(describe_hops(back_channel.hops, names))

# %% [markdown]
# The token request carries the PKCE verifier and the client secret (in an `Authorization: Basic` header, not
# shown). The ID token is checked against the JWKS (signature, `iss`, `aud`, `exp`, `nonce`, `at_hash`), and
# userinfo must describe the same `sub`. Then the app has its answer:

# %%
print(json.dumps(page.json(), indent=2))

# %% [markdown]
# On loopback, cookies are kept per *host*, not per port: here the browser sends Pocket ID's `access_token` to the
# app and the app's cookies to Pocket ID. In production they live on different hosts (`notes.altx10.dev`,
# `id.altx10.dev`) and never meet.

# %% [markdown]
# ## The cookie, attribute by attribute
#
# Here is the callback's `Set-Cookie` header for the session, as the server sent it (the JWT cut short):

# %%
callback = next(r for r in page.history if "/auth/callback" in r.url)
session_header = next(h for h in callback.raw.headers.getlist("Set-Cookie") if h.startswith("session="))
value, *attributes = session_header.removeprefix("session=").split("; ")
print(f"session = {value[:20]}... ({len(value)} characters)")
for attribute in attributes:
    print("   ", attribute)

# %% [markdown]
# - **`HttpOnly`**: page scripts cannot read it, so a cross-site-scripting bug cannot steal the session.
# - **`SameSite=Lax`**: other sites' forms and scripts do not get it sent along (CSRF), while following a link to
#   the app, and Pocket ID's redirect back, still work.
# - **`Path=/`** and **no `Domain`**: a *host-only* cookie, sent to this app's host and nowhere else.
# - **`Max-Age`/`Expires`**: the cookie ends when the JWT does (from the app's clock, so frozen here).
# - **`Secure`** is missing because this app is served over plain `http`: a browser drops `Secure` cookies from
#   http origins (loopback excepted) and a script never sends them back over http, so the app would not work.
#   Served over https (its redirect URI says so) the app sets `Secure`, and names the cookie **`__Host-session`**:
#   browsers accept a `__Host-` cookie only with `Secure`, `Path=/` and no `Domain`, so no sibling subdomain
#   can plant one for the app to trust.
#
# The payload is the author's shape, filled from Pocket ID's userinfo:

# %%
print(json.dumps(decode_unverified(browser.cookies["session"])[1], indent=2))

# %% [markdown]
# ## Why each app keeps its own cookie
#
# All altx10 apps share one parent domain. A cookie set with `Domain=.altx10.dev` would be sent to *every* app
# under it. Compare, with a cookie jar that follows the browser's rules, a host-only cookie and a shared one:

# %%
jar = requests.cookies.RequestsCookieJar()
jar.set("session", "notes-only-jwt", domain="notes.altx10.dev", path="/")
jar.set("shared", "one-jwt-for-every-app", domain=".altx10.dev", path="/")
for host in ["notes.altx10.dev", "photos.altx10.dev", "someones-experiment.altx10.dev"]:
    sent = requests.cookies.get_cookie_header(jar, requests.Request("GET", f"https://{host}/").prepare())
    print(f"{host:32} Cookie: {sent}")

# %% [markdown]
# With a shared cookie, the weakest app under `altx10.dev` sees every user's session and could replay it to the
# others; every app would also have to hold the one signing secret, so any of them could mint sessions for all.
# Host-only cookies keep each app's blast radius to itself. Signing in to the next app is cheap anyway: the
# Pocket ID session makes the second login a few redirects with no passkey prompt.

# %% [markdown]
# ## `redirectTo`: an open redirect, closed
#
# The author's `/login?redirectTo=` sent the browser wherever the parameter said after the login. A phishing mail
# with `https://notes.altx10.dev/login?redirectTo=https://evil.example/` would then end on the attacker's page,
# right after a real login on a real domain. `safe_redirect` only lets paths on this app through:

# %%
for value in ["/notes?id=3", "https://evil.example/", "//evil.example", "/\\evil.example", "/%2F%2Fevil.example",
              "/%5Cevil.example", "javascript:alert(1)", "/\t/evil.example"]:
    print(f"{value!r:26} -> {safe_redirect(value)!r}")

# %% [markdown]
# `//host` is a protocol-relative URL; browsers read `\` as `/`; they strip tabs and newlines from URLs; and a
# percent-encoded slash turns back into one wherever something decodes it once more. Now the real attempt,
# signed in at Pocket ID already, so the login runs straight through:

# %%
hops.clear()
page = browser.get(server.url + "/login", params={"redirectTo": "https://evil.example/phish"})
print(describe_hops(hops.hops, names))

# %% [markdown]
# The callback sent us to `/`. The tests try over 30 hostile spellings (`tests/test_webapp.py`).

# %% [markdown]
# ## Signing up: a form with a signed CSRF token
#
# `/register` shows a consent form. When it is sent, the app asks Pocket ID's admin API for a one-time signup
# token (5 minutes, one use) and redirects to its link. The form carries a signed, timestamped token bound to
# a random value in an `HttpOnly` cookie, so another site cannot submit it for you:

# %%
forged = requests.post(server.url + "/register", data={"consent": "yes"})
forged.status_code, forged.json()

# %%
form = browser.get(server.url + "/register").text
csrf_token = form.split('name="csrf_token" value="')[1].split('"')[0]
answer = browser.post(server.url + "/register", data={"csrf_token": csrf_token, "consent": "yes"},
                      allow_redirects=False)
answer.status_code, answer.headers["Location"].split("?")[0].replace(idp.url, "pocket-id")

# %% [markdown]
# ## Signing out
#
# Logout is a `POST` (a link on another site cannot sign you out) and clears the cookie. With
# `create_app(..., end_session=True)` it also sends the browser through Pocket ID's end-session, which ends the
# Pocket ID session and grant as well.

# %%
hops.clear()
browser.post(server.url + "/logout")
print(describe_hops(hops.hops, names))

# %%
answer = browser.get(server.url + "/api/notes")
answer.status_code, answer.json()

# %% [markdown]
# Clearing the cookie in *this* browser is all a logout can do to a JWT: a copy of the token taken earlier stays
# valid until its `exp`. Notebook 07 measures that, and the server-side sessions that fix it.

# %% [markdown]
# ## Summary
#
# - Pocket ID identifies the user once; the app then authorizes every request with its own HS256 JWT cookie,
#   whose algorithm and secret come from configuration, and which names the app (`iss`, `aud`) so that another
#   app sharing the secret cannot use it.
# - `auto_authorize`, `authorized` and `maybe_authorized` protect routes for pages, APIs and public pages.
# - The login keeps its secrets (PKCE verifier, nonce, `redirectTo`) in a signed, 5-minute, `HttpOnly` cookie,
#   and checks `state`, `iss`, the code exchange, the ID token and userinfo before setting the session.
# - The session cookie is `HttpOnly`, `SameSite=Lax`, `Path=/`, host-only, and `Secure` with a `__Host-` name
#   over https.
# - `redirectTo` accepts only paths on this app; everything else falls back to `/`.
#
# ## What's next
#
# [07: JWTs versus sessions](07-jwts-vs-sessions.ipynb): revoke a user in each design, and measure what each costs.

# %%
stack.close()  # stops the app and the Pocket ID stand-in
