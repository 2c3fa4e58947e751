"""Small request/response helpers shared by the stand-in's endpoints: strict parameter and JSON parsing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from flask import Response, current_app, request
from werkzeug.datastructures import MultiDict

from .provider import OAuthError, Provider

__all__ = [
    "Body",
    "form_params",
    "forwarded_base",
    "json_array",
    "json_object",
    "json_response",
    "provider",
    "single_params",
]

#: No single parameter of ours is longer; a longer one is refused instead of echoed around.
MAX_PARAM_LENGTH = 4096
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
_PREFIX = re.compile(r"(?:/[A-Za-z0-9._~%!$&'()*+,;=:@-]+){0,32}/?")


def forwarded_base(headers: Any, scheme: str = "http") -> str | None:
    """The public base URL a reverse proxy says it serves us under, or None when not behind one.

    ``jupyter-server-proxy`` forwards the browser's ``Host`` (and any ``X-Forwarded-Proto`` of the proxies in
    front of Jupyter, as on Binder) and adds ``X-Forwarded-Prefix: /user/<name>/proxy/<port>``. Values that
    are not a plain scheme, host and path are ignored rather than built into URLs.
    """
    prefix = headers.get("X-Forwarded-Prefix")
    if prefix is None:
        return None
    proto = (headers.get("X-Forwarded-Proto") or scheme).split(",")[0].strip().lower()
    host = (headers.get("X-Forwarded-Host") or headers.get("Host") or "").split(",")[0].strip()
    prefix = prefix.split(",")[0].strip()
    if proto not in ("http", "https") or not _HOST.fullmatch(host) or not _PREFIX.fullmatch(prefix):
        return None
    return f"{proto}://{host}{prefix.rstrip('/')}"


def provider() -> Provider:
    """The provider of the app handling this request."""
    return current_app.extensions["altx10_idp"]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Compact JSON in the key order we built (Pocket ID answers struct order, not sorted)."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return Response(text, status=status, headers=headers, mimetype="application/json")


def single_params(source: MultiDict[str, str], *, max_length: int = MAX_PARAM_LENGTH) -> dict[str, str]:
    """Parameters as a plain dict; a repeated or overlong parameter is an ``invalid_request`` (RFC 6749 3.1)."""
    out: dict[str, str] = {}
    for name in source:
        values = source.getlist(name)
        if len(values) > 1:
            raise OAuthError("invalid_request", f"The parameter {name[:40]!r} was sent more than once.")
        if len(values[0]) > max_length:
            raise OAuthError("invalid_request", f"The parameter {name[:40]!r} is too long.")
        out[name] = values[0]
    return out


def form_params() -> dict[str, str]:
    """The urlencoded body of a back-channel POST (the query string is ignored, as fosite does)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "The request body must be application/x-www-form-urlencoded.")
    return single_params(request.form)


def _json_body() -> Any:
    """The body parsed as JSON whatever its Content-Type, as Pocket ID's (gin's) JSON binding does."""
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise OAuthError("invalid_request", "The request body is not valid JSON.") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_object(*, optional: bool = False) -> Body:
    """The JSON object body (an empty body counts as ``{}`` when ``optional``)."""
    if optional and not request.get_data(cache=True):
        return Body({})
    value = _json_body()
    if not isinstance(value, dict):
        raise OAuthError("invalid_request", "The request body must be a JSON object.")
    return Body(value)


def json_array() -> list[Any]:
    value = _json_body()
    if not isinstance(value, list):
        raise OAuthError("invalid_request", "The request body must be a JSON array.")
    return value


class Body:
    """Typed access to a JSON object: a wrong type or a value out of range is a 400, never a crash.

    Unknown fields are ignored and ``null`` counts as absent, as Go's JSON binding does.
    """

    def __init__(self, data: dict[str, Any]):
        self.data = data

    def _get(self, name: str) -> Any:
        return self.data.get(name)

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def text(self, name: str, *, required: bool = False, default: str = "", min_len: int = 0, max_len: int = 255,
             pattern: str | None = None) -> str:
        value = self._get(name)
        if value is None:
            if required:
                raise OAuthError("invalid_request", f"{name} is required")
            return default
        if not isinstance(value, str):
            raise OAuthError("invalid_request", f"{name} must be a string")
        if not min_len <= len(value) <= max_len:
            raise OAuthError("invalid_request", f"{name} must be {min_len} to {max_len} characters long")
        if "\x00" in value or (pattern is not None and re.fullmatch(pattern, value) is None):
            raise OAuthError("invalid_request", f"{name} has an invalid format")
        return value

    def optional_text(self, name: str, **kwargs: Any) -> str | None:
        return self.text(name, **kwargs) if self.has(name) else None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self._get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise OAuthError("invalid_request", f"{name} must be true or false")
        return value

    def integer(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        value = self._get(name)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
            raise OAuthError("invalid_request", f"{name} must be a whole number from {minimum} to {maximum}")
        return value

    def strings(self, name: str, *, max_items: int = 100, max_len: int = 1024) -> list[str]:
        value = self._get(name)
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > max_items:
            raise OAuthError("invalid_request", f"{name} must be a list of at most {max_items} strings")
        for item in value:
            if not isinstance(item, str) or not 0 < len(item) <= max_len or "\x00" in item:
                raise OAuthError("invalid_request", f"{name} must hold non-empty strings of at most {max_len}")
        return list(value)


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats."""
    return list(dict.fromkeys(items))
