"""A local Pocket ID stand-in: an OpenID Connect provider that behaves like Pocket ID v2.14 on the wire.

``with LocalPocketId() as idp:`` runs it on a free loopback port; ``python -m altx10_helpers.idp`` (or the
``altx10-pocket-id`` command) runs it on Pocket ID's port 1411. docs/pocket-id-standin.md says what it
imitates and what it does not.
"""

from __future__ import annotations

from .app import create_app
from .keys import SigningKey, demo_key
from .provider import Provider
from .redirects import match_redirect
from .server import Demo, LocalPocketId

__all__ = ["Demo", "LocalPocketId", "Provider", "SigningKey", "create_app", "demo_key", "match_redirect"]
