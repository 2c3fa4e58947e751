"""JWK / JWKS import and export, thumbprints, bad input naming the member, and the KeySet (JWKS cache)."""

from __future__ import annotations

import copy
import http.server
import json
import threading
import time
from typing import ClassVar

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from altx10_helpers import (
    JWK,
    JWKS,
    BadSignature,
    ConfigurationError,
    InvalidKey,
    KeyMismatch,
    KeySet,
    NetworkError,
    fetch_jwks,
    jku_injection,
    sign,
    verify,
    verify_token,
)

NOW = 1_760_000_000
CLAIMS = {"iss": "https://id.altx10.dev", "sub": "u-1", "exp": NOW + 600}
URI = "https://id.altx10.dev/.well-known/jwks.json"


@pytest.fixture(scope="module")
def private_jwks(vectors) -> dict[str, dict]:
    return {
        "RSA": vectors["rfc7515_A2_rs256"]["jwk_private"],
        "EC": vectors["rfc7515_A3_es256"]["jwk_private"],
        "OKP": vectors["rfc8037_A4_eddsa"]["jwk_private"],
    }


# --- import / export ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kty", ["RSA", "EC", "OKP"])
def test_private_and_public_jwks_round_trip_exactly(kty, private_jwks):
    data = private_jwks[kty]
    key = JWK.from_dict(data, allow_private=True)
    assert key.kty == kty and key.is_private
    assert key.to_dict(private=True) == data
    public = key.public()
    assert not public.is_private
    public_dict = {k: v for k, v in data.items() if k in ("kty", "crv", "n", "e", "x", "y")}
    assert public.to_dict() == key.to_dict() == public_dict
    assert JWK.from_dict(public_dict).to_dict() == public_dict
    assert public.thumbprint() == key.thumbprint()


def test_oct_keys_are_secrets(vectors):
    data = vectors["rfc7515_A1_hs256"]["jwk"]
    with pytest.raises(InvalidKey, match="member 'k': this is a private key \\(or secret\\)"):
        JWK.from_dict(data)
    key = JWK.from_dict(data, allow_private=True)
    assert key.is_private and key.to_dict(private=True) == data
    with pytest.raises(InvalidKey, match="only with to_dict\\(private=True\\)"):
        key.to_dict()
    with pytest.raises(InvalidKey, match="no public half"):
        key.public()
    assert "AyM1" not in repr(key) and repr(key) == "JWK(kty='oct', private)"


def test_metadata_is_kept_and_binds(private_jwks):
    data = {**private_jwks["EC"], "kid": "2025-07", "alg": "ES256", "use": "sig"}
    key = JWK.from_dict(data, allow_private=True)
    assert (key.kid, key.alg, key.use, key.crv) == ("2025-07", "ES256", "sig", "P-256")
    assert key.public().to_dict()["kid"] == "2025-07"
    with pytest.raises(KeyMismatch, match="member 'alg': alg 'ES384' needs curve P-384"):
        JWK.from_dict({**data, "alg": "ES384"}, allow_private=True)
    with pytest.raises(KeyMismatch, match="alg 'RS256' needs a RSA key, this JWK is kty 'EC'"):
        JWK.from_dict({**data, "alg": "RS256"}, allow_private=True)
    assert JWK.from_dict({**data, "alg": "ECDH-ES"}, allow_private=True).alg == "ECDH-ES"  # binds it to nothing of ours


def test_from_key_covers_every_key_type():
    for key, kty in ((b"k" * 32, "oct"), ("text secret", "oct"), (rsa.generate_private_key(65537, 2048), "RSA"),
                     (ec.generate_private_key(ec.SECP521R1()), "EC"), (ed25519.Ed25519PrivateKey.generate(), "OKP")):
        jwk = JWK.from_key(key, kid="k")
        assert jwk.kty == kty and jwk.kid == "k"
        assert JWK.from_dict(jwk.to_dict(private=True), allow_private=True) == jwk
    with pytest.raises(InvalidKey, match="unsupported key type int"):
        JWK.from_key(7)
    with pytest.raises(InvalidKey, match="secp256k1 is not supported"):
        JWK.from_key(ec.generate_private_key(ec.SECP256K1()))


def test_rsa_private_key_without_crt_members_still_signs_the_exact_a2_token(vectors):
    v = vectors["rfc7515_A2_rs256"]
    minimal = {k: v["jwk_private"][k] for k in ("kty", "n", "e", "d")}
    key = JWK.from_dict(minimal, allow_private=True)
    assert sign(v["payload_bytes"].encode(), key, "RS256", headers={"typ": None}) == v["token"]


def test_rfc7638_thumbprint(vectors):
    v = vectors["rfc7638_thumbprint"]
    key = JWK.from_dict(v["jwk"])
    assert key.thumbprint() == v["thumbprint"]
    assert key.thumbprint("sha256") == v["thumbprint"]
    assert len(key.thumbprint("sha512")) == 86
    assert (key.kid, key.alg) == ("2011-04-29", "RS256")


def test_rfc8037_thumbprint(vectors):
    v = vectors["rfc8037_A4_eddsa"]
    public = {k: v["jwk_private"][k] for k in ("kty", "crv", "x")}
    assert JWK.from_dict(public).thumbprint() == v["jwk_thumbprint"]


# --- bad input ----------------------------------------------------------------------------------------------------

def _mutate(base: dict, **changes) -> dict:
    out = copy.deepcopy(base)
    for name, value in changes.items():
        if value is ...:
            out.pop(name, None)
        else:
            out[name] = value
    return out


@pytest.mark.parametrize(("kty", "changes", "member", "fragment"), [
    ("RSA", {"n": ...}, "n", "is missing"),
    ("RSA", {"e": 65537}, "e", "must be a string, got int"),
    ("RSA", {"n": "not base64url!"}, "n", "not base64url"),
    ("RSA", {"n": "AQAB="}, "n", "not base64url \\(padding"),
    ("RSA", {"e": ""}, "e", "is empty"),
    ("RSA", {"e": "Ag"}, "e", "odd and at least 3"),
    ("RSA", {"d": "AQAB"}, "d", "private key \\(or secret\\) where a public key was expected"),
    ("RSA", {"p": "AQAB"}, "p", "private RSA member without 'd'"),
    ("RSA", {"oth": []}, "oth", "multi-prime"),
    ("EC", {"crv": "P-192"}, "crv", "unsupported curve 'P-192'"),
    ("EC", {"crv": ...}, "crv", "is missing"),
    ("EC", {"x": "AQAB"}, "x", "must be exactly 32 octets, got 3"),
    ("EC", {"y": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"}, "x", "not on curve P-256"),
    ("EC", {"d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}, "d", "where a public key was expected"),
    ("OKP", {"crv": "X25519"}, "crv", "unsupported OKP curve 'X25519'"),
    ("OKP", {"x": ["11qY"]}, "x", "must be a string, got list"),
    ("OKP", {"x": "AAAA"}, "x", "must be exactly 32 octets"),
    ("OKP", {"d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}, "d", "where a public key was expected"),
    ("RSA", {"kty": "rsa"}, "kty", "unsupported key type 'rsa'"),
    ("RSA", {"kty": ...}, "kty", "is missing"),
    ("RSA", {"kid": 7}, "kid", "must be a string"),
    ("RSA", {"key_ops": "verify"}, "key_ops", "array of strings"),
])
def test_bad_public_jwks_name_the_member(kty, changes, member, fragment, vectors):
    base = {"RSA": vectors["rfc7638_thumbprint"]["jwk"],
            "EC": {k: vectors["rfc7515_A3_es256"]["jwk_private"][k] for k in ("kty", "crv", "x", "y")},
            "OKP": {k: vectors["rfc8037_A4_eddsa"]["jwk_private"][k] for k in ("kty", "crv", "x")}}[kty]
    with pytest.raises(InvalidKey, match=f"member '{member}': .*{fragment}"):
        JWK.from_dict(_mutate(base, **changes))


@pytest.mark.parametrize(("kty", "changes", "member", "fragment"), [
    ("RSA", {"q": ...}, "q", "is missing \\(p, q, dp, dq and qi come together\\)"),
    ("RSA", {"d": "AQAB"}, "d", "do not form a valid RSA key"),
    ("EC", {"d": "AQAB"}, "d", "exactly 32 octets"),
    ("EC", {"d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LA"}, "d", "does not match the public point"),
    ("OKP", {"d": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "x", "is not the public key of 'd'"),
])
def test_bad_private_jwks_name_the_member(kty, changes, member, fragment, private_jwks):
    with pytest.raises(InvalidKey, match=f"member '{member}': .*{fragment}"):
        JWK.from_dict(_mutate(private_jwks[kty], **changes), allow_private=True)


@pytest.mark.parametrize(("data", "fragment"), [
    ([], "a JWK must be a JSON object, got list"),
    ("{}", "a JWK must be a JSON object, got str"),
])
def test_a_jwk_must_be_an_object(data, fragment):
    with pytest.raises(InvalidKey, match=fragment):
        JWK.from_dict(data)


@pytest.mark.parametrize("data", [{}, {"keys": {}}, {"keys": "x"}, [], None])
def test_a_jwks_must_have_a_keys_array(data):
    with pytest.raises(InvalidKey, match="'keys' array"):
        JWKS.from_dict(data)


def test_a_bad_key_in_a_jwks_is_named_by_position(vectors):
    good = vectors["rfc7638_thumbprint"]["jwk"]
    with pytest.raises(InvalidKey, match="keys\\[1\\]: JWK member 'n': is missing"):
        JWKS.from_dict({"keys": [good, _mutate(good, n=...)]})
    with pytest.raises(InvalidKey, match="keys\\[0\\]: JWK member 'd'"):
        JWKS.from_dict({"keys": [vectors["rfc7515_A2_rs256"]["jwk_private"]]})


def test_jwks_round_trip_and_lookup(private_jwks):
    keys = JWKS([JWK.from_dict({**private_jwks[k], "kid": k}, allow_private=True).public() for k in private_jwks])
    again = JWKS.from_dict(json.loads(json.dumps(keys.to_dict())))
    assert [k.to_dict() for k in again] == [k.to_dict() for k in keys] and len(again) == 3
    assert again.get("EC").kty == "EC" and again.get("nope") is None
    assert again.keys_for({"alg": "ES256", "kid": "EC"}) == [again.get("EC")]
    assert again.keys_for({"alg": "ES384", "kid": "EC"}) == []  # P-256 key, P-384 algorithm
    assert again.keys_for({"alg": "EdDSA"}) == [again.get("OKP")]
    with pytest.raises(BadSignature, match="no key with kid 'other'"):
        again.keys_for({"alg": "ES256", "kid": "other"})
    with pytest.raises(InvalidKey):
        JWKS(["not a key"])


# --- KeySet -------------------------------------------------------------------------------------------------------

class FakeProvider:
    """A counting fake of an identity provider's JWKS endpoint, with a controllable clock."""

    def __init__(self, *keys: JWK):
        self.published = list(keys)
        self.urls: list[str] = []
        self.now = 1000.0
        self.answer: object = None  # set to an exception or a document to misbehave

    def fetch(self, url: str) -> dict:
        self.urls.append(url)
        if isinstance(self.answer, BaseException):
            raise self.answer
        if self.answer is not None:
            return self.answer
        return {"keys": [k.public().to_dict() for k in self.published]}

    def keyset(self, **kwargs) -> KeySet:
        return KeySet(URI, fetch=self.fetch, clock=lambda: self.now, **kwargs)


@pytest.fixture(scope="module")
def signing_keys(private_jwks) -> tuple[JWK, JWK]:
    base = JWK.from_dict(private_jwks["OKP"], allow_private=True)
    other = JWK.from_key(ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    return JWK(base.kty, base.key, kid="2025-01", alg="EdDSA"), JWK(other.kty, other.key, kid="2025-07")


def test_one_fetch_for_ten_thousand_verifications_with_a_known_kid(signing_keys):
    old, _ = signing_keys
    provider = FakeProvider(old)
    keys = provider.keyset()
    token = sign(CLAIMS, old, "EdDSA")
    for _ in range(10_000):
        assert verify(token, keys, ["EdDSA"], now=NOW)["sub"] == "u-1"
    assert keys.fetch_count == 1 and provider.urls == [URI]


def test_a_rotated_key_costs_exactly_one_more_fetch(signing_keys):
    old, new = signing_keys
    provider = FakeProvider(old)
    keys = provider.keyset()
    old_token, new_token = sign(CLAIMS, old, "EdDSA"), sign(CLAIMS, new, "EdDSA")
    for _ in range(5_000):
        verify(old_token, keys, ["EdDSA"], now=NOW)
    provider.published = [new]
    provider.now += 120
    for _ in range(5_000):
        assert verify_token(new_token, keys, ["EdDSA"], now=NOW).key.kid == "2025-07"
    assert keys.fetch_count == 2
    with pytest.raises(BadSignature, match="no key with kid '2025-01'"):
        verify(old_token, keys, ["EdDSA"], now=NOW)  # the old key is gone, and a refetch was too recent
    assert keys.fetch_count == 2


def test_unknown_kids_refetch_at_most_once_per_interval(signing_keys):
    old, _ = signing_keys
    provider = FakeProvider(old)
    keys = provider.keyset(min_refetch_interval=60)
    for i in range(1000):
        made_up = sign(CLAIMS, JWK(old.kty, old.key, kid=f"guess-{i}"), "EdDSA")
        with pytest.raises(BadSignature, match=f"no key with kid 'guess-{i}'"):
            verify(made_up, keys, ["EdDSA"], now=NOW)
    assert keys.fetch_count == 1  # the first fetch; every refetch was inside the interval
    provider.now += 60
    with pytest.raises(BadSignature):
        verify(made_up, keys, ["EdDSA"], now=NOW)
    assert keys.fetch_count == 2


def test_keys_are_refetched_after_the_ttl(signing_keys):
    old, _ = signing_keys
    provider = FakeProvider(old)
    keys = provider.keyset(ttl=300)
    token = sign(CLAIMS, old, "EdDSA")
    verify(token, keys, ["EdDSA"], now=NOW)
    provider.now += 299
    verify(token, keys, ["EdDSA"], now=NOW)
    assert keys.fetch_count == 1
    provider.now += 1
    verify(token, keys, ["EdDSA"], now=NOW)
    assert keys.fetch_count == 2


def test_without_kid_a_single_key_is_used_and_several_are_tried(signing_keys):
    old, new = signing_keys
    no_kid = sign(CLAIMS, JWK(new.kty, new.key), "EdDSA")
    assert verify(no_kid, FakeProvider(new).keyset(), ["EdDSA"], now=NOW)["sub"] == "u-1"
    assert verify_token(no_kid, FakeProvider(old, new).keyset(), ["EdDSA"], now=NOW).key.kid == "2025-07"


@pytest.mark.parametrize(("answer", "fragment"), [
    (NetworkError("the JWKS endpoint answered HTTP 500"), "HTTP 500"),
    (TimeoutError("read timed out"), "TimeoutError: read timed out"),
    ({"error": "not found"}, "without a 'keys' array"),
    (["keys"], "without a 'keys' array"),
    ({"keys": [{"kty": "RSA"}]}, "keys\\[0\\]: JWK member 'n': is missing"),
    ({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "where a public key was expected"),
])
def test_fetch_failures_raise_network_error_and_keep_the_cached_keys(answer, fragment, signing_keys):
    old, _ = signing_keys
    provider = FakeProvider(old)
    keys = provider.keyset(ttl=300, min_refetch_interval=60)
    token = sign(CLAIMS, old, "EdDSA")
    verify(token, keys, ["EdDSA"], now=NOW)
    cached = keys.jwks
    provider.answer, provider.now = answer, provider.now + 300
    with pytest.raises(NetworkError, match=fragment):
        verify(token, keys, ["EdDSA"], now=NOW)
    assert keys.jwks is cached and keys.fetch_count == 2
    assert verify(token, keys, ["EdDSA"], now=NOW)["sub"] == "u-1"  # old keys serve until the next attempt
    assert keys.fetch_count == 2
    provider.answer, provider.now = None, provider.now + 60
    verify(token, keys, ["EdDSA"], now=NOW)
    assert keys.fetch_count == 3


def test_a_first_fetch_failure_is_not_retried_in_a_tight_loop(signing_keys):
    old, _ = signing_keys
    provider = FakeProvider(old)
    provider.answer = NetworkError("connection refused")
    keys = provider.keyset(min_refetch_interval=60)
    token = sign(CLAIMS, old, "EdDSA")
    with pytest.raises(NetworkError, match="connection refused"):
        verify(token, keys, ["EdDSA"], now=NOW)
    with pytest.raises(NetworkError, match=r"no keys from .* yet; the last fetch failed \(connection refused\)"):
        verify(token, keys, ["EdDSA"], now=NOW)
    assert keys.fetch_count == 1
    provider.answer, provider.now = None, provider.now + 60
    assert verify(token, keys, ["EdDSA"], now=NOW)["sub"] == "u-1"


def test_the_keyset_never_fetches_a_url_from_a_token():
    provider = FakeProvider(JWK.from_key(ed25519.Ed25519PrivateKey.generate(), kid="ours"))
    keys = provider.keyset()
    attacker = ed25519.Ed25519PrivateKey.generate()
    forged = jku_injection(CLAIMS, attacker, "https://evil.example/jwks.json")
    with pytest.raises(BadSignature):
        verify(forged, keys, ["EdDSA"], now=NOW)
    assert set(provider.urls) == {URI}


@pytest.mark.parametrize("uri", ["", "ftp://id.example/jwks", "/jwks.json", None])
def test_keyset_needs_an_http_url(uri):
    with pytest.raises(ConfigurationError):
        KeySet(uri)


# --- the default fetcher, against a real local HTTP server --------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, str, bytes]]] = {}

    def do_GET(self):
        if self.path == "/slow":
            time.sleep(1.0)
        status, content_type, body = self.routes.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out on purpose

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(vectors):
    jwks = json.dumps({"keys": [vectors["rfc7638_thumbprint"]["jwk"]]}).encode()
    _Handler.routes = {
        "/jwks": (200, "application/json", jwks),
        "/error": (500, "application/json", b'{"error":"boom"}'),
        "/html": (200, "text/html", b"<!doctype html><html><body>Login</body></html>"),
        "/list": (200, "application/json", b"[]"),
        "/slow": (200, "application/json", jwks),
    }
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_default_fetch_gets_a_jwks(server):
    keys = KeySet(f"{server}/jwks")
    assert keys.keys_for({"alg": "RS256", "kid": "2011-04-29"})[0].kid == "2011-04-29"
    assert keys.fetch_count == 1


@pytest.mark.parametrize(("path", "fragment"), [
    ("/error", "answered HTTP 500"),
    ("/missing", "answered HTTP 404"),
    ("/html", "did not answer JSON \\(Content-Type 'text/html', starts '<!doctype html>"),
    ("/list", "JSON that is not an object"),
])
def test_default_fetch_turns_bad_answers_into_network_errors(server, path, fragment):
    with pytest.raises(NetworkError, match=fragment):
        fetch_jwks(f"{server}{path}")


def test_default_fetch_times_out(server):
    with pytest.raises(NetworkError, match="Timeout"):
        fetch_jwks(f"{server}/slow", timeout=0.2)


def test_default_fetch_refused_connection():
    with pytest.raises(NetworkError, match="ConnectionError"):
        fetch_jwks("http://127.0.0.1:9/jwks", timeout=1)
