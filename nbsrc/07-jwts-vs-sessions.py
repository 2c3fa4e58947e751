# %% [markdown]
# # JWTs versus server-side sessions
#
# The author's article ends on a trade-off: a JWT is stateless and hard to revoke; a server-side session (in
# Redis, say) is easy to revoke but needs shared state. Here we run the same altx10 app in both designs, sign the
# same user in to each, revoke them, and measure what each design costs per request.

# %% [markdown]
# ## Learning objectives
#
# After this notebook you can:
#
# - run the demo app with a JWT cookie or with an opaque session id and a session store, and tell them apart;
# - revoke a user in each design and explain why the JWT keeps working until its `exp`;
# - use the two middle grounds: a `jti` deny-list, and short-lived JWTs that go back to Pocket ID to refresh;
# - compare what each design puts on the wire and what it costs per request, measured;
# - choose a design for an app, with the closing table.
#
# **Prerequisites:** [06: Securing an API](06-securing-an-api.ipynb). Time to learn: about 30 minutes.

# %%
import os
import random
import shutil
import timeit
from contextlib import ExitStack

import requests

from altx10_helpers import (
    DenyList,
    RedisSessionStore,
    SessionSigner,
    SqliteSessionStore,
    UserSession,
    decode_unverified,
    local_redis_server,
)
from altx10_helpers.idp import LocalPocketId, demo_key
from altx10_helpers.idp.testing import FrozenClock
from altx10_helpers.oidc import PocketIdClient
from altx10_helpers.webapp import AppServer, create_app, sign_in_with_login_code, webapp

# %% [markdown]
# ## The set-up
#
# As in notebook 06: the Pocket ID stand-in with the fixed demo key, a frozen clock and seeded randomness, so
# every output below except the measured timings is the same on every run. Two small helpers start an app on its
# own loopback port and sign a fresh browser in to it.

# %%
clock = FrozenClock(1_800_000_000)  # 2027-01-15 08:00:00 UTC
rng = random.Random(7)
stack = ExitStack()
idp = stack.enter_context(LocalPocketId(key=demo_key(), clock=clock, random_bytes=random.Random(6).randbytes))
demo = idp.seed_demo()
user_id = demo.user["id"]
signer = SessionSigner(secret=b"notes.altx10.dev demo secret: 64 bytes, public, never use it for real", alg="HS256",
                       app_id="https://notes.altx10.dev")  # every app below is an instance of notes

# %%
def start_app(**options):
    """The demo app on a free loopback port, with the shared clock, secret and seeded randomness."""
    server = stack.enter_context(AppServer())
    client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, server.url + "/auth/callback",
                            api_key=idp.api_key, clock=clock, random_bytes=rng.randbytes)
    options.setdefault("signer", signer)
    server.mount(create_app(client=client, now=clock, random_bytes=rng.randbytes, **options))
    return server


def sign_in(server):
    """A new browser that signs in to ``server`` through Pocket ID with a fresh login code."""
    browser = requests.Session()
    page = browser.get(server.url + "/me")
    sign_in_with_login_code(browser, page.url, demo.login_code())
    return browser


def me(browser, server):
    """What ``/api/me`` answers this browser: the status, and whose email or why not."""
    answer = browser.get(server.url + "/api/me").json()
    return answer["userInfo"]["email"] if "userInfo" in answer else answer["error_description"]

# %% [markdown]
# ## The same app, two designs
#
# `design="jwt"` (the default, the author's design) puts the app's signed JWT in the cookie. `design="server"`
# puts a random id in the cookie and the session in a store: SQLite by default (embedded, nothing to set up),
# Redis when `REDIS_URL` is set, so that several app instances share it.

# %%
jwt_app = start_app()
session_app = start_app(design="server")
alice_jwt = sign_in(jwt_app)
alice_db = sign_in(session_app)

# %%
for design, browser in [("jwt", alice_jwt), ("server", alice_db)]:
    value = browser.cookies["session"]
    print(f"{design:7} session={value[:30]}... ({len(value)} characters)")

# %% [markdown]
# The JWT *is* the session: anyone holding it can read it (`decode_unverified`) and the app needs nothing else to
# trust it. The session id is 256 random bits and means nothing outside the store. The store keeps only its
# SHA-256, so a leaked database holds no cookie anyone could replay:

# %%
store = webapp(session_app.app).store
stored = store.get(alice_db.cookies["session"])
stored.sub == user_id, stored.userInfo.email, stored.exp - stored.iat

# %% [markdown]
# ## Cookie size on the wire
#
# The browser sends the cookie with **every** request to the app: every page, image, API call.

# %%
for design, browser in [("jwt", alice_jwt), ("server", alice_db)]:
    header = f"Cookie: session={browser.cookies['session']}"
    print(f"{design:7} {len(header):5} bytes per request")

# %% [markdown]
# The JWT grows with what it carries. A user in 25 groups:

# %%
claims = decode_unverified(alice_jwt.cookies["session"])[1]
busy = {**claims["userInfo"], "groups": [f"team-{n:02d}" for n in range(25)]}
len(signer.create_token(busy, now=clock(), random_bytes=rng.randbytes))

# %% [markdown]
# Browsers keep at most about 4096 bytes per cookie, so a session JWT must stay small: no ID token, no long
# permission lists. HTTP/2 and HTTP/3 compress a header that repeats on a connection, which softens the cost,
# but the server still parses and verifies the whole token on every request.

# %% [markdown]
# ## Revoke one user
#
# Alice's laptop is stolen. The admin signs her out everywhere, now. In the server-side design that is one
# delete, and her very next request is anonymous:

# %%
webapp(session_app.app).revoke_user(user_id)

# %%
me(alice_db, session_app)

# %% [markdown]
# The JWT design keeps no record of the tokens it issued, so there is nothing to delete:

# %% tags=["raises-exception"]
webapp(jwt_app.app).revoke_user(user_id)

# %% [markdown]
# The stolen cookie keeps working. Signing out in the browser does not help either: it only clears *that
# browser's* copy.

# %%
me(alice_jwt, jwt_app)

# %%
clock.advance(23 * 3600)  # 23 hours later
me(alice_jwt, jwt_app)

# %%
clock.advance(3600 + 30)  # past exp, and past the 30-second leeway
me(alice_jwt, jwt_app)

# %% [markdown]
# A JWT is valid until its `exp`, whatever happens meanwhile. That is the price of needing no shared state.

# %% [markdown]
# ## Middle ground 1: a deny-list of `jti`
#
# Every session JWT carries a `jti` (a random id). The app can keep a list of the `jti`s it revoked early and
# refuse those tokens. This is shared state again, but only for revoked tokens, and each entry can be dropped
# once its token would have expired anyway.

# %%
deny_list = DenyList(clock=clock)
deny_app = start_app(deny_list=deny_list)
bob = sign_in(deny_app)
webapp(deny_app.app).revoke(bob.cookies["session"])

# %%
me(bob, deny_app)

# %%
len(deny_list), deny_list.prune(), deny_list.prune(now=clock() + 24 * 3600 + 30)

# %% [markdown]
# It revokes one *token*, not a user: the app must know which cookie to revoke (logout knows it; "sign out
# everywhere" would need a list of the user's `jti`s, which is a session store by another name). And with several
# app instances the list must be shared, e.g. in Redis: the lookup comes back, only smaller.

# %% [markdown]
# ## Middle ground 2: short-lived JWTs that refresh at Pocket ID
#
# Make the session JWT live 5 minutes. When it expires, `auto_authorize` sends the browser to `/login`; Pocket ID
# still has its own session, so the login runs through without a prompt and a new JWT is set: a refresh. The
# difference is that Pocket ID is asked again every 5 minutes, and it says no to a disabled user.

# %%
short_app = start_app(signer=SessionSigner(secret=signer.secret, lifetime=300))
carol = sign_in(short_app)
clock.advance(300 + 30)
me(carol, short_app)

# %%
page = carol.get(short_app.url + "/me")  # the refresh: /me -> /login -> Pocket ID -> /auth/callback -> /me
page.status_code, [r.status_code for r in page.history], me(carol, short_app)

# %% [markdown]
# Now the admin disables the user in Pocket ID. The app's current JWT still works, for at most 5 minutes:

# %%
profile = {k: demo.user[k] for k in ("username", "email", "firstName", "lastName")}
idp.admin("PUT", f"/api/users/{user_id}", {**profile, "disabled": True})["disabled"], me(carol, short_app)

# %%
clock.advance(300 + 30)
page = carol.get(short_app.url + "/me")
page.url.startswith(idp.url + "/login?"), me(carol, short_app)

# %% [markdown]
# The refresh ended on Pocket ID's sign-in page: no new session. An app that cannot send browsers around (an API
# used by scripts) keeps Pocket ID's refresh token instead, server-side, and trades it every few minutes. Pocket ID
# refuses that too once the user is disabled:

# %%
client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, short_app.url + "/auth/callback",
                        api_key=idp.api_key, clock=clock, random_bytes=rng.randbytes)
_ = idp.admin("PUT", f"/api/users/{user_id}", {**profile, "disabled": False})
login = client.sign_in_headless(client.start_login(), user_id)
_ = idp.admin("PUT", f"/api/users/{user_id}", {**profile, "disabled": True})

# %% tags=["raises-exception"]
client.refresh_access_token(login.tokens.refresh_token, previous=login.id_token)

# %% [markdown]
# The window shrinks from a day to the JWT's lifetime, with no store in the app. The costs: a trip to Pocket ID
# every few minutes per user, and Pocket ID must be up for users to stay signed in.

# %%
_ = idp.admin("PUT", f"/api/users/{user_id}", {**profile, "disabled": False})

# %% [markdown]
# ## What each request costs, measured
#
# Every request to a protected route either verifies the JWT (HMAC-SHA256, base64url, JSON, the claims) or looks
# the id up in the store. We time both on the same session, with 1,000 sessions stored. Redis is measured too when
# `REDIS_URL` is set or `redis-server` is installed (a throw-away server on a loopback port).

# %%
session = UserSession.new(claims["userInfo"], now=clock(), random_bytes=rng.randbytes)
token = signer.create_token(session)
sqlite = stack.enter_context(SqliteSessionStore(clock=clock))
sqlite_ids = [sqlite.create(session) for _ in range(1000)]
redis_url = os.environ.get("REDIS_URL") or (stack.enter_context(local_redis_server())
                                            if shutil.which("redis-server") else None)
redis = stack.enter_context(RedisSessionStore(redis_url, prefix="nb07:", clock=clock)) if redis_url else None
redis_ids = [redis.create(session) for _ in range(1000)] if redis else []

# %%
def per_call_us(fn, number=2000):
    """Microseconds per call: the best of three runs of ``number`` calls."""
    return min(timeit.repeat(fn, number=number, repeat=3)) / number * 1e6

# %% tags=["nbval-ignore-output"]
costs = {"JWT verify (HS256)": per_call_us(lambda: signer.validate_token(token, now=clock())),
         "SQLite lookup (in memory)": per_call_us(lambda: sqlite.get(sqlite_ids[500]))}
if redis:
    costs["Redis lookup (loopback)"] = per_call_us(lambda: redis.get(redis_ids[500]), number=500)
for name, us in costs.items():
    print(f"{name:28} {us:7.1f} µs per request   {us / costs['JWT verify (HS256)']:5.2f} x JWT")

# %% [markdown]
# Typical results: verifying the JWT and an in-process SQLite lookup both take tens of microseconds; a Redis
# lookup costs a network round trip, even on loopback, so it is usually the slowest of the three. Numbers move
# with the machine, which is why this cell's output is not compared by the tests. Now the same against a whole
# HTTP request to each app:

# %% tags=["nbval-ignore-output"]
dave_jwt, dave_db = sign_in(jwt_app), sign_in(session_app)
for design, browser, server in [("jwt", dave_jwt, jwt_app), ("server", dave_db, session_app)]:
    us = per_call_us(lambda b=browser, s=server: b.get(s.url + "/api/me"), number=100)
    print(f"GET /api/me, {design} design: {us:7.0f} µs per request")

# %% [markdown]
# Both checks are a small part of even a loopback HTTP request. The per-request cost rarely decides the design;
# revocation, shared state and operations do.

# %% [markdown]
# ## The comparison
#
# | | JWT cookie (the author's design) | server-side session | JWT + `jti` deny-list | short-lived JWT + refresh |
# |---|---|---|---|---|
# | what the cookie holds | the signed session (about 700 bytes) | a random id (43 bytes) | the signed session | the signed session |
# | revoke one session | impossible until `exp` | delete the row: immediate | deny its `jti`: immediate | at most the JWT's lifetime |
# | revoke a user everywhere | impossible until `exp` | `revoke_user`: immediate | needs the user's `jti`s | at the next refresh (minutes) |
# | shared state | none, only the secret | the store (SQLite, Redis) | the deny-list | none in the app; Pocket ID's session or refresh token |
# | per request | verify an HMAC | one store lookup | verify + a set lookup | verify (+ a refresh every few minutes) |
# | several app instances | share the secret | share the store (Redis) | share the list | share the secret |
# | a stolen cookie | works until `exp` | works until revoked | works until revoked | works until the next refresh |
#
# For the altx10 apps, a JWT with a short lifetime that refreshes at Pocket ID gives quick revocation with no
# store; an app that must cut off a user instantly (admin tools, payments) is better served by server-side sessions.

# %% [markdown]
# ## Summary
#
# - A JWT session needs no shared state, and so it cannot be taken back: it works until `exp`.
# - A server-side session is an opaque id plus a store lookup; deleting the row ends it at once, for one session or
#   for every session of a user.
# - A `jti` deny-list revokes single tokens early, with a small shared list; short-lived JWTs that refresh at
#   Pocket ID bound the damage to minutes, and a user disabled in Pocket ID is refused at the next refresh.
# - The JWT cookie is hundreds of bytes on every request and grows with its claims; the session id is 43.
# - Verifying a JWT and looking a session up both cost microseconds, small beside the HTTP request itself.
#
# ## What's next
#
# That is the whole series. Go back to [00: Start here](00-start-here.ipynb) for the map, and try the login against
# your own Pocket ID by setting `POCKET_ID_ENDPOINT` and the `OIDC_*` variables.

# %%
stack.close()  # stops every app, the Redis server if one was started, and the Pocket ID stand-in
