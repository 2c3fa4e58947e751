"""The Flask application factory: endpoints, and error handlers that never leak a traceback.

API paths (``/api/...``, ``/.well-known/...``) always answer errors as ``{"error", "error_description"}``
JSON; browser paths (``/authorize``, ``/login``, ``/lc/...``, ``/signup``, end-session) answer with the
HTML error page. An unexpected exception is logged and answered as a 500 of the same shape.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from . import admin, oidc, pages, passkeys
from .keys import PrivateKey
from .pages import render_error
from .provider import OAuthError, PageError, Provider
from .web import forwarded_base, json_response

__all__ = ["create_app"]

log = logging.getLogger(__name__)

#: Request bodies above this are refused with 413 before parsing.
MAX_BODY = 1024 * 1024


def _is_api_path(path: str) -> bool:
    return (path.startswith(("/api/", "/.well-known/")) and path != "/api/oidc/end-session") or path == "/healthz"


def _error_name(exc: HTTPException) -> str:
    if exc.code in (400, 405, 413, 414, 431):
        return "invalid_request"
    return re.sub(r"[^a-z0-9]+", "_", (exc.name or "error").lower()).strip("_")


def create_app(*, app_url: str | None = None, internal_app_url: str | None = None, api_key: str | None = None,
               key: PrivateKey | None = None, clock: Callable[[], float] | None = None,
               random_bytes: Callable[[int], bytes] | None = None, db_path: str | Path | None = None,
               provider: Provider | None = None) -> Flask:
    """A Flask app that behaves like Pocket ID on the wire; ``app.extensions["altx10_idp"]`` is its provider."""
    p = provider or Provider(app_url=app_url, internal_app_url=internal_app_url, api_key=api_key, key=key,
                             clock=clock, random_bytes=random_bytes, db_path=db_path)
    app = Flask("altx10_helpers.idp")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.extensions["altx10_idp"] = p
    app.register_blueprint(oidc.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(passkeys.bp)

    @app.before_request
    def adopt_public_address() -> None:
        if p.public_url_from_proxy:
            public = forwarded_base(request.headers, request.scheme)
            if public is not None:
                p.adopt_public_url(public)

    @app.errorhandler(OAuthError)
    def oauth_error(exc: OAuthError) -> Response:
        body = {"error": exc.error, "error_description": exc.description}
        if _is_api_path(request.path):
            return json_response(body, exc.status, exc.headers)
        return render_error(exc.error, exc.description, exc.status)

    @app.errorhandler(PageError)
    def page_error(exc: PageError) -> Response:
        if _is_api_path(request.path):
            return json_response({"error": exc.error, "error_description": exc.description}, exc.status)
        return render_error(exc.error, exc.description, exc.status)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        description = exc.description or exc.name
        headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else {}
        if _is_api_path(request.path):
            return json_response({"error": _error_name(exc), "error_description": description}, code, headers)
        response = render_error(exc.name, description, code)
        response.headers.update(headers)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unexpected error in the Pocket ID stand-in")
        if _is_api_path(request.path):
            return json_response({"error": "server_error", "error_description": "Internal error."}, 500)
        return render_error("server_error", "Internal error.", 500)

    return app
