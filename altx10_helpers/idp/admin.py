"""Pocket ID's admin API (``X-API-Key``), its one-time access tokens and sign-up, with the same paths and JSON.

A script written for a real Pocket ID (create a user, a group, a client and its secret, mint a login code)
works unchanged against the stand-in.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from functools import wraps
from html import escape
from typing import Any, TypeVar

from flask import Blueprint, Response, redirect, request

from .pages import page_params, render_page, set_session_cookie
from .provider import DEFAULT_ACCESS_TOKEN_MINUTES, DEFAULT_REFRESH_TOKEN_MINUTES, OAuthError, PageError, Provider
from .redirects import is_acceptable_redirect
from .store import Client, ClientSecret, Group, SignupToken, User
from .web import Body, json_array, json_object, json_response, provider, unique

__all__ = ["bp", "client_dto", "group_dto", "parse_ttl", "user_dto"]

bp = Blueprint("admin", __name__)

F = TypeVar("F", bound=Callable[..., Response])

USERNAME = r"[a-zA-Z0-9][a-zA-Z0-9_.@-]*"
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
CLIENT_ID = r"[a-zA-Z0-9._-]+"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PRINTABLE_ASCII = r"[\x21-\x7e]+"
RESERVED_CLAIMS = frozenset({
    "given_name", "family_name", "name", "email", "preferred_username", "groups", "sub", "iss", "aud", "exp",
    "iat", "auth_time", "nonce", "acr", "amr", "azp", "nbf", "jti", "picture", "email_verified", "display_name",
    "type", "at_hash", "scope", "scp", "client_id", "sid",
})
MAX_TTL = 31 * 24 * 3600
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def not_found(what: str) -> OAuthError:
    return OAuthError("not_found", f"{what} not found", 404)


def admin_required(view: F) -> F:
    """Pocket ID's static API key: header ``X-API-Key``, compared in constant time."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        given = request.headers.get("X-API-Key")
        if not given:
            raise OAuthError("unauthorized", "No API Key Provided", 401)
        if not hmac.compare_digest(given.encode("utf-8", "replace"), provider().api_key.encode()):
            raise OAuthError("unauthorized", "Invalid Api Key", 401)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def parse_ttl(value: Any, default: int = 15 * 60) -> int:
    """A TTL as Pocket ID takes it: a Go duration string (``"15m"``, ``"1h30m"``) or whole seconds."""
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and len(value) <= 32 and re.fullmatch(rf"(?:{_DURATION_PART.pattern})+", value):
        seconds = int(sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(value)))
    else:
        raise OAuthError("invalid_request", 'ttl must be a duration like "15m" or "1h", or whole seconds')
    if not 1 <= seconds <= MAX_TTL:
        raise OAuthError("invalid_request", "ttl must be between 1 second and 31 days")
    return seconds


def _page(items: list[dict[str, Any]]) -> Response:
    """Pocket ID's paginated list answer (``pagination[page]``, ``pagination[limit]``)."""
    try:
        page = int(request.args.get("pagination[page]", "1"))
        limit = int(request.args.get("pagination[limit]", "20"))
    except ValueError:
        raise OAuthError("invalid_request", "pagination values must be whole numbers") from None
    if page < 1 or not 1 <= limit <= 1000:
        raise OAuthError("invalid_request", "pagination[page] must be >= 1 and pagination[limit] 1 to 1000")
    total = len(items)
    return json_response({
        "data": items[(page - 1) * limit: page * limit],
        "pagination": {"totalPages": max(1, -(-total // limit)), "totalItems": total, "currentPage": page,
                       "itemsPerPage": limit},
    })


def _search(*fields: str) -> bool:
    term = request.args.get("search", "").lower()
    return not term or any(term in f.lower() for f in fields)


# -- DTOs ---------------------------------------------------------------------------------------------------


def group_dto(p: Provider, group: Group, *, with_users: bool = False) -> dict[str, Any]:
    dto: dict[str, Any] = {"id": group.id, "friendlyName": group.friendly_name, "name": group.name,
                           "customClaims": list(group.custom_claims), "ldapId": None,
                           "createdAt": p.iso(group.created_at)}
    if with_users:
        users = [p.store.get(User, uid) for uid in group.user_ids]
        dto["users"] = [user_dto(p, u) for u in users if u is not None]
    return dto


def user_dto(p: Provider, user: User) -> dict[str, Any]:
    return {
        "id": user.id, "username": user.username, "email": user.email, "emailVerified": user.email_verified,
        "firstName": user.first_name, "lastName": user.last_name, "displayName": user.display_name,
        "isAdmin": user.is_admin, "locale": user.locale, "customClaims": list(user.custom_claims),
        "userGroups": [group_dto(p, g) for g in p.groups_of(user.id)], "ldapId": None, "disabled": user.disabled,
    }


def client_dto(client: Client) -> dict[str, Any]:
    return {
        "id": client.id, "name": client.name, "hasLogo": False, "hasDarkLogo": False,
        "launchURL": client.launch_url, "requiresReauthentication": False,
        "callbackURLs": list(client.callback_urls), "logoutCallbackURLs": list(client.logout_callback_urls),
        "isPublic": client.is_public, "pkceEnabled": client.pkce_enabled, "skipConsent": client.skip_consent,
        "accessTokenDurationMinutes": client.access_token_minutes,
        "refreshTokenDurationMinutes": client.refresh_token_minutes, "credentials": {}, "allowedUserGroups": [],
    }


def secret_dto(p: Provider, secret: ClientSecret) -> dict[str, Any]:
    active = secret.expires_at is None or secret.expires_at > p.clock()
    return {"id": secret.id, "prefix": secret.prefix, "createdAt": p.iso(secret.created_at),
            "expiresAt": p.iso(secret.expires_at), "isActive": active}


def signup_dto(p: Provider, token: SignupToken) -> dict[str, Any]:
    return {"id": token.id, "token": token.token, "expiresAt": p.iso(token.expires_at),
            "usageLimit": token.usage_limit, "usageCount": token.usage_count,
            "userGroups": [group_dto(p, g) for g in p.store.all(Group) if g.id in token.user_group_ids],
            "createdAt": p.iso(token.created_at)}


# -- users --------------------------------------------------------------------------------------------------


def _user(p: Provider, user_id: str) -> User:
    user = p.store.get(User, user_id)
    if user is None:
        raise not_found("user")
    return user


def _groups(p: Provider, ids: list[str]) -> list[Group]:
    groups = []
    for gid in unique(ids):
        group = p.store.get(Group, gid)
        if group is None:
            raise OAuthError("invalid_request", f"unknown user group id {gid[:40]!r}")
        groups.append(group)
    return groups


def _set_membership(p: Provider, user_id: str, groups: list[Group]) -> None:
    wanted = {g.id for g in groups}
    with p.store.lock:
        for group in p.store.all(Group):
            member = user_id in group.user_ids
            if (group.id in wanted) != member:
                group.user_ids = [*group.user_ids, user_id] if group.id in wanted else \
                    [u for u in group.user_ids if u != user_id]
                p.store.put(group)


def create_user_from(p: Provider, body: Body, *, existing: User | None = None) -> User:
    """Validate a user body as Pocket ID does and store it (new, or replacing ``existing``)."""
    username = body.text("username", required=True, min_len=2, max_len=50, pattern=USERNAME)
    email = body.text("email", required=True, max_len=254, pattern=EMAIL)
    first = body.text("firstName", required=True, min_len=1, max_len=50)
    last = body.text("lastName", max_len=50)
    display = body.text("displayName", max_len=100) or f"{first} {last}".strip()
    base = existing or User(id="", username="", email="", email_verified=False, first_name="", last_name="",
                            display_name="", is_admin=False, disabled=False, locale=None, created_at=0.0)
    verified = body.flag("emailVerified", base.email_verified)
    is_admin = body.flag("isAdmin", base.is_admin)
    disabled = body.flag("disabled", base.disabled)
    locale = body.optional_text("locale", max_len=20) or base.locale
    new_id = None if existing is not None else body.text("id", max_len=36, pattern=UUID)
    with p.store.lock:
        for other in p.store.all(User):
            if existing is not None and other.id == existing.id:
                continue
            if other.username.lower() == username.lower():
                raise OAuthError("invalid_request", "username is already in use")
            if other.email.lower() == email.lower():
                raise OAuthError("invalid_request", "email is already in use")
        if existing is None:
            if new_id and p.store.get(User, new_id) is not None:
                raise OAuthError("invalid_request", "id is already in use")
            user = User(id=new_id or p.new_uuid(), username=username, email=email, email_verified=verified,
                        first_name=first, last_name=last, display_name=display, is_admin=is_admin,
                        disabled=disabled, locale=locale, created_at=p.clock())
        else:
            user = existing
            user.username, user.email, user.first_name, user.last_name, user.display_name = \
                username, email, first, last, display
            user.email_verified, user.is_admin, user.disabled, user.locale = verified, is_admin, disabled, locale
        p.store.put(user)
    return user


@bp.get("/api/users")
@admin_required
def list_users() -> Response:
    p = provider()
    users = [u for u in p.store.all(User) if _search(u.username, u.email, u.first_name, u.last_name)]
    return _page([user_dto(p, u) for u in users])


@bp.post("/api/users")
@admin_required
def create_user() -> Response:
    p = provider()
    body = json_object()
    groups = _groups(p, body.strings("userGroupIds"))
    user = create_user_from(p, body)
    _set_membership(p, user.id, groups)
    return json_response(user_dto(p, user), 201)


@bp.get("/api/users/me")
def current_user() -> Response:
    p = provider()
    signed_in = p.session_for(request.cookies.get(p.cookie_name))
    if signed_in is None:
        raise OAuthError("unauthorized", "You are not signed in", 401)
    return json_response(user_dto(p, signed_in[1]))


@bp.get("/api/users/<user_id>")
@admin_required
def get_user(user_id: str) -> Response:
    p = provider()
    return json_response(user_dto(p, _user(p, user_id)))


@bp.put("/api/users/<user_id>")
@admin_required
def update_user(user_id: str) -> Response:
    p = provider()
    user = create_user_from(p, json_object(), existing=_user(p, user_id))
    return json_response(user_dto(p, user))


@bp.delete("/api/users/<user_id>")
@admin_required
def delete_user(user_id: str) -> Response:
    p = provider()
    _user(p, user_id)
    _set_membership(p, user_id, [])
    p.store.delete(User, user_id)
    return Response(status=204)


@bp.get("/api/users/<user_id>/groups")
@admin_required
def user_groups(user_id: str) -> Response:
    p = provider()
    return json_response([group_dto(p, g) for g in p.groups_of(_user(p, user_id).id)])


@bp.put("/api/users/<user_id>/user-groups")
@admin_required
def set_user_groups(user_id: str) -> Response:
    p = provider()
    user = _user(p, user_id)
    body = json_object()
    if not isinstance(body.data.get("userGroupIds"), list):
        raise OAuthError("invalid_request", "userGroupIds is required")
    _set_membership(p, user.id, _groups(p, body.strings("userGroupIds")))
    return json_response(user_dto(p, user))


@bp.get("/api/users/<user_id>/profile-picture.png")
def profile_picture(user_id: str) -> Response:
    """Initials on a coloured square (SVG), where Pocket ID serves its generated picture."""
    p = provider()
    user = _user(p, user_id)
    initials = escape((user.first_name[:1] + user.last_name[:1]).upper() or "?")
    hue = int(user.id.replace("-", "")[:6], 16) % 360 if re.fullmatch(UUID, user.id) else 200
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128"><rect width="128" height="128" '
           f'fill="hsl({hue},55%,45%)"/><text x="64" y="80" font-size="48" text-anchor="middle" fill="#fff" '
           f'font-family="sans-serif">{initials}</text></svg>')
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=900"})


@bp.post("/api/users/<user_id>/one-time-access-token")
@admin_required
def create_one_time_token(user_id: str) -> Response:
    p = provider()
    user = _user(p, user_id)
    body = json_object(optional=True)
    return json_response({"token": p.create_login_code(user.id, parse_ttl(body.data.get("ttl")))}, 201)


@bp.post("/api/one-time-access-token/<token>")
def exchange_one_time_token(token: str) -> Response:
    """Sign in with a login code: the user, and the session cookie (as Pocket ID sets it)."""
    p = provider()
    user = p.redeem_login_code(token) if len(token) <= 100 else None
    if user is None:
        raise OAuthError("invalid_token", "token is invalid or expired")
    response = json_response(user_dto(p, user))
    set_session_cookie(response, p, p.create_session(user, ["otp"]))
    return response


# -- custom claims ------------------------------------------------------------------------------------------


def _claims_body() -> list[dict[str, str]]:
    items = json_array()
    if len(items) > 100:
        raise OAuthError("invalid_request", "at most 100 custom claims")
    claims: list[dict[str, str]] = []
    for item in items:
        body = Body(item if isinstance(item, dict) else {"key": 0})
        key = body.text("key", required=True, min_len=1, max_len=100, pattern=r"[A-Za-z0-9_:.\-]+")
        value = body.text("value", required=True, max_len=10_000)
        if key in RESERVED_CLAIMS:
            raise OAuthError("invalid_request", f"Claim {key} is reserved and can't be used")
        if any(c["key"] == key for c in claims):
            raise OAuthError("invalid_request", f"Claim {key} is already defined")
        claims.append({"key": key, "value": value})
    return claims


@bp.put("/api/custom-claims/user/<user_id>")
@admin_required
def set_user_claims(user_id: str) -> Response:
    p = provider()
    user = _user(p, user_id)
    user.custom_claims = _claims_body()
    p.store.put(user)
    return json_response(user.custom_claims)


@bp.put("/api/custom-claims/user-group/<group_id>")
@admin_required
def set_group_claims(group_id: str) -> Response:
    p = provider()
    group = _group(p, group_id)
    group.custom_claims = _claims_body()
    p.store.put(group)
    return json_response(group.custom_claims)


# -- user groups --------------------------------------------------------------------------------------------


def _group(p: Provider, group_id: str) -> Group:
    group = p.store.get(Group, group_id)
    if group is None:
        raise not_found("user group")
    return group


def _group_fields(p: Provider, body: Body, existing: Group | None) -> tuple[str, str]:
    friendly = body.text("friendlyName", required=True, min_len=2, max_len=50)
    name = body.text("name", required=True, min_len=2, max_len=255, pattern=r"[^\s]+")
    if any(g.name == name and g is not existing for g in p.store.all(Group)):
        raise OAuthError("invalid_request", "name is already in use")
    return friendly, name


@bp.get("/api/user-groups")
@admin_required
def list_groups() -> Response:
    p = provider()
    groups = [g for g in p.store.all(Group) if _search(g.name, g.friendly_name)]
    return _page([{**group_dto(p, g), "userCount": len(g.user_ids)} for g in groups])


@bp.post("/api/user-groups")
@admin_required
def create_group() -> Response:
    p = provider()
    body = json_object()
    with p.store.lock:
        friendly, name = _group_fields(p, body, None)
        group = Group(p.new_uuid(), friendly, name, p.clock())
        p.store.put(group)
    return json_response(group_dto(p, group), 201)


@bp.get("/api/user-groups/<group_id>")
@admin_required
def get_group(group_id: str) -> Response:
    p = provider()
    return json_response(group_dto(p, _group(p, group_id), with_users=True))


@bp.put("/api/user-groups/<group_id>")
@admin_required
def update_group(group_id: str) -> Response:
    p = provider()
    group = _group(p, group_id)
    body = json_object()
    with p.store.lock:
        group.friendly_name, group.name = _group_fields(p, body, group)
        p.store.put(group)
    return json_response(group_dto(p, group))


@bp.delete("/api/user-groups/<group_id>")
@admin_required
def delete_group(group_id: str) -> Response:
    p = provider()
    p.store.delete(Group, _group(p, group_id).id)
    return Response(status=204)


@bp.put("/api/user-groups/<group_id>/users")
@admin_required
def set_group_users(group_id: str) -> Response:
    p = provider()
    group = _group(p, group_id)
    body = json_object()
    if not isinstance(body.data.get("userIds"), list):
        raise OAuthError("invalid_request", "userIds is required")
    ids = unique(body.strings("userIds", max_items=10_000))
    for uid in ids:
        if p.store.get(User, uid) is None:
            raise OAuthError("invalid_request", f"unknown user id {uid[:40]!r}")
    group.user_ids = ids
    p.store.put(group)
    return json_response(group_dto(p, group, with_users=True))


# -- OIDC clients -------------------------------------------------------------------------------------------


def _client(p: Provider, client_id: str) -> Client:
    client = p.store.get(Client, client_id)
    if client is None:
        raise not_found("OIDC client")
    return client


def _callback_urls(body: Body, name: str) -> list[str]:
    urls = body.strings(name, max_items=100, max_len=1024)
    for url in urls:
        if url != "*" and not is_acceptable_redirect(url):
            raise OAuthError("invalid_request", f"{name} holds an invalid URL: {url[:80]!r}")
    return urls


def _client_from(p: Provider, body: Body, existing: Client | None) -> Client:
    fields = {
        "name": body.text("name", required=True, min_len=1, max_len=50),
        "callback_urls": _callback_urls(body, "callbackURLs"),
        "logout_callback_urls": _callback_urls(body, "logoutCallbackURLs"),
        "is_public": body.flag("isPublic"),
        "pkce_enabled": body.flag("pkceEnabled"),
        "skip_consent": body.flag("skipConsent"),
        "access_token_minutes": body.integer("accessTokenDurationMinutes", default=DEFAULT_ACCESS_TOKEN_MINUTES,
                                             minimum=1, maximum=24 * 60),
        "refresh_token_minutes": body.integer("refreshTokenDurationMinutes", default=DEFAULT_REFRESH_TOKEN_MINUTES,
                                              minimum=1, maximum=365 * 24 * 60),
        "launch_url": body.optional_text("launchURL", max_len=1024),
    }
    if existing is not None:
        for name, value in fields.items():
            setattr(existing, name, value)
        return existing
    client_id = body.text("id", min_len=2, max_len=128, pattern=CLIENT_ID) or p.new_uuid()
    if p.store.get(Client, client_id) is not None:
        raise OAuthError("invalid_request", "Client ID already in use")
    return Client(id=client_id, created_at=p.clock(), **fields)


@bp.get("/api/oidc/clients")
@admin_required
def list_clients() -> Response:
    p = provider()
    return _page([client_dto(c) for c in p.store.all(Client) if _search(c.name)])


@bp.post("/api/oidc/clients")
@admin_required
def create_client() -> Response:
    p = provider()
    body = json_object()
    with p.store.lock:
        client = _client_from(p, body, None)
        p.store.put(client)
    return json_response(client_dto(client), 201)


@bp.get("/api/oidc/clients/<client_id>")
@admin_required
def get_client(client_id: str) -> Response:
    return json_response(client_dto(_client(provider(), client_id)))


@bp.get("/api/oidc/clients/<client_id>/meta")
def client_meta(client_id: str) -> Response:
    client = _client(provider(), client_id)
    return json_response({"id": client.id, "name": client.name, "hasLogo": False, "hasDarkLogo": False,
                          "launchURL": client.launch_url, "requiresReauthentication": False})


@bp.put("/api/oidc/clients/<client_id>")
@admin_required
def update_client(client_id: str) -> Response:
    p = provider()
    client = _client(p, client_id)
    body = json_object()
    with p.store.lock:
        _client_from(p, body, client)
        p.store.put(client)
    return json_response(client_dto(client))


@bp.delete("/api/oidc/clients/<client_id>")
@admin_required
def delete_client(client_id: str) -> Response:
    p = provider()
    client = _client(p, client_id)
    for secret in p.store.all(ClientSecret):
        if secret.client_id == client.id:
            p.store.delete(ClientSecret, secret.id)
    p.store.delete(Client, client.id)
    return Response(status=204)


@bp.post("/api/oidc/clients/<client_id>/secrets")
@admin_required
def create_secret(client_id: str) -> Response:
    """A new secret; the answer is the only time its value is shown (only a salted hash is kept)."""
    p = provider()
    client = _client(p, client_id)
    body = json_object(optional=True)
    value = body.optional_text("secret", min_len=32, max_len=128, pattern=PRINTABLE_ASCII)
    if client.is_public:
        raise OAuthError("invalid_request", "public clients have no secret")
    record, value = p.new_client_secret(client, value)
    return json_response({**secret_dto(p, record), "secret": value}, 201)


@bp.get("/api/oidc/clients/<client_id>/secrets")
@admin_required
def list_secrets(client_id: str) -> Response:
    p = provider()
    client = _client(p, client_id)
    return json_response([secret_dto(p, s) for s in p.store.all(ClientSecret) if s.client_id == client.id])


@bp.delete("/api/oidc/clients/<client_id>/secrets/<secret_id>")
@admin_required
def delete_secret(client_id: str, secret_id: str) -> Response:
    p = provider()
    secret = p.store.get(ClientSecret, secret_id)
    if secret is None or secret.client_id != _client(p, client_id).id:
        raise not_found("client secret")
    p.store.delete(ClientSecret, secret.id)
    return Response(status=204)


# -- sign-up ------------------------------------------------------------------------------------------------


@bp.post("/api/signup-tokens")
@admin_required
def create_signup_token() -> Response:
    p = provider()
    body = json_object(optional=True)
    ttl = parse_ttl(body.data.get("ttl"), default=24 * 3600)
    limit = body.integer("usageLimit", default=1, minimum=1, maximum=100)
    groups = _groups(p, body.strings("userGroupIds"))
    token = SignupToken(p.new_uuid(), p.random_string(16), p.clock() + ttl, limit, 0, [g.id for g in groups],
                        p.clock())
    p.store.put(token)
    return json_response(signup_dto(p, token), 201)


@bp.get("/api/signup-tokens")
@admin_required
def list_signup_tokens() -> Response:
    p = provider()
    return _page([signup_dto(p, t) for t in p.store.all(SignupToken)])


@bp.delete("/api/signup-tokens/<token_id>")
@admin_required
def delete_signup_token(token_id: str) -> Response:
    p = provider()
    if p.store.get(SignupToken, token_id) is None:
        raise not_found("signup token")
    p.store.delete(SignupToken, token_id)
    return Response(status=204)


def _usable_signup_token(p: Provider, value: str) -> SignupToken | None:
    given = value.encode("utf-8", "replace")
    for token in p.store.all(SignupToken):
        if hmac.compare_digest(token.token.encode(), given):
            return token if token.expires_at > p.clock() and token.usage_count < token.usage_limit else None
    return None


def _sign_up(p: Provider, token_value: str, body: Body) -> User:
    """Use a sign-up token once: create the user (validated like the admin API) in the token's groups."""
    with p.store.lock:
        token = _usable_signup_token(p, token_value)
        if token is None:
            raise OAuthError("invalid_token", "token is invalid or expired")
        user = create_user_from(p, Body({k: body.data.get(k) for k in ("username", "email", "firstName",
                                                                           "lastName")}))
        _set_membership(p, user.id, _groups(p, [g for g in token.user_group_ids if p.store.get(Group, g)]))
        token.usage_count += 1
        p.store.put(token)
    return user


@bp.post("/api/signup")
def signup_api() -> Response:
    p = provider()
    body = json_object()
    user = _sign_up(p, body.text("token", required=True, max_len=100), body)
    response = json_response(user_dto(p, user), 201)
    set_session_cookie(response, p, p.create_session(user, ["otp"]))
    return response




@bp.get("/signup")
def signup_page() -> Response:
    p = provider()
    token = page_params(request.args).get("token", "")
    if _usable_signup_token(p, token) is None:
        raise PageError("invalid_token", "This sign-up link is invalid, expired or used up.")
    return render_page("signup.html", title="Sign up", app_url=p.app_url, token=token, form={}, message="")


@bp.post("/signup")
def signup_submit() -> Response:
    p = provider()
    params = page_params(request.form)
    token = params.get("token", "")
    data = {k: params.get(k) or None for k in ("username", "email", "firstName", "lastName")}
    try:
        user = _sign_up(p, token, Body(data))
    except OAuthError as exc:
        if exc.error == "invalid_token":
            raise PageError(exc.error, "This sign-up link is invalid, expired or used up.") from None
        return render_page("signup.html", 400, title="Sign up", app_url=p.app_url, token=token, form=params,
                           message=exc.description)
    response = redirect(p.app_url + "/settings/passkeys", code=303)  # Pocket ID asks a new user for a passkey
    set_session_cookie(response, p, p.create_session(user, ["otp"]))
    return response
