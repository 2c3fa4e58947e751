"""Redirect-URI matching the way Pocket ID does it.

A sent URI matches a registered one when:

* the two strings are equal (so a trailing slash matters), or the registration is just ``*``;
* the sent URI is ``http`` on a loopback host (``localhost``, ``127.0.0.0/8``, ``[::1]``) and, with its
  port removed, it matches: a registration *without* a port accepts any port (RFC 8252 section 7.3);
* wildcards: in the path ``*`` is exactly one non-empty segment and ``**`` any number of segments; in the
  scheme, host and port ``*`` matches within that part only; query values are globs (``*``, ``?``) and the
  query must have the same parameter names and counts.

Sent URIs with a fragment, user info, a backslash, whitespace or control characters never match. A wildcard
never matches a path with dot segments (``.``, ``..``, also percent-encoded) or an encoded ``/`` or ``\\``:
the browser (or the app) would resolve ``/cb/*`` + ``/cb/..`` to a path outside the registration.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qs

__all__ = ["is_acceptable_redirect", "match_redirect"]

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_HOST_CHARS = re.compile(r"^(?:[a-z0-9.\-]+|\[[0-9a-f:.]+\])$")
_ENCODED_SEPARATOR = re.compile(r"%(?:2f|5c)", re.IGNORECASE)


def is_acceptable_redirect(uri: str) -> bool:
    """A redirect URI we are willing to send a browser to at all: absolute, no fragment, no tricks."""
    if not uri or len(uri) > 2048 or "#" in uri or "\\" in uri:
        return False
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in uri):
        return False
    scheme, sep, _ = uri.partition(":")
    return bool(sep) and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme) is not None


def _split(uri: str) -> tuple[str, str, str, str, str] | None:
    """``(scheme, host, port, path, query)`` for ``scheme://host[:port]/path?query``, lower-cased where URLs are."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return None
    authority_end = len(rest)
    for stop in "/?":
        i = rest.find(stop)
        if i >= 0:
            authority_end = min(authority_end, i)
    authority, tail = rest[:authority_end], rest[authority_end:]
    if "@" in authority:
        return None
    path, _, query = tail.partition("?")
    if authority.startswith("["):
        host, bracket, port = authority.partition("]")
        host += bracket
        if port and not port.startswith(":"):
            return None
        port = port[1:]
    else:
        host, _, port = authority.partition(":")
    scheme, host = scheme.lower(), host.lower()
    if _DEFAULT_PORTS.get(scheme) == port:
        port = ""
    return scheme, host, port, path, query


def _glob(pattern: str, star: str, *, globstar: bool = False, question: bool = False) -> re.Pattern[str]:
    """Compile a wildcard pattern: ``*`` becomes ``star``, ``**`` any text (if ``globstar``), ``?`` one char."""
    out = []
    i = 0
    while i < len(pattern):
        if globstar and pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        c = pattern[i]
        out.append(star if c == "*" else "[^/]" if (question and c == "?") else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _query_matches(pattern_query: str, query: str) -> bool:
    try:
        want = parse_qs(pattern_query, keep_blank_values=True, strict_parsing=bool(pattern_query),
                        separator="&")
        got = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query), separator="&")
    except ValueError:
        return False
    if want.keys() != got.keys():
        return False
    for name, values in want.items():
        if len(values) != len(got[name]):
            return False
        if not all(_glob(w, "[^/]*", question=True).fullmatch(g) for w, g in zip(values, got[name], strict=True)):
            return False
    return True


def _matches(pattern: str, uri: str) -> bool:
    if pattern in (uri, "*"):
        return True
    want, got = _split(pattern), _split(uri)
    if want is None or got is None or "*" not in pattern:
        return False
    w_scheme, w_host, w_port, w_path, w_query = want
    g_scheme, g_host, g_port, g_path, g_query = got
    if not _HOST_CHARS.fullmatch(g_host) or (g_port and not g_port.isdigit()):
        return False
    if _ENCODED_SEPARATOR.search(g_path) or any(
            re.sub("%2e", ".", segment, flags=re.IGNORECASE) in (".", "..") for segment in g_path.split("/")):
        return False
    if not _glob(w_scheme, "[a-z0-9+.\\-]*").fullmatch(g_scheme):
        return False
    if not _glob(w_host, "[a-z0-9.\\-]*").fullmatch(g_host):
        return False
    if w_port != "*" and w_port != g_port:
        return False
    if not _glob(w_path, "[^/]+", globstar=True).fullmatch(g_path):
        return False
    return _query_matches(w_query, g_query)


def _without_loopback_port(uri: str) -> str | None:
    """The same ``http`` loopback URI with its port removed, or None when it is not one."""
    parts = _split(uri)
    if parts is None or parts[0] != "http":
        return None
    host = parts[1]
    if host != "localhost":
        try:
            if not ipaddress.ip_address(host.strip("[]")).is_loopback:
                return None
        except ValueError:
            return None
    scheme, _, rest = uri.partition("://")
    tail_at = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority = rest[:tail_at]
    if not authority.endswith("]") and ":" in authority.rsplit("]", 1)[-1]:
        authority = authority.rsplit(":", 1)[0]
    return f"{scheme}://{authority}{rest[tail_at:]}"


def match_redirect(registered: list[str], uri: str) -> bool:
    """True when ``uri`` matches one of the ``registered`` redirect URIs (see the module docstring)."""
    if not is_acceptable_redirect(uri):
        return False
    candidates = [uri]
    portless = _without_loopback_port(uri)
    if portless is not None:
        candidates.append(portless)
    return any(_matches(pattern, candidate) for pattern in registered for candidate in candidates)
