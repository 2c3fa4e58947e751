"""The browser side: sign-in with a login code, consent, sign-up, the error page and ``form_post``.

Plain HTML, no JavaScript except the one-line auto-submit of ``response_mode=form_post`` (allowed by
its hash in the page's Content-Security-Policy). Links and form actions are absolute under ``APP_URL``,
so the pages also work behind a path prefix (``jupyter-server-proxy`` on Binder).
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from flask import Blueprint, Response, redirect, request
from jinja2 import DictLoader, Environment

from .provider import SESSION_TTL, OAuthError, PageError, Provider
from .web import provider, single_params

__all__ = ["bp", "page_params", "render_error", "render_form_post", "render_page", "safe_local_path",
           "set_session_cookie"]

bp = Blueprint("pages", __name__)

_AUTO_SUBMIT = "document.forms[0].submit();"
_AUTO_SUBMIT_HASH = base64.b64encode(hashlib.sha256(_AUTO_SUBMIT.encode()).digest()).decode()
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'"

SCOPE_TEXT = {
    "openid": "Know who you are (your user ID)",
    "profile": "See your name, username, picture and profile details",
    "email": "See your email address",
    "groups": "See the groups you belong to",
    "offline_access": "Stay signed in to the app (refresh tokens)",
}

_TEMPLATES = {
    "base.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · Pocket ID (local stand-in)</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f4f5;color:#18181b;margin:0}
main{max-width:28rem;margin:4rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin-top:0} .muted{color:#71717a;font-size:.9rem}
input[type=text],input[type=email]{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;margin:.3rem 0 1rem}
button{padding:.6rem 1.2rem;font-size:1rem;border-radius:8px;border:1px solid #18181b;background:#18181b;color:#fff}
button.secondary{background:#fff;color:#18181b} .error{color:#b91c1c} code{word-break:break-all}
</style></head>
<body><main>{% block body %}{% endblock %}
<p class="muted">Local Pocket ID stand-in for the altx10 notebooks, not a real Pocket ID.</p></main></body></html>""",
    "error.html": """{% extends "base.html" %}{% block body %}
<h1>Something went wrong</h1><p class="error"><strong>{{ error }}</strong></p><p>{{ description }}</p>
{% endblock %}""",
    "login.html": """{% extends "base.html" %}{% block body %}
<h1>Sign in</h1>
<p>Sign in with a <strong>login code</strong> (a one-time access token an admin created), or with a passkey
once you have added one, as on Pocket ID.</p>
{% if message %}<p class="error" role="alert">{{ message }}</p>{% endif %}
<form method="post" action="{{ app_url }}/login">
<label for="code">Login code</label>
<input type="text" id="code" name="code" value="{{ code }}" autocomplete="one-time-code" autofocus required>
<input type="hidden" name="redirect" value="{{ redirect_path }}">
<button type="submit">Sign in</button></form>
<div id="passkey" data-api="{{ app_url }}" data-mode="login" data-next="{{ redirect_path }}">
<p>Or, if you added a passkey:</p>
<button type="button" id="passkey-button" class="secondary">Sign in with a passkey</button>
<p id="passkey-status" class="muted" role="status"></p></div>
<script src="{{ app_url }}/static/passkeys.js"></script>
{% endblock %}""",
    "passkeys.html": """{% extends "base.html" %}{% block body %}
<h1>Passkeys</h1>
<p>Signed in as <strong>{{ user_name }}</strong>. A passkey signs you in without a code, and only on this
Pocket ID's address.</p>
<ul id="passkey-list">{% for k in passkeys %}<li>{{ k.name }} <span class="muted">added {{ k.createdAt }}</span></li>
{% else %}<li class="muted">No passkey yet.</li>{% endfor %}</ul>
<div id="passkey" data-api="{{ app_url }}" data-mode="register" data-next="{{ next_path }}">
<button type="button" id="passkey-button">Add a passkey</button>
<p id="passkey-status" class="muted" role="status"></p></div>
<p>{% if next_path %}<a id="continue" href="{{ app_url }}{{ next_path }}">Continue</a> · {% endif %}
<a id="sign-out" href="{{ app_url }}/api/oidc/end-session">Sign out</a></p>
<script src="{{ app_url }}/static/passkeys.js"></script>
{% endblock %}""",
    "consent.html": """{% extends "base.html" %}{% block body %}
<h1>Authorize {{ client_name }}</h1>
<p>Signed in as <strong>{{ user_name }}</strong>. <strong>{{ client_name }}</strong> wants to:</p>
<ul>{% for scope in scopes %}<li>{{ scope_text.get(scope, scope) }}</li>{% endfor %}</ul>
<form method="post" action="{{ app_url }}/authorize">
{% for name, value in params %}<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<button type="submit" name="consent" value="allow">Authorize</button>
<button type="submit" name="consent" value="deny" class="secondary">Cancel</button></form>
{% endblock %}""",
    "form_post.html": """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Submitting…</title></head>
<body><form method="post" action="{{ action }}">
{% for name, value in params %}<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
<noscript><button type="submit">Continue</button></noscript></form>
<script>{{ auto_submit }}</script></body></html>""",
    "home.html": """{% extends "base.html" %}{% block body %}
<h1>Pocket ID (local stand-in)</h1>
{% if user_name %}<p>Signed in as <strong>{{ user_name }}</strong>.
<a href="{{ app_url }}/settings/passkeys">Passkeys</a></p>
{% else %}<p>Not signed in. <a href="{{ app_url }}/login">Sign in with a login code</a>.</p>{% endif %}
<p>Issuer: <code>{{ app_url }}</code><br>
Discovery: <a href="{{ app_url }}/.well-known/openid-configuration">
<code>/.well-known/openid-configuration</code></a></p>
{% endblock %}""",
    "signed_out.html": """{% extends "base.html" %}{% block body %}
<h1>Signed out</h1><p>You are signed out of Pocket ID.</p>
{% endblock %}""",
    "signup.html": """{% extends "base.html" %}{% block body %}
<h1>Create your account</h1>
{% if message %}<p class="error" role="alert">{{ message }}</p>{% endif %}
<form method="post" action="{{ app_url }}/signup">
<input type="hidden" name="token" value="{{ token }}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{{ form.username }}" required>
<label for="email">Email</label>
<input type="email" id="email" name="email" value="{{ form.email }}" required>
<label for="firstName">First name</label>
<input type="text" id="firstName" name="firstName" value="{{ form.firstName }}" required>
<label for="lastName">Last name</label>
<input type="text" id="lastName" name="lastName" value="{{ form.lastName }}">
<button type="submit">Sign up</button></form>
{% endblock %}""",
}

_env = Environment(loader=DictLoader(_TEMPLATES), autoescape=True)
_PASSKEY_PAGES = frozenset({"login.html", "passkeys.html"})


def render_page(name: str, status: int = 200, *, script: bool = False, **context: Any) -> Response:
    """Render one of the pages with the security headers every page gets.

    ``script`` allows the one-line ``form_post`` auto-submit; the passkey pages load ``/static/passkeys.js``
    from this origin and call its API (``script-src 'self'; connect-src 'self'``).
    """
    html = _env.get_template(name).render(title=context.pop("title", "Pocket ID"), **context)
    if script:
        csp = CSP + f"; script-src 'sha256-{_AUTO_SUBMIT_HASH}'"
    elif name in _PASSKEY_PAGES:
        csp = CSP + "; script-src 'self'; connect-src 'self'"
    else:
        csp = CSP
    return Response(html, status=status, mimetype="text/html", headers={
        "Content-Security-Policy": csp, "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    })


def render_error(error: str, description: str, status: int = 400) -> Response:
    return render_page("error.html", status, title="Error", error=error, description=description)


def render_form_post(action: str, params: list[tuple[str, str]]) -> Response:
    return render_page("form_post.html", action=action, params=params, script=True, auto_submit=_AUTO_SUBMIT)


def safe_local_path(path: str | None) -> str:
    """A path on this server to continue to after sign-in: relative only, never another origin."""
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")) or len(path) > 8192:
        return "/"
    if re.search(r"[\x00-\x20\x7f\\]", path):
        return "/"
    return path


def set_session_cookie(response: Response, p: Provider, value: str) -> None:
    """Pocket ID's session cookie: ``Secure; HttpOnly; SameSite=Lax`` even on http."""
    response.set_cookie(p.cookie_name, value, max_age=SESSION_TTL, path="/", secure=True, httponly=True,
                        samesite="Lax")


def _login_page(p: Provider, *, code: str = "", redirect_path: str = "/", message: str = "",
                status: int = 200) -> Response:
    return render_page("login.html", status, title="Sign in", app_url=p.app_url, code=code,
                       redirect_path=safe_local_path(redirect_path), message=message)


def page_params(source: Any) -> dict[str, str]:
    try:
        return single_params(source, max_length=8192)
    except OAuthError as exc:
        raise PageError(exc.error, exc.description) from None


@bp.get("/")
def home() -> Response:
    p = provider()
    signed_in = p.session_for(request.cookies.get(p.cookie_name))
    return render_page("home.html", title="Home", app_url=p.app_url,
                       user_name=signed_in[1].display_name if signed_in else "")


@bp.get("/healthz")
def healthz() -> Response:
    return Response(status=204)


@bp.get("/login")
def login_form() -> Response:
    params = page_params(request.args)
    return _login_page(provider(), redirect_path=params.get("redirect", "/"))


@bp.get("/lc/<code>")
def login_code_page(code: str) -> Response:
    """Pocket ID's login-code link: the sign-in form, filled in (signing in stays a POST)."""
    params = page_params(request.args)
    return _login_page(provider(), code=code[:100], redirect_path=params.get("redirect", "/"))


@bp.post("/login")
def login_submit() -> Response:
    p = provider()
    params = page_params(request.form)
    code = params.get("code", "").strip()
    redirect_path = safe_local_path(params.get("redirect"))
    user = p.redeem_login_code(code) if 0 < len(code) <= 100 else None
    if user is None:
        return _login_page(p, code=code[:100], redirect_path=redirect_path, status=400,
                           message="That login code is invalid, expired or already used.")
    response = redirect(p.app_url + redirect_path, code=303)
    set_session_cookie(response, p, p.create_session(user, ["otp"]))
    return response
