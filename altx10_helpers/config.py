"""Settings, read from the same environment variables the author's library uses.

Unset ``POCKET_ID_ENDPOINT`` means "use the local Pocket ID stand-in", so a
reader with no account (Binder, CI) gets a working series by default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_ENDPOINT", "Settings", "describe_provider"]

#: Pocket ID's default address, and where the stand-in's command listens.
DEFAULT_ENDPOINT = "http://localhost:1411"


@dataclass(frozen=True)
class Settings:
    """What an altx10 app needs to know about its identity provider and itself."""

    pocket_id_endpoint: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    redirect_uri: str | None = None
    api_key: str | None = None
    jwt_secret: str | None = None
    jwt_alg: str = "HS256"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``POCKET_ID_ENDPOINT``, ``OIDC_*``, ``POCKET_ID_API_KEY``, ``JWT_SECRET``, ``JWT_ALG``."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        endpoint = get("POCKET_ID_ENDPOINT")
        return cls(
            pocket_id_endpoint=endpoint.rstrip("/") if endpoint else None,
            client_id=get("OIDC_CLIENT_ID"),
            client_secret=get("OIDC_CLIENT_SECRET"),
            redirect_uri=get("OIDC_REDIRECT_URI"),
            api_key=get("POCKET_ID_API_KEY"),
            jwt_secret=get("JWT_SECRET"),
            jwt_alg=get("JWT_ALG") or "HS256",
        )

    @property
    def uses_local_standin(self) -> bool:
        """True when no real Pocket ID is configured."""
        return self.pocket_id_endpoint is None


def describe_provider(settings: Settings | None = None) -> str:
    """One sentence saying which identity provider the notebooks will talk to."""
    s = Settings.from_env() if settings is None else settings
    if s.uses_local_standin:
        return (
            "Identity provider: the local Pocket ID stand-in, started inside this kernel "
            "(set POCKET_ID_ENDPOINT and the OIDC_* variables to use your own Pocket ID)."
        )
    missing = [n for n, v in (("OIDC_CLIENT_ID", s.client_id), ("OIDC_CLIENT_SECRET", s.client_secret),
                              ("OIDC_REDIRECT_URI", s.redirect_uri)) if not v]
    note = f" Still missing: {', '.join(missing)}." if missing else ""
    return f"Identity provider: your Pocket ID at {s.pocket_id_endpoint}.{note}"
