"""Record every HTTP hop of a login, so a notebook can print the real requests and responses.

    log = HopLog()                                   # or HopLog(existing_session)
    client = PocketIdClient(..., session=log.session)
    ...
    print(log.format())                              # one block per request, long tokens shortened
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import requests

__all__ = ["Hop", "HopLog", "shorten"]

_LONG = re.compile(r"[A-Za-z0-9_\-~+]{41,}=*")


def shorten(text: str, keep: int = 12) -> str:
    """Cut every base64-like run over 40 characters (each part of a JWT, a code, a key) to its ends."""
    return _LONG.sub(lambda m: f"{m.group()[:keep]}...{m.group()[-6:]}", text)


@dataclass(frozen=True)
class Hop:
    """One request and its response, as sent and received."""

    method: str
    url: str
    status: int
    request_headers: dict[str, str] = field(repr=False)
    request_body: str = field(repr=False)
    response_headers: dict[str, str] = field(repr=False)
    response_body: str = field(repr=False)

    @classmethod
    def from_response(cls, resp: requests.Response) -> Hop:
        req = resp.request
        body = req.body.decode("utf-8", "replace") if isinstance(req.body, bytes) else (req.body or "")
        return cls(method=req.method or "", url=req.url or "", status=resp.status_code,
                   request_headers=dict(req.headers), request_body=body,
                   response_headers=dict(resp.headers), response_body=resp.text)

    def format(self, *, headers: tuple[str, ...] = ("Authorization", "Cookie", "X-API-Key"),
               response_headers: tuple[str, ...] = ("Location", "Set-Cookie", "Content-Type")) -> str:
        """The hop as a short, readable block (chosen headers only, long tokens shortened)."""
        lines = [f"{self.method} {self.url}"]
        lines += [f"  {k}: {v}" for k, v in self.request_headers.items() if k in headers]
        if self.request_body:
            lines.append(f"  body: {self.request_body}")
        lines.append(f"-> {self.status}")
        lines += [f"  {k}: {v}" for k, v in self.response_headers.items() if k in response_headers]
        if self.response_body and not self.response_body.lstrip().startswith("<"):
            lines.append(f"  body: {self.response_body.strip()}")
        return shorten("\n".join(lines))


class HopLog:
    """Attach to a ``requests.Session`` and keep every response it receives."""

    def __init__(self, session: requests.Session | None = None) -> None:
        self.session = session if session is not None else requests.Session()
        self.hops: list[Hop] = []
        self.session.hooks["response"].append(self._record)

    def _record(self, resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.hops.append(Hop.from_response(resp))

    def clear(self) -> None:
        self.hops.clear()

    def format(self) -> str:
        return "\n\n".join(h.format() for h in self.hops)
