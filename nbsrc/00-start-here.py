# %% [markdown]
# # Start here: how the altx10 apps are secured
#
# This series teaches, by running code, how the apps at `{app}.altx10.dev` keep their users' data safe:
# hand-built JSON Web Tokens, a verifier that refuses forgeries, the OpenID Connect login with
# **Pocket ID**, and the app's own session cookie.

# %% [markdown]
# ## Learning objectives
#
# After this notebook you can:
#
# - describe the altx10 picture: many apps, one identity provider, one cookie per app;
# - tell *identification* (who you are, Pocket ID's job) from *authorization* (what you may do, each app's job);
# - follow the login as a sequence of HTTP redirects and back-channel calls;
# - run that login for real against a local Pocket ID stand-in, in five helper calls;
# - find the notebook that teaches each piece.
#
# **Prerequisites:** Python basics and what an HTTP cookie is. Time to learn: about 10 minutes.

# %%
import random

from altx10_helpers import describe_provider
from altx10_helpers.idp import LocalPocketId, demo_key
from altx10_helpers.oidc import PocketIdClient

# %% [markdown]
# ## The altx10 picture
#
# Each demo app lives on its own subdomain: `notes.altx10.dev`, `photos.altx10.dev`, and so on. The apps are
# independent of each other, but they share **one** login: a self-hosted **Pocket ID**, an OpenID Connect
# provider where people sign in with passkeys.
#
# - **Identification** is Pocket ID's job. It checks the passkey and tells the app, in a signed *ID token*,
#   who the user is (`sub`, `email`, `name`, `groups`).
# - **Authorization** is each app's job. Having learned who you are, the app issues its *own* signed JWT and
#   sets it as a cookie on its *own* host. Every later request carries that cookie, and the app decides from it
#   what you may do.
#
# So there are two kinds of JWT in play: the ones Pocket ID signs with its private RSA key (anyone can verify
# them with the published public key), and the one each app signs with its own HMAC secret (only that app can
# make or check it).

# %% [markdown]
# ## The login, step by step
#
# ```mermaid
# sequenceDiagram
#     autonumber
#     actor U as Browser
#     participant A as notes.altx10.dev
#     participant P as Pocket ID
#     U->>A: GET /me (no cookie)
#     A-->>U: 302 to /login?redirectTo=/me
#     U->>A: GET /login
#     A-->>U: 302 to Pocket ID /authorize (state, nonce, PKCE challenge)
#     U->>P: GET /authorize
#     P-->>U: sign-in page: passkey
#     U->>P: passkey assertion
#     P-->>U: 302 to /auth/callback?code&state&iss
#     U->>A: GET /auth/callback?code&state&iss
#     A->>P: POST /api/oidc/token (code, PKCE verifier, client secret)
#     P-->>A: ID token + access token + refresh token
#     A->>P: GET /api/oidc/userinfo (Bearer access token)
#     P-->>A: claims about the user
#     A-->>U: Set-Cookie: session=<the app's own JWT>; 302 to /me
#     U->>A: GET /me (cookie)
#     A-->>U: 200 hello, Tom
# ```
#
# Steps 1 to 9 happen in the browser; steps 10 to 13 are the app talking to Pocket ID directly (the
# *back channel*), where no browser can tamper with them. Steps 14 to 16 are the app's own JWT at work.

# %% [markdown]
# ## Which identity provider will the notebooks use?
#
# Nothing to set up: by default everything runs against a local Pocket ID stand-in inside the kernel.
# If you run your own Pocket ID, set `POCKET_ID_ENDPOINT`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET` and
# `OIDC_REDIRECT_URI` (and `POCKET_ID_API_KEY` for admin calls) before starting JupyterLab.

# %%
print(describe_provider())

# %% [markdown]
# ## Win on day one: the whole login in five calls
#
# Before any theory, the login of the diagram above, done for real. We start the local Pocket ID stand-in, let it
# create a demo user and register a demo app, and sign the user in. There is no browser here, so instead of a
# passkey the sign-in uses a one-time login code from Pocket ID's admin API, the same way one automates a real
# Pocket ID. (This cell group always uses the stand-in; notebook 05 shows the same calls against your own.)
#
# The stand-in's clock is pinned to `NOW` (1 January 2026), its randomness seeded and its signing key a published
# demo key, so this page prints the same thing on every run.

# %%
NOW = 1_767_225_600
idp = LocalPocketId(clock=lambda: NOW, random_bytes=random.Random(0).randbytes, key=demo_key()).start()
demo = idp.seed_demo()

# %% [markdown]
# The app's side: a client for the demo app, one login attempt (with `state`, `nonce` and PKCE), and the sign-in,
# which follows the redirects, redeems the code, verifies the ID token and fetches the user's profile.

# %%
client = PocketIdClient(idp.url, demo.client_id, demo.client_secret, "http://localhost:8000/auth/callback",
                        api_key=idp.api_key, clock=lambda: NOW, random_bytes=random.Random(1).randbytes)
attempt = client.start_login()
result = client.sign_in_headless(attempt, demo.user["id"])

# %%
print(result.describe())

# %% [markdown]
# That is a verified OpenID Connect login: the ID token's signature, issuer, audience, expiry and nonce all
# checked. Notebook 05 takes it apart one step at a time. We stop the stand-in, as every notebook stops what it
# started:

# %%
idp.stop()

# %% [markdown]
# ## The map of the series
#
# | # | Notebook | What you do there |
# |---|----------|-------------------|
# | 00 | [Start here](00-start-here.ipynb) | the picture, the login diagram, this map |
# | 01 | [Anatomy of a JWT](01-anatomy-of-a-jwt.ipynb) | build the article's token byte for byte with the standard library |
# | 02 | [Verifying a JWT](02-verifying-a-jwt.ipynb) | the checks in order, a frozen clock, `iss` and `aud`, the debugger widget, PyJWT side by side |
# | 03 | [Breaking JWTs](03-breaking-jwts.ipynb) | an attack lab: forge eleven kinds of bad token and watch each one refused |
# | 04 | [Keys and JWKS](04-keys-and-jwks.ipynb) | RS256, ES256, EdDSA; JWK, JWKS, thumbprints; key rotation with a JWKS cache |
# | 05 | [The Pocket ID login](05-pocket-id-login.ipynb) | the OpenID Connect login step by step: discovery, PKCE, state, nonce, `iss`, the code exchange, every ID token check, userinfo, refresh, logout |
# | 06 | [Securing an API](06-securing-an-api.ipynb) | the app's own session JWT in a cookie, route decorators, signed state, a safe `redirectTo` |
# | 07 | [JWTs vs sessions](07-jwts-vs-sessions.ipynb) | the same app with server-side sessions; revocation, size and cost compared |

# %% [markdown]
# ## Summary
#
# - Pocket ID *identifies* users once for every altx10 app; each app *authorizes* them with its own cookie.
# - The login is a handful of redirects through the browser plus two back-channel calls.
# - Five helper calls run it for real against the local stand-in and say who signed in.
# - Every notebook runs offline against a local stand-in, or against your own Pocket ID when configured.
#
# ## What's next
#
# Open [01: Anatomy of a JWT](01-anatomy-of-a-jwt.ipynb) and build your first token by hand.
