"""Reading a provider's HTTP answers strictly, so every bad answer names the step and the field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import requests

from ..errors import OidcError

__all__ = ["field_bool", "field_int", "field_optional_str", "field_str", "field_str_list", "read_json_object",
           "send"]


def send(session: requests.Session, method: str, url: str, *, step: str, error: type[OidcError], timeout: float,
         **kwargs: Any) -> requests.Response:
    """One HTTP request; a transport failure becomes ``error`` naming the step, never a requests traceback."""
    try:
        return session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        raise error(f"{step}: could not reach {url} ({exc.__class__.__name__})", step=step) from exc


def _snippet(resp: requests.Response) -> str:
    text = resp.text.strip().replace("\n", " ")
    return text[:60] + ("..." if len(text) > 60 else "")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate member {key!r}")
        out[key] = value
    return out


def read_json_object(resp: requests.Response, *, step: str, error: type[OidcError], what: str,
                     expected: tuple[int, ...] = (200,)) -> dict[str, Any]:
    """The body as a JSON object, or ``error``; an OAuth error body (4xx) is surfaced with its ``error`` code."""
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
    is_json = ctype == "application/json" or ctype.endswith("+json")
    try:
        body = json.loads(resp.content, object_pairs_hook=_reject_duplicates) if is_json else None
    except (ValueError, RecursionError):
        body = None
    if resp.status_code not in expected:
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            code, desc = body["error"], body.get("error_description")
            desc = desc if isinstance(desc, str) else ""
            raise error(f"{what} refused: {code}" + (f" ({desc})" if desc else "") + f" [HTTP {resp.status_code}]",
                        step=step, error=code, description=desc)
        raise error(f"{what} answered HTTP {resp.status_code} ({ctype or 'no content type'}): {_snippet(resp)!r}",
                    step=step)
    if not is_json:
        raise error(f"{what} answered {ctype or 'no content type'}, not JSON: {_snippet(resp)!r}", step=step)
    if not isinstance(body, dict):
        kind = "invalid JSON" if body is None else f"a JSON {type(body).__name__}"
        raise error(f"{what} answered {kind}, not a JSON object", step=step)
    return body


def field_optional_str(obj: Mapping[str, Any], name: str, *, step: str, error: type[OidcError],
                       what: str) -> str | None:
    """A non-empty string member, or None when absent."""
    value = obj.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise error(f"{what}: {name!r} must be a non-empty string, got {type(value).__name__}", step=step)
    return value


def field_str(obj: Mapping[str, Any], name: str, *, step: str, error: type[OidcError], what: str) -> str:
    """A required non-empty string member."""
    value = field_optional_str(obj, name, step=step, error=error, what=what)
    if value is None:
        raise error(f"{what}: {name!r} is missing", step=step)
    return value


def field_int(obj: Mapping[str, Any], name: str, *, step: str, error: type[OidcError], what: str) -> int | None:
    """An optional non-negative integer member (a JSON bool is not a number here)."""
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise error(f"{what}: {name!r} must be a non-negative integer, got {value!r}", step=step)
    return value


def field_bool(obj: Mapping[str, Any], name: str, *, step: str, error: type[OidcError], what: str,
               default: bool = False) -> bool:
    value = obj.get(name, default)
    if not isinstance(value, bool):
        raise error(f"{what}: {name!r} must be true or false, got {value!r}", step=step)
    return value


def field_str_list(obj: Mapping[str, Any], name: str, *, step: str, error: type[OidcError], what: str,
                   default: tuple[str, ...] = ()) -> tuple[str, ...]:
    value = obj.get(name)
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise error(f"{what}: {name!r} must be a list of strings", step=step)
    return tuple(value)
