"""Property tests: 10,000+ generated and mutated tokens through ``verify``.

Every outcome is a valid result or an ``InvalidToken`` subclass (nothing else escapes), and a token
whose bytes changed is never accepted unless it was re-signed with the key.
"""

from __future__ import annotations

import hmac
import json

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from altx10_helpers import JWK, JWKS, InvalidToken, b64url_decode, b64url_encode, sign, verify
from altx10_helpers.b64 import Base64urlError
from altx10_helpers.jws import _b64

NOW = 1_760_000_000
SECRET = b"property-test secret, 32+ bytes!"
ED = JWK.from_dict({"kty": "OKP", "crv": "Ed25519", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
                    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}, allow_private=True)
KEYSET = JWKS([JWK.from_key(SECRET, kid="s"), JWK(ED.kty, ED.key, kid="e").public()])
CLAIMS = {"iss": "https://id.altx10.dev", "sub": "u-1", "aud": "notes", "iat": NOW, "exp": NOW + 600}
BASES = [
    sign(CLAIMS, SECRET, "HS256"),
    sign({"sub": "ü-ñ", "n": [1, 2.5, None, True], "exp": NOW + 1}, SECRET, "HS256", headers={"kid": "s"}),
    sign({"sub": "x"}, SECRET, "HS256", headers={"typ": None}),
    sign(CLAIMS, JWK(ED.kty, ED.key, kid="e"), "EdDSA"),
]
# (key, algorithms) pairs a sane caller would configure; every key fits every algorithm it is listed with.
CONFIGS = [(SECRET, ["HS256"]), (SECRET, ["HS256", "HS384", "HS512"]), (KEYSET, ["HS256", "EdDSA", "ES256"])]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
header_values = st.one_of(
    st.sampled_from(["HS256", "hs256", "none", "NONE", "EdDSA", "ES256", "RS256", "JWT", "at+jwt", "s", "e",
                     "../../dev/null", "https://evil.example/jwks"]),
    json_values,
)
claim_sets = st.dictionaries(
    st.sampled_from(["iss", "sub", "aud", "exp", "nbf", "iat", "jti"]),
    st.one_of(st.integers(NOW - 1000, NOW + 1000), st.sampled_from(["notes", "https://id.altx10.dev"]),
              st.lists(st.sampled_from(["notes", "photos", 7]), max_size=2), json_values),
    max_size=5,
)
headers = st.dictionaries(st.sampled_from(["alg", "typ", "kid", "crit", "jwk", "jku", "x5c", "b64", "cty"]),
                          header_values, max_size=4)

# Mutations that keep the original signature: an attacker without the key.
forgeries = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, 10_000)),
    st.tuples(st.just("swap"), st.permutations([0, 1, 2])),
    st.tuples(st.just("graft"), st.integers(0, 2), st.integers(0, len(BASES) - 1)),
    st.tuples(st.just("bytes"), st.integers(0, 10_000), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("unicode"), st.integers(0, 10_000), st.text(min_size=1, max_size=4)),
    st.tuples(st.just("segment"), st.integers(0, 2), st.binary(max_size=48)),
    st.tuples(st.just("header"), headers),
)
# Tokens built with the key: arbitrary headers and payloads, correctly MACed.
signed = st.one_of(
    st.tuples(st.just("signed-header"), headers),
    st.tuples(st.just("signed-payload"), json_values),
    st.tuples(st.just("signed-claims"), claim_sets),
    st.tuples(st.just("signed-bytes"), st.binary(max_size=24)),
)


def _forge(token: str, mutation: tuple) -> str:
    kind = mutation[0]
    segments = token.split(".")
    if kind == "flip":
        raw = bytearray(token.encode("ascii"))
        raw[mutation[1] % len(raw)] ^= 1 << mutation[2]
        return raw.decode("latin-1")
    if kind == "truncate":
        return token[: mutation[1] % len(token)]
    if kind == "swap":
        return ".".join(segments[i] for i in mutation[1])
    if kind == "graft":
        segments[mutation[1]] = BASES[mutation[2]].split(".")[mutation[1]]
        return ".".join(segments)
    if kind in ("bytes", "unicode"):
        at = mutation[1] % (len(token) + 1)
        extra = mutation[2].decode("latin-1") if kind == "bytes" else mutation[2]
        return token[:at] + extra + token[at:]
    if kind == "segment":
        segments[mutation[1]] = b64url_encode(mutation[2])
        return ".".join(segments)
    segments[0] = b64url_encode(json.dumps(mutation[1]))  # "header": new header, old signature
    return ".".join(segments)


def _mac(header: object, payload: bytes) -> str:
    signing_input = f"{b64url_encode(json.dumps(header))}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(hmac.digest(SECRET, signing_input.encode(), 'sha256'))}"


def _signed(mutation: tuple) -> str:
    kind, value = mutation
    if kind == "signed-header":
        return _mac(value, json.dumps(CLAIMS).encode())
    if kind in ("signed-payload", "signed-claims"):
        return _mac({"alg": "HS256"}, json.dumps(value).encode())
    return _mac({"alg": "HS256"}, value)


@settings(max_examples=10_000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(base=st.integers(0, len(BASES) - 1), config=st.integers(0, len(CONFIGS) - 1),
       mutation=st.one_of(forgeries, signed), audience=st.sampled_from([None, "notes"]))
def test_mutated_tokens_are_refused_or_valid_and_nothing_else_escapes(base, config, mutation, audience):
    original = BASES[base]
    forged = not mutation[0].startswith("signed-")
    token = _forge(original, mutation) if forged else _signed(mutation)
    key, algorithms = CONFIGS[config]
    try:
        claims = verify(token, key, algorithms, now=NOW, audience=audience)
    except InvalidToken as exc:
        event(type(exc).__name__)
        return
    event("accepted")
    assert isinstance(claims, dict)
    if forged:
        assert token == original, "a token whose signed bytes changed was accepted"


@settings(max_examples=2_000, deadline=None, database=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= \n.é", max_size=24))
def test_fast_base64url_accepts_exactly_what_the_strict_decoder_accepts(text):
    try:
        expected = b64url_decode(text)
    except Base64urlError:
        expected = None
    try:
        got = _b64(text)
    except ValueError:
        got = None
    assert got == expected
