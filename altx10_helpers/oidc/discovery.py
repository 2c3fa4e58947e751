"""OpenID Connect Discovery: learn the provider's endpoints, and refuse a document about someone else.

The document's ``issuer`` must equal the issuer we were configured with, character for character
(OIDC Discovery section 4.3). Otherwise a provider (or whoever answers at its address) could point us at
another issuer's keys and endpoints, and tokens minted there would pass our ``iss`` check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import DiscoveryError
from ._http import field_bool, field_optional_str, field_str, field_str_list, read_json_object, send

__all__ = ["ProviderMetadata", "discovery_url", "fetch_metadata", "parse_metadata"]

_STEP = "discovery"
_WHAT = "discovery document"


def discovery_url(base_url: str) -> str:
    """Where the document lives: ``<issuer>/.well-known/openid-configuration``."""
    return base_url.rstrip("/") + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of a discovery document a relying party acts on (``raw`` keeps all of it)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    end_session_endpoint: str | None = None
    introspection_endpoint: str | None = None
    scopes_supported: tuple[str, ...] = ()
    response_types_supported: tuple[str, ...] = ()
    id_token_signing_alg_values_supported: tuple[str, ...] = ()
    token_endpoint_auth_methods_supported: tuple[str, ...] = ("client_secret_basic",)
    code_challenge_methods_supported: tuple[str, ...] = ()
    authorization_response_iss_parameter_supported: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _optional_url(doc: Mapping[str, Any], name: str) -> str | None:
    value = field_optional_str(doc, name, step=_STEP, error=DiscoveryError, what=_WHAT)
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise DiscoveryError(f"{_WHAT}: {name!r} is not an absolute http(s) URL: {value!r}", step=_STEP)
    return value


def _url(doc: Mapping[str, Any], name: str) -> str:
    value = _optional_url(doc, name)
    if value is None:
        raise DiscoveryError(f"{_WHAT}: {name!r} is missing", step=_STEP)
    return value


def parse_metadata(doc: Mapping[str, Any], expected_issuer: str) -> ProviderMetadata:
    """Check and keep a discovery document; ``DiscoveryError`` names the first bad member."""
    issuer = field_str(doc, "issuer", step=_STEP, error=DiscoveryError, what=_WHAT)
    if issuer != expected_issuer:
        raise DiscoveryError(f"{_WHAT} names issuer {issuer!r}, but we are configured for {expected_issuer!r}; "
                             "the issuer must match exactly", step=_STEP, error="issuer_mismatch")
    lists = {name: field_str_list(doc, name, step=_STEP, error=DiscoveryError, what=_WHAT)
             for name in ("scopes_supported", "response_types_supported", "code_challenge_methods_supported")}
    algs = field_str_list(doc, "id_token_signing_alg_values_supported", step=_STEP, error=DiscoveryError, what=_WHAT)
    if not algs:
        raise DiscoveryError(f"{_WHAT}: 'id_token_signing_alg_values_supported' is missing or empty", step=_STEP)
    auth_methods = field_str_list(doc, "token_endpoint_auth_methods_supported", step=_STEP, error=DiscoveryError,
                                  what=_WHAT, default=("client_secret_basic",))
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=_url(doc, "authorization_endpoint"),
        token_endpoint=_url(doc, "token_endpoint"),
        jwks_uri=_url(doc, "jwks_uri"),
        userinfo_endpoint=_optional_url(doc, "userinfo_endpoint"),
        end_session_endpoint=_optional_url(doc, "end_session_endpoint"),
        introspection_endpoint=_optional_url(doc, "introspection_endpoint"),
        id_token_signing_alg_values_supported=algs,
        token_endpoint_auth_methods_supported=auth_methods,
        authorization_response_iss_parameter_supported=field_bool(
            doc, "authorization_response_iss_parameter_supported", step=_STEP, error=DiscoveryError, what=_WHAT),
        raw=dict(doc),
        **lists,
    )


def fetch_metadata(issuer: str, *, session: requests.Session | None = None, base_url: str | None = None,
                   timeout: float = 10) -> ProviderMetadata:
    """GET the document from ``base_url`` (default: the issuer) and check it names ``issuer`` exactly.

    ``base_url`` is for a provider the kernel reaches at another address than the browser does
    (Pocket ID's ``INTERNAL_APP_URL``); the issuer check is unchanged.
    """
    url = discovery_url(base_url or issuer)
    resp = send(session or requests.Session(), "GET", url, step=_STEP, error=DiscoveryError, timeout=timeout,
                headers={"Accept": "application/json"})
    return parse_metadata(read_json_object(resp, step=_STEP, error=DiscoveryError, what=_WHAT), issuer)
