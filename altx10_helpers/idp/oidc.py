"""The OpenID Connect endpoints, with Pocket ID's paths and fosite's rules and error names.

Discovery, JWKS, ``/authorize``, ``/api/oidc/token``, ``/api/oidc/userinfo``, ``/api/oidc/end-session`` and
``/api/oidc/introspect``. DESIGN.md section 5 lists the behaviour matched here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import unquote_plus, urlencode

from flask import Blueprint, Response, redirect, request

from ..b64 import b64url_encode
from ..errors import Altx10Error, InvalidToken
from .pages import SCOPE_TEXT, page_params, render_form_post, render_page
from .provider import CODE_TTL, SUPPORTED_SCOPES, OAuthError, PageError, Provider, sha256_hex
from .redirects import match_redirect
from .store import AuthCode, Client, Consent, Grant, IssuedToken, RefreshToken
from .web import MAX_PARAM_LENGTH, form_params, json_response, provider, single_params, unique

__all__ = ["bp", "discovery_document"]

bp = Blueprint("oidc", __name__)

MIN_ENTROPY = 8
RESPONSE_MODES = ("query", "fragment", "form_post")
PROMPTS = ("none", "login", "consent", "select_account")
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_SAFE_HEADER_TEXT = re.compile(r'[^\x20-\x7e]|["\\]')


def discovery_document(p: Provider) -> dict[str, Any]:
    """The discovery JSON: browser endpoints on ``APP_URL``, back-channel ones on ``INTERNAL_APP_URL``."""
    app, internal = p.app_url, p.internal_app_url
    return {
        "authorization_endpoint": f"{app}/authorize",
        "authorization_response_iss_parameter_supported": True,
        "claims_supported": ["sub", "given_name", "family_name", "name", "display_name", "email",
                             "email_verified", "preferred_username", "picture", "groups", "auth_time", "amr"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "end_session_endpoint": f"{app}/api/oidc/end-session",
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "id_token_signing_alg_values_supported": [p.key.alg],
        "introspection_endpoint": f"{internal}/api/oidc/introspect",
        "issuer": p.issuer,
        "jwks_uri": f"{internal}/.well-known/jwks.json",
        "prompt_values_supported": list(PROMPTS),
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "response_modes_supported": list(RESPONSE_MODES),
        "response_types_supported": ["code"],
        "scopes_supported": list(SUPPORTED_SCOPES),
        "subject_types_supported": ["public"],
        "token_endpoint": f"{internal}/api/oidc/token",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "userinfo_endpoint": f"{internal}/api/oidc/userinfo",
    }


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery() -> Response:
    return json_response(discovery_document(provider()))


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    return json_response({"keys": [provider().key.public_jwk()]})


# -- /authorize ---------------------------------------------------------------------------------------------


def _redirect_with(uri: str, mode: str, params: dict[str, str]) -> Response:
    """The authorization response, in the requested response mode (parameters sorted, as Go encodes them)."""
    items = sorted((k, v) for k, v in params.items() if v is not None)
    if mode == "form_post":
        return render_form_post(uri, items)
    if mode == "fragment":
        location = f"{uri}#{urlencode(items)}"
    else:
        location = f"{uri}{'&' if '?' in uri else '?'}{urlencode(items)}"
    response = redirect(location, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


class _AuthorizeFailure(Exception):
    """An error that goes back to the client's redirect URI (it is valid by now)."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


def _client_and_redirect(p: Provider, raw: Any) -> tuple[Client, str, bool]:
    """Steps that must pass before any error may be sent to the redirect URI; failures show the error page."""
    client_ids = raw.getlist("client_id")
    if len(client_ids) != 1 or not client_ids[0]:
        raise PageError("invalid_request", "The client_id parameter is missing or was sent more than once.")
    client = p.store.get(Client, client_ids[0]) if len(client_ids[0]) <= 128 else None
    if client is None:
        raise PageError("invalid_client", "The client_id is not registered with this provider.")
    uris = raw.getlist("redirect_uri")
    if len(uris) > 1:
        raise PageError("invalid_request", "The redirect_uri parameter was sent more than once.")
    if uris:
        if not match_redirect(client.callback_urls, uris[0]):
            raise PageError("invalid_request", "The redirect_uri is not registered for this client.")
        return client, uris[0], True
    fixed = [u for u in client.callback_urls if "*" not in u]
    if len(client.callback_urls) == 1 and fixed:
        return client, fixed[0], False
    raise PageError("invalid_request", "The redirect_uri parameter is required for this client.")


def _check_pkce(client: Client, params: dict[str, str]) -> tuple[str | None, str | None]:
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if challenge is None:
        if method is not None:
            raise _AuthorizeFailure("invalid_request", "code_challenge_method was sent without code_challenge.")
        if client.is_public or client.pkce_enabled:
            raise _AuthorizeFailure("invalid_request", "This client must use PKCE: code_challenge is required.")
        return None, None
    method = method or "plain"
    if method not in ("plain", "S256"):
        raise _AuthorizeFailure("invalid_request", "code_challenge_method must be plain or S256.")
    if not VERIFIER.fullmatch(challenge):
        raise _AuthorizeFailure("invalid_request", "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~].")
    return challenge, method


def _parse_request(client: Client, params: dict[str, str]) -> dict[str, Any]:
    """Validate the authorization request in fosite's order; the parsed values."""
    if "request" in params:
        raise _AuthorizeFailure("request_not_supported", "Request objects are not supported.")
    if "request_uri" in params:
        raise _AuthorizeFailure("request_uri_not_supported", "request_uri is not supported.")
    response_type = params.get("response_type")
    if not response_type:
        raise _AuthorizeFailure("invalid_request", "The response_type parameter is missing.")
    if response_type != "code":
        raise _AuthorizeFailure("unsupported_response_type", "Only the response type 'code' is supported.")
    state = params.get("state", "")
    if len(state) < MIN_ENTROPY:
        raise _AuthorizeFailure("invalid_state", "The state is missing or has fewer than 8 characters and is "
                                "therefore considered too weak.")
    requested = params.get("scope", "").split(" ")
    if "openid" not in requested:
        raise _AuthorizeFailure("invalid_scope", "The openid scope is required.")
    scopes = unique(s for s in requested if s in SUPPORTED_SCOPES)
    nonce = params.get("nonce") or None
    if nonce is not None and len(nonce) < MIN_ENTROPY:
        raise _AuthorizeFailure("insufficient_entropy", "The nonce has fewer than 8 characters and is therefore "
                                "considered too weak.")
    challenge, method = _check_pkce(client, params)
    prompts = [v for v in params.get("prompt", "").split(" ") if v]
    if any(v not in PROMPTS for v in prompts) or ("none" in prompts and len(prompts) > 1):
        raise _AuthorizeFailure("invalid_request", "The prompt parameter is invalid.")
    max_age = params.get("max_age")
    if max_age is not None and not (max_age.isascii() and max_age.isdigit() and len(max_age) <= 10):
        raise _AuthorizeFailure("invalid_request", "max_age must be a non-negative whole number of seconds.")
    return {"state": state, "scopes": scopes, "nonce": nonce, "challenge": challenge, "method": method,
            "prompts": prompts, "max_age": int(max_age) if max_age is not None else None}


def _login_redirect(p: Provider, params: dict[str, str], prompts: list[str]) -> Response:
    """Send the browser to sign in, then back here (without ``prompt=login``, or it would loop)."""
    again = {k: v for k, v in params.items() if k not in ("consent", "csrf_token")}
    rest = [v for v in prompts if v != "login"]
    if rest:
        again["prompt"] = " ".join(rest)
    else:
        again.pop("prompt", None)
    back = "/authorize?" + urlencode(again)
    return redirect(f"{p.app_url}/login?{urlencode({'redirect': back})}", code=302)


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> Response:
    p = provider()
    raw = request.form if request.method == "POST" else request.args
    client, redirect_uri, uri_sent = _client_and_redirect(p, raw)
    modes = raw.getlist("response_mode")
    mode = modes[0] if len(modes) == 1 and modes[0] in RESPONSE_MODES else "query"
    states = raw.getlist("state")
    echo_state = states[0] if len(states) == 1 and 0 < len(states[0]) <= MAX_PARAM_LENGTH else None

    def fail(error: str, description: str) -> Response:
        return _redirect_with(redirect_uri, mode, {"error": error, "error_description": description,
                                                   "iss": p.issuer, "state": echo_state})

    try:
        if len(modes) > 1 or (modes and modes[0] not in RESPONSE_MODES):
            raise _AuthorizeFailure("invalid_request", "response_mode must be query, fragment or form_post.")
        try:
            params = single_params(raw)
        except OAuthError as exc:
            raise _AuthorizeFailure(exc.error, exc.description) from None
        req = _parse_request(client, params)
        signed_in = p.session_for(request.cookies.get(p.cookie_name))
        now = p.clock()
        too_old = signed_in is not None and req["max_age"] is not None and \
            now - signed_in[0].auth_time > req["max_age"]
        if signed_in is None or "login" in req["prompts"] or too_old:
            if "none" in req["prompts"]:
                raise _AuthorizeFailure("login_required", "The user is not signed in.")
            return _login_redirect(p, params, req["prompts"])
        session, user = signed_in
        consent_id = f"{user.id}|{client.id}"
        if "consent" in params:
            if not hmac.compare_digest(params.get("csrf_token", "").encode(), session.csrf.encode()):
                raise PageError("invalid_request", "The consent form expired or was not sent by this page.")
            if params["consent"] != "allow":
                raise _AuthorizeFailure("access_denied", "The user denied the request.")
            known = p.store.get(Consent, consent_id)
            p.store.put(Consent(consent_id, unique([*(known.scopes if known else []), *req["scopes"]])))
        elif not client.skip_consent:
            known = p.store.get(Consent, consent_id)
            if "consent" in req["prompts"] or known is None or not set(req["scopes"]) <= set(known.scopes):
                if "none" in req["prompts"]:
                    raise _AuthorizeFailure("consent_required", "The user has not consented to this client.")
                shown = [(k, v) for k, v in params.items() if k not in ("consent", "csrf_token")]
                return render_page("consent.html", title="Authorize", app_url=p.app_url, client_name=client.name,
                                   user_name=user.display_name, scopes=req["scopes"], scope_text=SCOPE_TEXT,
                                   params=shown, csrf=session.csrf)
    except _AuthorizeFailure as exc:
        return fail(exc.error, exc.description)
    code = p.random_string(32)
    p.store.put(AuthCode(sha256_hex(code), client.id, user.id, req["scopes"], redirect_uri, uri_sent, req["nonce"],
                         req["challenge"], req["method"], session.auth_time, session.amr, now + CODE_TTL))
    return _redirect_with(redirect_uri, mode, {"code": code, "iss": p.issuer, "scope": " ".join(req["scopes"]),
                                               "state": req["state"]})


# -- client authentication ----------------------------------------------------------------------------------

BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Pocket ID"'}


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_client", "Client authentication must use HTTP Basic or the request body.",
                         401, BASIC_CHALLENGE)
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise OAuthError("invalid_client", "The HTTP Basic credentials are not valid base64 of UTF-8.",
                         401, BASIC_CHALLENGE) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        raise OAuthError("invalid_client", "The HTTP Basic credentials must be client_id:client_secret.",
                         401, BASIC_CHALLENGE)
    return unquote_plus(client_id), unquote_plus(secret)


def authenticate_client(p: Provider, form: dict[str, str], *, allow_public: bool = True) -> Client:
    """client_secret_basic, client_secret_post, or (public clients) only ``client_id``."""
    header = request.headers.get("Authorization")
    if header is not None:
        client_id, secret = _basic_credentials(header)
        if "client_secret" in form:
            raise OAuthError("invalid_request", "Use only one client authentication method.")
        if form.get("client_id", client_id) != client_id:
            raise OAuthError("invalid_request", "client_id in the body differs from the one in HTTP Basic.")
        challenge: dict[str, str] | None = BASIC_CHALLENGE
    else:
        client_id, secret, challenge = form.get("client_id", ""), form.get("client_secret"), None
    client = p.store.get(Client, client_id) if 0 < len(client_id) <= 128 else None
    if client is None:
        raise OAuthError("invalid_client", "Client authentication failed (unknown client).", 401, challenge)
    if client.is_public:
        if not allow_public:
            raise OAuthError("invalid_client", "Public clients cannot use this endpoint.", 401, challenge)
        return client
    if not secret or not p.check_client_secret(client, secret):
        raise OAuthError("invalid_client", "Client authentication failed (wrong or missing secret).", 401,
                         challenge)
    return client


# -- /api/oidc/token ----------------------------------------------------------------------------------------


def _check_verifier(code: AuthCode, form: dict[str, str]) -> None:
    verifier = form.get("code_verifier")
    if code.challenge is None:
        if verifier:
            raise OAuthError("invalid_grant", "code_verifier was sent but the authorization used no PKCE.")
        return
    if not verifier or not VERIFIER.fullmatch(verifier):
        raise OAuthError("invalid_grant", "The PKCE code verifier must be 43 to 128 characters of [A-Za-z0-9-._~].")
    if code.challenge_method == "S256":
        computed = b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())
    else:
        computed = verifier
    if not hmac.compare_digest(computed.encode(), code.challenge.encode()):
        raise OAuthError("invalid_grant", "The PKCE code challenge did not match the code verifier.")


def _exchange_code(p: Provider, client: Client, form: dict[str, str]) -> dict[str, Any]:
    code_value = form.get("code")
    if not code_value:
        raise OAuthError("invalid_request", "The code parameter is missing.")
    with p.store.lock:
        code = p.store.get(AuthCode, sha256_hex(code_value))
        if code is None or code.client_id != client.id:
            raise OAuthError("invalid_grant", "The authorization code is invalid.")
        if code.used:
            if code.grant_id is not None:
                p.revoke_grant(code.grant_id)
            raise OAuthError("invalid_grant", "The authorization code has already been used; the tokens issued "
                             "for it are revoked.")
        if code.expires_at <= p.clock():
            raise OAuthError("invalid_grant", "The authorization code has expired.")
        sent_uri = form.get("redirect_uri")
        if (code.redirect_uri_sent or sent_uri is not None) and sent_uri != code.redirect_uri:
            raise OAuthError("invalid_grant", "The redirect_uri does not match the one of the authorization request.")
        _check_verifier(code, form)
        if p.active_user(code.user_id) is None:
            raise OAuthError("invalid_grant", "The user no longer exists or is disabled.")
        grant = Grant(p.new_uuid(), client.id, code.user_id, code.scopes, code.auth_time, code.amr, p.clock())
        code.used, code.grant_id = True, grant.id
        p.store.put(grant)
        p.store.put(code)
    return p.issue_tokens(grant, client, code.scopes, code.nonce)


def _refresh(p: Provider, client: Client, form: dict[str, str]) -> dict[str, Any]:
    token_value = form.get("refresh_token")
    if not token_value:
        raise OAuthError("invalid_request", "The refresh_token parameter is missing.")
    with p.store.lock:
        token = p.store.get(RefreshToken, sha256_hex(token_value))
        if token is None or token.client_id != client.id:
            raise OAuthError("invalid_grant", "The refresh token is invalid.")
        grant = p.store.get(Grant, token.grant_id)
        if grant is None or grant.revoked:
            raise OAuthError("invalid_grant", "The refresh token was revoked.")
        if token.used:
            p.revoke_grant(grant.id)
            raise OAuthError("invalid_grant", "The refresh token was already used; the whole grant is revoked.")
        if token.expires_at <= p.clock():
            raise OAuthError("invalid_grant", "The refresh token has expired.")
        if p.active_user(grant.user_id) is None:
            raise OAuthError("invalid_grant", "The user no longer exists or is disabled.")
        scopes = token.scopes
        if "scope" in form:
            asked = unique(form["scope"].split(" "))
            if not set(asked) <= set(token.scopes) or "openid" not in asked:
                raise OAuthError("invalid_scope", "The requested scope exceeds the granted scope.")
            scopes = [s for s in token.scopes if s in asked]
        token.used = True
        p.store.put(token)
    return p.issue_tokens(grant, client, scopes, None)


@bp.post("/api/oidc/token")
def token() -> Response:
    p = provider()
    try:
        form = form_params()
        client = authenticate_client(p, form)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "The grant_type parameter is missing.")
        if grant_type == "authorization_code":
            body = _exchange_code(p, client, form)
        elif grant_type == "refresh_token":
            body = _refresh(p, client, form)
        else:
            raise OAuthError("unsupported_grant_type", "Only authorization_code and refresh_token are supported.")
    except OAuthError as exc:
        exc.headers = {**NO_STORE, **exc.headers}
        raise
    return json_response(body, headers=NO_STORE)


# -- /api/oidc/userinfo -------------------------------------------------------------------------------------


def _bearer_error(description: str) -> OAuthError:
    safe = _SAFE_HEADER_TEXT.sub("", description)[:200]
    return OAuthError("invalid_token", description, 401,
                      {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{safe}"'})


@bp.route("/api/oidc/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    p = provider()
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _bearer_error("The request has no Bearer access token.")
    try:
        record, user, _ = p.check_access_token(value.strip())
    except Altx10Error as exc:
        raise _bearer_error(f"The access token is invalid: {exc}") from None
    return json_response(p.user_claims(user, record.scopes), headers={"Cache-Control": "no-store"})


# -- /api/oidc/introspect -----------------------------------------------------------------------------------


@bp.post("/api/oidc/introspect")
def introspect() -> Response:
    p = provider()
    form = form_params()
    client = authenticate_client(p, form, allow_public=False)
    value = form.get("token")
    if not value:
        raise OAuthError("invalid_request", "The token parameter is missing.")
    try:
        record, user, claims = p.check_access_token(value)
        if record.client_id == client.id:
            return json_response({"active": True, "token_type": "access_token", "scope": " ".join(record.scopes),
                                  "exp": claims["exp"], "iat": claims["iat"], "sub": user.id,
                                  "aud": claims["aud"], "iss": p.issuer, "jti": record.id},
                                 headers={"Cache-Control": "no-store"})
    except Altx10Error:
        pass
    refresh = p.store.get(RefreshToken, sha256_hex(value))
    grant = p.store.get(Grant, refresh.grant_id) if refresh is not None else None
    if refresh is not None and grant is not None and refresh.client_id == client.id and not refresh.used \
            and not grant.revoked and refresh.expires_at > p.clock() and p.active_user(grant.user_id) is not None:
        return json_response({"active": True, "token_type": "refresh_token", "scope": " ".join(refresh.scopes),
                              "exp": int(refresh.expires_at), "sub": grant.user_id, "aud": [client.id],
                              "iss": p.issuer}, headers={"Cache-Control": "no-store"})
    return json_response({"active": False}, headers={"Cache-Control": "no-store"})


# -- /api/oidc/end-session ----------------------------------------------------------------------------------


def _hint_claims(p: Provider, hint: str) -> dict[str, Any]:
    """An ID token of ours, expired or not; anything else (an access token included) is refused."""
    try:
        claims = p.key.verify(hint, typ="JWT")
    except (Altx10Error, InvalidToken):
        raise PageError("invalid_request", "The id_token_hint is not a valid ID token from this provider.") from None
    aud = claims.get("aud")
    if claims.get("type") != "id-token" or claims.get("iss") != p.issuer or not isinstance(aud, list) or not aud:
        raise PageError("invalid_request", "The id_token_hint is not an ID token from this provider.")
    return claims


@bp.route("/api/oidc/end-session", methods=["GET", "POST"])
def end_session() -> Response:
    p = provider()
    params = page_params(request.form if request.method == "POST" else request.args)
    claims = _hint_claims(p, params["id_token_hint"]) if params.get("id_token_hint") else None
    client: Client | None = None
    if params.get("client_id"):
        client = p.store.get(Client, params["client_id"])
        if client is None:
            raise PageError("invalid_client", "The client_id is not registered with this provider.")
        if claims is not None and client.id not in claims["aud"]:
            raise PageError("invalid_request", "The id_token_hint was not issued to this client_id.")
    elif claims is not None and isinstance(claims["aud"][0], str):
        client = p.store.get(Client, claims["aud"][0])
    target = params.get("post_logout_redirect_uri")
    if target is not None:
        if client is None:
            raise PageError("invalid_request", "post_logout_redirect_uri needs a client_id or an id_token_hint.")
        if not match_redirect(client.logout_callback_urls, target):
            raise PageError("invalid_request", "The post_logout_redirect_uri is not registered for this client.")
    if claims is not None and isinstance(claims.get("jti"), str):
        record = p.store.get(IssuedToken, claims["jti"])
        if record is not None:
            p.revoke_grant(record.grant_id)
    p.end_session(request.cookies.get(p.cookie_name))
    if target is not None:
        state = params.get("state")
        response = redirect(target + (("&" if "?" in target else "?") + urlencode({"state": state}) if state else ""),
                            code=302)
    else:
        response = render_page("signed_out.html", title="Signed out")
    response.delete_cookie(p.cookie_name, path="/", secure=True, httponly=True, samesite="Lax")
    return response
