"""A JWT debugger for notebooks: paste a token, pick the algorithm and key, see exactly why it verifies or not.

Like the jwt.io debugger, with two differences that matter: the algorithm comes from the dropdown (your
configuration), never from the token's header, and every failure shows the exception our verifier raised.

The logic lives in :func:`inspect_token` and :func:`parse_key` (plain functions); :class:`JwtDebugger` only wires
them to ipywidgets, so tests drive it by setting widget values, without a browser.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.x509 import load_pem_x509_certificate

from .anatomy import parse_json_object, split_token
from .b64 import b64url_encode
from .errors import Altx10Error, ConfigurationError, InvalidKey, MalformedToken
from .jwk import JWK, JWKS
from .jws import sign, verify

__all__ = ["DEFAULT_ALGORITHMS", "JwtDebugger", "Report", "inspect_token", "parse_key"]

DEFAULT_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "ES512",
                      "EdDSA")

_PRIVATE = (RSAPrivateKey, EllipticCurvePrivateKey, Ed25519PrivateKey)
_PUBLIC = (RSAPublicKey, EllipticCurvePublicKey, Ed25519PublicKey)


@dataclass(frozen=True)
class Report:
    """What the debugger shows for one token, key and algorithm."""

    ok: bool
    error: str  # the exception class name, "" when verified
    message: str
    header_text: str = ""
    payload_text: str = ""
    claims: dict[str, Any] | None = None

    @property
    def reason(self) -> str:
        """One line: ``verified`` or ``ExceptionName: message``."""
        return "verified" if self.ok else f"{self.error}: {self.message}" if self.error else self.message


def parse_key(text: str) -> Any:
    """Turn the key box's text into a key: PEM (private, public or certificate), JWK/JWKS JSON, or an HMAC secret.

    Anything that is neither PEM nor a JSON object is taken as the HMAC secret, exactly as typed (UTF-8).
    """
    if not isinstance(text, str):
        raise InvalidKey(f"key must be text, got {type(text).__name__}")
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        data = stripped.encode("ascii", "replace")
        try:
            if "CERTIFICATE-----" in stripped.splitlines()[0]:
                return load_pem_x509_certificate(data).public_key()
            if "PRIVATE KEY-----" in stripped.splitlines()[0]:
                return serialization.load_pem_private_key(data, password=None)
            return serialization.load_pem_public_key(data)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise InvalidKey(f"key: not a usable PEM key ({exc.__class__.__name__})") from None
    if stripped.startswith("{"):
        try:
            obj = parse_json_object(stripped.encode("utf-8"), "key")
        except MalformedToken as exc:
            raise InvalidKey(str(exc)) from None
        return JWKS.from_dict(obj) if "keys" in obj else JWK.from_dict(obj, allow_private=True)
    return text.encode("utf-8")


def _verification_key(key: Any) -> Any:
    """Verify with the public half: a pasted private key must not be needed (nor trusted) for checking."""
    if isinstance(key, _PRIVATE):
        return key.public_key()
    if isinstance(key, JWK) and key.is_private and key.kty != "oct":
        return key.public()
    return key


def _pretty(data: bytes) -> str:
    try:
        return json.dumps(parse_json_object(data, "payload"), indent=2, ensure_ascii=False)
    except MalformedToken:
        return data.decode("utf-8", "replace")


def inspect_token(token: object, key_text: str, alg: str, *, now: float | None = None,
                  allow_weak_key: bool = False) -> Report:
    """Decode ``token`` for display and verify it with ``key_text`` under exactly ``[alg]``.

    Never raises for bad input: every problem becomes a ``Report`` naming our exception and its message.
    Whitespace around a pasted token is ignored; anything inside it is the verifier's business.
    """
    if not isinstance(token, str):
        return Report(False, "", f"token must be a string, got {type(token).__name__}")
    token = token.strip()
    if not token:
        return Report(False, "", "paste a token")
    try:
        parts = split_token(token)
    except MalformedToken as exc:
        return Report(False, type(exc).__name__, str(exc))
    shown = {"header_text": json.dumps(parts.header, indent=2, ensure_ascii=False),
             "payload_text": _pretty(parts.payload)}
    if not isinstance(key_text, str) or not key_text.strip():
        return Report(False, "", "enter the key: the secret, or a PEM or JWK JSON", **shown)
    try:
        claims = verify(token, _verification_key(parse_key(key_text)), [alg], now=now, allow_weak_key=allow_weak_key)
    except Altx10Error as exc:
        return Report(False, type(exc).__name__, str(exc), **shown)
    return Report(True, "", "signature and claims verified", claims=claims, **shown)


def _key_text(key: Any) -> str:
    """Show a key passed to the constructor as the text a reader could have pasted."""
    if key is None:
        return ""
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        try:
            return key.decode("utf-8")
        except UnicodeDecodeError:
            return json.dumps({"kty": "oct", "k": b64url_encode(key)})
    if isinstance(key, _PRIVATE):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode("ascii")
    if isinstance(key, _PUBLIC):
        return key.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    if isinstance(key, JWK):
        return json.dumps(key.to_dict(private=key.is_private))
    if isinstance(key, JWKS):
        return json.dumps(key.to_dict())
    raise InvalidKey(f"unsupported key type {type(key).__name__}")


def _box(description: str, **kwargs: Any) -> widgets.Textarea:
    return widgets.Textarea(description=description, continuous_update=False,
                            layout=widgets.Layout(width="100%"), **kwargs)


class JwtDebugger(widgets.VBox):
    """Paste a token, choose the algorithm and key; see header, payload, and the verifier's verdict.

    Editing the payload rebuilds the token with the *old* signature (watch it fail); **Re-sign** signs the
    current header and payload with the key (a secret or a private key). ``now`` freezes the clock.
    The algorithm starts at ``algorithms[0]``, not at the token's ``alg``: the verifier never lets the token
    choose.
    """

    def __init__(self, token: object = "", key: Any = "", algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
                 now: float | None = None, allow_weak_key: bool = False):
        algorithms = list(algorithms) if not isinstance(algorithms, str) else [algorithms]
        if not algorithms or not all(isinstance(a, str) and a for a in algorithms):
            raise ConfigurationError("algorithms must be a non-empty list of algorithm names")
        self.now = now
        self.token_box = _box("Token", placeholder="paste a JWT: header.payload.signature", rows=3)
        self.alg_box = widgets.Dropdown(options=algorithms, value=algorithms[0], description="Algorithm")
        self.key_box = _box("Key", placeholder="HMAC secret, or a PEM / JWK JSON key")
        self.weak_box = widgets.Checkbox(value=bool(allow_weak_key), description="allow weak key (demos only)")
        self.header_box = _box("Header", disabled=True, rows=4)
        self.payload_box = _box("Payload", rows=8)
        self.resign_button = widgets.Button(description="Re-sign", tooltip="sign header and payload with the key")
        self.status = widgets.HTML()
        super().__init__(children=[self.token_box, widgets.HBox([self.alg_box, self.weak_box]), self.key_box,
                                   self.header_box, self.payload_box, self.resign_button, self.status])
        self._quiet = False
        self.report = Report(False, "", "")
        problems = []
        if isinstance(token, str):
            self.token_box.value = token
        else:
            problems.append(f"token must be a string, got {type(token).__name__}")
        try:
            self.key_box.value = _key_text(key)
        except InvalidKey as exc:
            problems.append(f"InvalidKey: {exc}")
        for box in (self.token_box, self.alg_box, self.key_box, self.weak_box):
            box.observe(self._on_input, names="value")
        self.payload_box.observe(self._on_payload, names="value")
        self.resign_button.on_click(lambda _button: self.resign())
        self.refresh()
        if problems:
            self.report = Report(False, "", "; ".join(problems), self.report.header_text, self.report.payload_text)
            self._show(False, self.report.reason)

    def __repr__(self) -> str:
        return f"JwtDebugger(algorithm={self.alg_box.value!r}, result={self.report.reason!r})"

    @contextmanager
    def _programmatic(self):
        """Set boxes from code without their observers reacting to it."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _show(self, ok: bool, text: str) -> None:
        colour, mark = ("#1a7f37", "✔") if ok else ("#b3261e", "✘")
        self.status.value = f'<b style="color:{colour}">{mark} {html.escape(text)}</b>'

    def refresh(self) -> None:
        """Decode and verify the current token; update every box and the status line."""
        try:
            report = inspect_token(self.token_box.value, self.key_box.value, self.alg_box.value, now=self.now,
                                   allow_weak_key=self.weak_box.value)
        except Exception as exc:  # an observer must never raise: show even a bug as a message
            report = Report(False, type(exc).__name__, f"unexpected error: {exc}")
        self.report = report
        with self._programmatic():
            self.header_box.value = report.header_text
            self.payload_box.value = report.payload_text
        self._show(report.ok, report.reason)

    def _on_input(self, _change: dict) -> None:
        if not self._quiet:
            self.refresh()

    def _on_payload(self, change: dict) -> None:
        """Put the edited payload into the token, keeping the old header and signature."""
        if self._quiet:
            return
        try:
            parts = split_token(self.token_box.value.strip())
            claims = parse_json_object(change["new"].encode("utf-8"), "edited payload")
        except MalformedToken as exc:
            self.report = Report(False, "MalformedToken", str(exc), self.report.header_text, change["new"])
            self._show(False, self.report.reason)
            return
        payload = b64url_encode(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        self.token_box.value = f"{parts.header_b64}.{payload}.{parts.signature_b64}"

    def resign(self) -> None:
        """Sign the current header and payload with the key and the chosen algorithm; show the new token."""
        try:
            parts = split_token(self.token_box.value.strip())
            claims = parts.claims()
            headers: dict[str, Any] = {k: v for k, v in parts.header.items() if k != "alg"}
            headers.setdefault("typ", None)  # keep a header without typ without one
            new = sign(claims, parse_key(self.key_box.value), self.alg_box.value, headers=headers,
                       allow_weak_key=self.weak_box.value)
        except Exception as exc:  # a button callback must never raise: say why re-signing failed
            self.report = Report(False, type(exc).__name__, f"cannot re-sign: {exc}", self.report.header_text,
                                 self.report.payload_text)
            self._show(False, self.report.reason)
            return
        if new == self.token_box.value:
            self.refresh()
        else:
            self.token_box.value = new
