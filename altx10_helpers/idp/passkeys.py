"""Passkeys (WebAuthn), as Pocket ID signs in: register one while signed in, then sign in with it.

The ceremonies are verified with the maintained ``webauthn`` library (py_webauthn); this module only keeps the
challenge of each ceremony (one use, five minutes, tied to a cookie) and the registered credentials. The
relying party id and origin come from ``APP_URL``, the public address, exactly as Pocket ID derives them: a
passkey made at ``http://localhost:8888/...`` is bound to ``localhost``. Browsers refuse passkeys for an IP
address (``127.0.0.1``), so the endpoints say so instead of failing obscurely.

A passkey sign-in starts a session whose ID tokens carry ``amr: ["phr"]`` (phishing-resistant), where a
login code gives ``["otp"]``.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, redirect, request
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..b64 import b64url_decode, b64url_encode
from ..errors import Base64urlError
from .admin import user_dto
from .pages import page_params, render_page, safe_local_path, set_session_cookie
from .provider import OAuthError, Provider, sha256_hex
from .store import Passkey, PasskeyChallenge, User
from .web import json_object, json_response, provider

__all__ = ["CHALLENGE_COOKIE", "CHALLENGE_TTL", "bp", "relying_party"]

bp = Blueprint("passkeys", __name__)

CHALLENGE_COOKIE = "webauthn_session"
CHALLENGE_TTL = 5 * 60
#: COSE algorithms we accept: ES256, EdDSA, RS256 (what platform authenticators and security keys make).
ALGORITHMS = [-7, -8, -257]
_SCRIPT = (Path(__file__).parent / "passkeys.js").read_text(encoding="utf-8")


def relying_party(p: Provider) -> tuple[str, str]:
    """``(rp_id, origin)`` from ``APP_URL``; ``OAuthError`` when a browser could not use passkeys there."""
    parts = urlsplit(p.app_url)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host, f"{parts.scheme}://{parts.netloc}"
    raise OAuthError("passkeys_unavailable", f"Passkeys need a host name, and this Pocket ID is at the IP address "
                     f"{host}; open it as http://localhost:... (or set APP_URL to a host name).")


def _signed_in(p: Provider) -> User:
    signed_in = p.session_for(request.cookies.get(p.cookie_name))
    if signed_in is None:
        raise OAuthError("unauthorized", "Sign in first to manage passkeys.", 401)
    return signed_in[1]


def _start(p: Provider, kind: str, user_id: str | None, options: Any) -> Response:
    """Answer the ceremony's options and remember its challenge under a fresh cookie."""
    cookie = b64url_encode(p.random_bytes(32))
    p.store.put(PasskeyChallenge(sha256_hex(cookie), kind, b64url_encode(options.challenge), user_id,
                                 p.clock() + CHALLENGE_TTL))
    response = Response(options_to_json(options), mimetype="application/json", headers={"Cache-Control": "no-store"})
    response.set_cookie(CHALLENGE_COOKIE, cookie, max_age=CHALLENGE_TTL, path="/", secure=True, httponly=True,
                        samesite="Strict")
    return response


def _take_challenge(p: Provider, kind: str) -> PasskeyChallenge:
    """The ceremony this browser started (used up now, whatever happens next)."""
    cookie = request.cookies.get(CHALLENGE_COOKIE, "")
    with p.store.lock:
        record = p.store.get(PasskeyChallenge, sha256_hex(cookie)) if 0 < len(cookie) <= 100 else None
        if record is not None:
            p.store.delete(PasskeyChallenge, record.id)
    if record is None or record.kind != kind or record.expires_at <= p.clock():
        raise OAuthError("invalid_request", "No passkey ceremony is in progress in this browser (or it expired); "
                         "start again.")
    return record


def _finish(response: Response) -> Response:
    response.delete_cookie(CHALLENGE_COOKIE, path="/", secure=True, httponly=True, samesite="Strict")
    return response


def passkey_dto(p: Provider, passkey: Passkey) -> dict[str, Any]:
    return {"id": passkey.id, "name": passkey.name, "createdAt": p.iso(passkey.created_at),
            "lastUsedAt": p.iso(passkey.last_used_at), "backupState": passkey.backed_up,
            "transports": list(passkey.transports)}


def _rejected(exc: Exception) -> OAuthError:
    return OAuthError("invalid_request", f"The passkey response was refused: {exc}")


# -- registration -------------------------------------------------------------------------------------------


@bp.get("/api/webauthn/register/start")
def register_start() -> Response:
    p = provider()
    user = _signed_in(p)
    rp_id, _ = relying_party(p)
    mine = [k for k in p.store.all(Passkey) if k.user_id == user.id]
    options = generate_registration_options(
        rp_id=rp_id, rp_name="Pocket ID", user_name=user.username, user_id=user.id.encode(),
        user_display_name=user.display_name, challenge=p.random_bytes(32), timeout=CHALLENGE_TTL * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=b64url_decode(k.id)) for k in mine],
        supported_pub_key_algs=ALGORITHMS,  # type: ignore[arg-type]
    )
    return _start(p, "register", user.id, options)


@bp.post("/api/webauthn/register/finish")
def register_finish() -> Response:
    p = provider()
    user = _signed_in(p)
    body = json_object()
    challenge = _take_challenge(p, "register")
    if challenge.user_id != user.id:
        raise OAuthError("invalid_request", "This passkey ceremony was started by another user.")
    rp_id, origin = relying_party(p)
    try:
        verified = verify_registration_response(
            credential=body.data, expected_challenge=b64url_decode(challenge.challenge), expected_rp_id=rp_id,
            expected_origin=origin, require_user_verification=True,
            supported_pub_key_algs=ALGORITHMS)  # type: ignore[arg-type]
    except (WebAuthnException, Base64urlError, ValueError, KeyError, TypeError) as exc:
        raise _rejected(exc) from None
    credential_id = b64url_encode(verified.credential_id)
    with p.store.lock:
        if p.store.get(Passkey, credential_id) is not None:
            raise OAuthError("invalid_request", "This passkey is already registered.")
        response = body.data.get("response")
        transports = response.get("transports") if isinstance(response, dict) else None
        count = sum(1 for k in p.store.all(Passkey) if k.user_id == user.id)
        passkey = Passkey(id=credential_id, user_id=user.id, public_key=b64url_encode(verified.credential_public_key),
                          sign_count=verified.sign_count, name=f"Passkey {count + 1}",
                          transports=[t for t in transports if isinstance(t, str)][:8]
                          if isinstance(transports, list) else [],
                          backed_up=bool(verified.credential_backed_up), created_at=p.clock())
        p.store.put(passkey)
    return _finish(json_response(passkey_dto(p, passkey), 201))


@bp.get("/api/webauthn/credentials")
def list_credentials() -> Response:
    p = provider()
    user = _signed_in(p)
    return json_response([passkey_dto(p, k) for k in p.store.all(Passkey) if k.user_id == user.id])


# -- sign-in ------------------------------------------------------------------------------------------------


@bp.get("/api/webauthn/login/start")
def login_start() -> Response:
    """Options for a discoverable-credential sign-in: the browser offers whichever passkey the user has."""
    p = provider()
    rp_id, _ = relying_party(p)
    options = generate_authentication_options(rp_id=rp_id, challenge=p.random_bytes(32),
                                              timeout=CHALLENGE_TTL * 1000,
                                              user_verification=UserVerificationRequirement.REQUIRED)
    return _start(p, "login", None, options)


@bp.post("/api/webauthn/login/finish")
def login_finish() -> Response:
    p = provider()
    body = json_object()
    challenge = _take_challenge(p, "login")
    rp_id, origin = relying_party(p)
    raw_id = body.data.get("rawId", body.data.get("id"))
    passkey = p.store.get(Passkey, raw_id) if isinstance(raw_id, str) and 0 < len(raw_id) <= 1400 else None
    if passkey is None:
        raise OAuthError("invalid_request", "This passkey is not registered with this Pocket ID.")
    try:
        verified = verify_authentication_response(
            credential=body.data, expected_challenge=b64url_decode(challenge.challenge), expected_rp_id=rp_id,
            expected_origin=origin, credential_public_key=b64url_decode(passkey.public_key),
            credential_current_sign_count=passkey.sign_count, require_user_verification=True)
        response = body.data["response"]
        handle = response.get("userHandle") if isinstance(response, dict) else None
        if handle and b64url_decode(handle) != passkey.user_id.encode():
            raise ValueError("the user handle does not belong to this passkey")
    except (WebAuthnException, Base64urlError, ValueError, KeyError, TypeError) as exc:
        raise _rejected(exc) from None
    user = p.active_user(passkey.user_id)
    if user is None:
        raise OAuthError("invalid_request", "The user of this passkey no longer exists or is disabled.")
    with p.store.lock:
        passkey.sign_count = verified.new_sign_count
        passkey.last_used_at = p.clock()
        passkey.backed_up = bool(verified.credential_backed_up)
        p.store.put(passkey)
    answer = _finish(json_response(user_dto(p, user)))
    set_session_cookie(answer, p, p.create_session(user, ["phr"]))
    return answer


# -- pages --------------------------------------------------------------------------------------------------


@bp.get("/static/passkeys.js")
def script() -> Response:
    return Response(_SCRIPT, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


@bp.get("/settings/passkeys")
def passkeys_page() -> Response:
    """Pocket ID's account page, reduced to passkeys: list them, add one, continue or sign out."""
    p = provider()
    params = page_params(request.args)
    next_path = safe_local_path(params.get("redirect")) if params.get("redirect") else ""
    signed_in = p.session_for(request.cookies.get(p.cookie_name))
    if signed_in is None:
        back = "/settings/passkeys" + (f"?{urlencode({'redirect': next_path})}" if next_path else "")
        return redirect(f"{p.app_url}/login?{urlencode({'redirect': back})}", code=302)
    user = signed_in[1]
    mine = [passkey_dto(p, k) for k in p.store.all(Passkey) if k.user_id == user.id]
    return render_page("passkeys.html", title="Passkeys", app_url=p.app_url, user_name=user.display_name,
                       passkeys=mine, next_path=next_path)
