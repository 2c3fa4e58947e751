"""The OpenID Connect relying party: discovery, PKCE, state and nonce, the callback checks, the code
exchange, ID token validation, userinfo, refresh and end-session, with ``PocketIdClient`` on top.
"""

from .client import AUTH_METHODS, DEFAULT_SCOPE, LoginResult, PocketIdClient, SignupToken
from .discovery import ProviderMetadata, discovery_url, fetch_metadata, parse_metadata
from .login import CallbackResult, LoginAttempt, parse_callback
from .pkce import Pkce, code_challenge, make_verifier
from .tokens import (
    ASYMMETRIC_ALGORITHMS,
    HMAC_ALGORITHMS,
    IdToken,
    TokenSet,
    parse_token_response,
    token_hash,
    validate_id_token,
)
from .trace import Hop, HopLog

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "AUTH_METHODS",
    "DEFAULT_SCOPE",
    "HMAC_ALGORITHMS",
    "CallbackResult",
    "Hop",
    "HopLog",
    "IdToken",
    "LoginAttempt",
    "LoginResult",
    "Pkce",
    "PocketIdClient",
    "ProviderMetadata",
    "SignupToken",
    "TokenSet",
    "code_challenge",
    "discovery_url",
    "fetch_metadata",
    "make_verifier",
    "parse_callback",
    "parse_metadata",
    "parse_token_response",
    "token_hash",
    "validate_id_token",
]
