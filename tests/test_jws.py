"""jws.sign / jws.verify: the public vectors, every rejection with a token built for it, and key/alg binding."""

from __future__ import annotations

import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from altx10_helpers import (
    ALGORITHMS,
    JWK,
    JWKS,
    BadSignature,
    ConfigurationError,
    DisallowedAlgorithm,
    Expired,
    InvalidKey,
    InvalidToken,
    KeyMismatch,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    WeakKey,
    WrongAudience,
    WrongIssuer,
    WrongType,
    b64url_decode,
    b64url_encode,
    decode_unverified,
    sign,
    split_token,
    verify,
    verify_payload,
    verify_token,
)
from altx10_helpers import jws as jws_module

SECRET = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"  # 64 bytes: enough for HS512
NOW = 1_760_000_000
CLAIMS = {"iss": "https://id.altx10.dev", "sub": "u-1", "aud": "notes", "iat": NOW, "exp": NOW + 600}


def _b64json(value: object) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")))


def hs256(header_text: str | bytes, payload_text: str | bytes, secret: bytes = SECRET) -> str:
    """A correctly MACed HS256 token over exactly these header and payload bytes (to test what follows)."""
    signing_input = f"{b64url_encode(header_text)}.{b64url_encode(payload_text)}"
    mac = hmac.digest(secret, signing_input.encode(), "sha256")
    return f"{signing_input}.{b64url_encode(mac)}"


@pytest.fixture(scope="module")
def keys(vectors) -> dict:
    """Fixed keys from the RFC vectors, plus P-384/P-521 and a 1024-bit RSA key generated once."""
    return {
        "rsa": JWK.from_dict(vectors["rfc7515_A2_rs256"]["jwk_private"], allow_private=True).key,
        "p256": JWK.from_dict(vectors["rfc7515_A3_es256"]["jwk_private"], allow_private=True).key,
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "p521": ec.generate_private_key(ec.SECP521R1()),
        "ed": JWK.from_dict(vectors["rfc8037_A4_eddsa"]["jwk_private"], allow_private=True).key,
        "rsa1024": rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505 - to be refused
    }


PRIVATE_FOR = {"HS256": "hmac", "HS384": "hmac", "HS512": "hmac", "RS256": "rsa", "RS384": "rsa", "RS512": "rsa",
               "PS256": "rsa", "ES256": "p256", "ES384": "p384", "ES512": "p521", "EdDSA": "ed", "Ed25519": "ed"}


def private_key(keys: dict, alg: str):
    return SECRET if PRIVATE_FOR[alg] == "hmac" else keys[PRIVATE_FOR[alg]]


# --- the public vectors -------------------------------------------------------------------------------------------

def test_rfc7515_a1_verifies_with_a_frozen_clock_and_is_expired_with_the_real_one(vectors):
    v = vectors["rfc7515_A1_hs256"]
    key = JWK.from_dict(v["jwk"], allow_private=True)
    claims = verify(v["token"], key, ["HS256"], now=1300819380 - 60)
    assert claims == {"iss": "joe", "exp": 1300819380, "http://example.com/is_root": True}
    with pytest.raises(Expired, match="exp is 1300819380"):
        verify(v["token"], key, ["HS256"])


def test_article_token_needs_the_loud_opt_in_for_its_15_byte_secret(vectors):
    v = vectors["seed_article_hs256"]
    assert verify(v["token"], v["secret"], ["HS256"], allow_weak_key=True) == {"abc": "123"}
    with pytest.raises(WeakKey, match=r"at least 32 bytes.*has 15"):
        verify(v["token"], v["secret"], ["HS256"])
    with pytest.raises(WeakKey):
        sign({"abc": "123"}, v["secret"], "HS256")


def test_jwt_io_token_verifies_with_its_secret(vectors):
    v = vectors["jwtio_classic_hs256"]
    claims = verify(v["token"], v["secret"], ["HS256"], allow_weak_key=True, now=1516239022)
    assert claims["name"] == "John Doe"


def test_rfc7515_a2_re_signing_gives_the_exact_token(vectors):
    v = vectors["rfc7515_A2_rs256"]
    key = JWK.from_dict(v["jwk_private"], allow_private=True)
    assert sign(v["payload_bytes"].encode(), key, "RS256", headers={"typ": None}) == v["token"]
    assert verify(v["token"], key.public(), ["RS256"], now=1300819000)["iss"] == "joe"


def test_rfc7515_a3_verifies_and_its_raw_signature_is_r_s_not_der(vectors):
    v = vectors["rfc7515_A3_es256"]
    key = JWK.from_dict(v["jwk_private"], allow_private=True)
    assert verify(v["token"], key.public(), ["ES256"], now=1300819000)["iss"] == "joe"
    parts = split_token(v["token"])
    assert len(parts.signature) == 64
    r, s = int.from_bytes(parts.signature[:32], "big"), int.from_bytes(parts.signature[32:], "big")
    der = encode_dss_signature(r, s)
    key.key.public_key().verify(der, parts.signing_input, ec.ECDSA(hashes.SHA256()))  # DER is what cryptography takes
    assert decode_dss_signature(der) == (r, s)
    as_der = f"{parts.header_b64}.{parts.payload_b64}.{b64url_encode(der)}"
    with pytest.raises(BadSignature, match=r"64 bytes of raw R\|\|S, got 7[0-2] \(DER-encoded\?\)"):
        verify(as_der, key.public(), ["ES256"], now=1300819000)
    fresh = sign(v["payload_bytes"].encode(), key, "ES256", headers={"typ": None})
    assert fresh != v["token"]  # ECDSA is randomized
    assert verify(fresh, key, ["ES256"], now=1300819000)["iss"] == "joe"


def test_rfc8037_a4_exact_token_and_thumbprint(vectors):
    v = vectors["rfc8037_A4_eddsa"]
    key = JWK.from_dict(v["jwk_private"], allow_private=True)
    assert sign(v["payload_bytes"].encode(), key, "EdDSA", headers={"typ": None}) == v["token"]
    assert key.thumbprint() == v["jwk_thumbprint"]
    assert verify_payload(v["token"], key.public(), ["EdDSA"]) == b"Example of Ed25519 signing"
    with pytest.raises(MalformedToken, match="payload is not valid JSON"):
        verify(v["token"], key.public(), ["EdDSA"])  # not a claims set


def test_unsecured_rfc7519_token_is_refused(vectors):
    with pytest.raises(MalformedToken, match="signature segment is empty"):
        verify(vectors["rfc7519_6_1_unsecured"]["token"], SECRET, ["HS256"])


# --- sign ---------------------------------------------------------------------------------------------------------

def test_sign_header_order_typ_removal_kid_and_compact_claims():
    token = sign({"b": 1, "a": [1, 2]}, SECRET, "HS256")
    header_b64, payload_b64, _ = token.split(".")
    assert b64url_decode(header_b64) == b'{"alg":"HS256","typ":"JWT"}'
    assert b64url_decode(payload_b64) == b'{"b":1,"a":[1,2]}'
    bare = sign({"a": 1}, SECRET, "HS256", headers={"typ": None, "cty": "x"})
    assert b64url_decode(bare.split(".")[0]) == b'{"alg":"HS256","cty":"x"}'
    with_kid = sign({"a": 1}, JWK.from_key(SECRET, kid="k1"), "HS256")
    assert b64url_decode(with_kid.split(".")[0]) == b'{"alg":"HS256","typ":"JWT","kid":"k1"}'


@pytest.mark.parametrize(("alg", "headers", "fragment"), [
    ("none", None, "never"),
    ("NoNe", None, "never"),
    ("HS257", None, "unknown algorithm"),
    ("HS256", {"alg": "RS256"}, "headers say alg 'RS256'"),
])
def test_sign_refuses_bad_configuration(alg, headers, fragment):
    with pytest.raises(ConfigurationError, match=fragment):
        sign({"a": 1}, SECRET, alg, headers=headers)


def test_sign_refuses_public_keys_and_non_json_claims(keys):
    with pytest.raises(InvalidKey, match="needs a private key"):
        sign({"a": 1}, keys["rsa"].public_key(), "RS256")
    with pytest.raises(ValueError):
        sign({"a": float("nan")}, SECRET, "HS256")
    with pytest.raises(TypeError):
        sign(["not", "a", "mapping"], SECRET, "HS256")


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_every_algorithm_round_trips_and_a_flipped_bit_fails(alg, keys):
    key = private_key(keys, alg)
    token = sign(CLAIMS, key, alg)
    public = key if isinstance(key, bytes) else key.public_key()
    assert verify(token, public, [alg], now=NOW, audience="notes") == CLAIMS
    assert verify(token, key, [alg], now=NOW, audience="notes") == CLAIMS  # a private key verifies as its public
    h, p, s = token.split(".")
    sig = bytearray(b64url_decode(s))
    sig[len(sig) // 2] ^= 0x01
    with pytest.raises(BadSignature, match=f"{alg} signature"):
        verify(f"{h}.{p}.{b64url_encode(bytes(sig))}", public, [alg], now=NOW, audience="notes")
    other = _payload_swap(token, {**CLAIMS, "sub": "admin"})
    with pytest.raises(BadSignature):
        verify(other, public, [alg], now=NOW, audience="notes")


def _payload_swap(token: str, claims: dict) -> str:
    h, _, s = token.split(".")
    return f"{h}.{_b64json(claims)}.{s}"


def test_ed25519_name_is_accepted_only_when_listed(keys):
    token = sign(CLAIMS, keys["ed"], "Ed25519")
    assert verify(token, keys["ed"].public_key(), ["Ed25519"], now=NOW, audience="notes")["sub"] == "u-1"
    with pytest.raises(DisallowedAlgorithm, match="'Ed25519' is not in the allowed algorithms \\['EdDSA'\\]"):
        verify(token, keys["ed"].public_key(), ["EdDSA"], now=NOW, audience="notes")


# --- algorithm configuration --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("algorithms", "fragment"), [
    ([], "must not be empty"),
    ((), "must not be empty"),
    ("HS256", "not a single string"),
    (["none"], "never be an allowed algorithm"),
    (["HS256", "NONE"], "never be an allowed algorithm"),
    (["HS256", "hs256x"], "unknown algorithm 'hs256x'"),
    ([None], "algorithm names are strings"),
    ([["HS256"]], "algorithm names are strings"),
    (None, "list of algorithm names"),
])
def test_algorithm_list_must_be_explicit_and_sane(algorithms, fragment):
    token = sign(CLAIMS, SECRET, "HS256")
    with pytest.raises(ConfigurationError, match=fragment):
        verify(token, SECRET, algorithms, now=NOW, audience="notes")


@pytest.mark.parametrize("casing", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_every_casing_is_refused(casing):
    unsigned = f"{_b64json({'alg': casing})}.{_b64json(CLAIMS)}."
    with pytest.raises(MalformedToken, match="signature segment is empty"):
        verify(unsigned, SECRET, ["HS256"], now=NOW, audience="notes")
    with_garbage = unsigned + "c2ln"
    with pytest.raises(DisallowedAlgorithm, match="unsigned token; it is never accepted"):
        verify(with_garbage, SECRET, ["HS256"], now=NOW, audience="notes")


def test_alg_is_compared_case_sensitively():
    token = hs256('{"alg":"hs256"}', json.dumps(CLAIMS))
    with pytest.raises(DisallowedAlgorithm, match="case-sensitive \\('HS256' is allowed\\)"):
        verify(token, SECRET, ["HS256"], now=NOW, audience="notes")


def test_the_token_cannot_pick_an_algorithm_outside_the_list():
    token = sign(CLAIMS, SECRET, "HS512")
    with pytest.raises(DisallowedAlgorithm, match="'HS512' is not in the allowed algorithms \\['HS256'\\]"):
        verify(token, SECRET, ["HS256"], now=NOW, audience="notes")


# --- structure ----------------------------------------------------------------------------------------------------

GOOD = hs256('{"alg":"HS256"}', '{"sub":"u-1"}')
H, P, S = GOOD.split(".")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
assert len(S) % 4 == 3  # 32 bytes: the last character carries 2 unused bits


@pytest.mark.parametrize(("token", "fragment"), [
    (f"{H}.{P}", "3 dot-separated segments, this has 2"),
    (f"{H}.{P}.{S}.{S}", "this has 4"),
    (f"{H}.{P}.{S}.{S}.{S}", "JWE"),
    (f"{H}.{P}.", "signature segment is empty"),
    (f"{H}=.{P}.{S}", "header segment: padding"),
    (f"{H}.{P}=.{S}", "payload segment: padding"),
    (f"{H}.{P}.{S}=", "signature segment: padding"),
    (f"{H}.{P}.{S[:10]}+{S[11:]}", "'\\+' belongs to standard base64"),
    (f"{H}.{P}.{S[:10]}/{S[11:]}", "'/' belongs to standard base64"),
    (f"{H}.{P} .{S}", "whitespace"),
    (f"{H}.{P}.{S}\n", "whitespace"),
    (f" {GOOD}", "whitespace"),
    (f"{H}.{P[:-1]}é.{S}", "ASCII"),
    (f"{H}.{P}.{S[:-1]}{ALPHABET[ALPHABET.index(S[-1]) | 1]}", "non-canonical"),  # an unused low bit set
    (f"{H}.{P}.{S}AA", "impossible length"),
    (b64url_encode(b'{"alg":"HS256"') + f".{P}.{S}", "header is not valid JSON"),
    (f"{b64url_encode(bytes([0xff, 0xfe]))}.{P}.{S}", "header is not UTF-8"),
    (f"{_b64json(['HS256'])}.{P}.{S}", "header must be a JSON object"),
    (f"{_b64json('HS256')}.{P}.{S}", "header must be a JSON object"),
    (b"a.b.c", "must be a str"),
    (None, "must be a str"),
    ("", "empty"),
])
def test_malformed_tokens_are_refused_with_the_exact_reason(token, fragment):
    with pytest.raises(MalformedToken, match=fragment):
        verify(token, SECRET, ["HS256"])


def test_the_header_cache_never_relaxes_the_checks():
    assert verify(GOOD, SECRET, ["HS256"]) == {"sub": "u-1"}  # the header is now cached
    with pytest.raises(MalformedToken, match="payload segment: padding"):
        verify(f"{H}.{P}=.{S}", SECRET, ["HS256"])
    with pytest.raises(MalformedToken, match="signature segment is empty"):
        verify(f"{H}.{P}.", SECRET, ["HS256"])
    with pytest.raises(BadSignature):
        verify(f"{H}.{_b64json({'sub': 'admin'})}.{S}", SECRET, ["HS256"])


@pytest.mark.parametrize(("header", "payload", "error", "fragment"), [
    ('{"alg":"HS256","alg":"none"}', '{"sub":"u"}', MalformedToken, "header: duplicate member name 'alg'"),
    ('{"alg":"HS256"}', '{"sub":"u","sub":"admin"}', MalformedToken, "payload: duplicate member name 'sub'"),
    ('{"alg":"HS256"}', '["sub"]', MalformedToken, "payload must be a JSON object, got list"),
    ('{"alg":"HS256"}', '"u-1"', MalformedToken, "payload must be a JSON object, got str"),
    ('{"alg":"HS256"}', '{"exp":NaN}', MalformedToken, "NaN is not valid JSON"),
    ('{"alg":"HS256"}', b'{"sub":"\xff"}', MalformedToken, "payload is not UTF-8"),
    ('{"typ":"JWT"}', '{}', MalformedToken, "header has no alg"),
    ('{"alg":["HS256"]}', '{}', MalformedToken, "header alg must be a string"),
    ('{"alg":"HS256","crit":["exp"],"exp":1}', '{}', MalformedToken, "crit lists \\['exp'\\]"),
    ('{"alg":"HS256","b64":false,"crit":["b64"]}', '{}', MalformedToken, "understands no extensions"),
    ('{"alg":"HS256","crit":[]}', '{}', MalformedToken, "crit must be a non-empty array"),
    ('{"alg":"HS256","crit":"b64"}', '{}', MalformedToken, "crit must be a non-empty array"),
    ('{"alg":"HS256","crit":[7]}', '{}', MalformedToken, "crit must be a non-empty array"),
])
def test_correctly_signed_but_malformed_content_is_refused(header, payload, error, fragment):
    with pytest.raises(error, match=fragment):
        verify(hs256(header, payload), SECRET, ["HS256"])


def test_signature_covers_the_exact_bytes_not_the_json_meaning():
    token = hs256('{"alg" : "HS256"}', '{"sub":"u-1"}')
    assert verify(token, SECRET, ["HS256"]) == {"sub": "u-1"}
    respaced = b64url_encode('{"alg":"HS256"}') + "." + token.split(".", 1)[1]
    with pytest.raises(BadSignature):
        verify(respaced, SECRET, ["HS256"])


# --- keys ---------------------------------------------------------------------------------------------------------

def test_hmac_keys_shorter_than_the_hash_are_refused_for_sign_and_verify():
    token = sign(CLAIMS, SECRET, "HS384")
    with pytest.raises(WeakKey, match="HS384 needs a secret of at least 48 bytes"):
        verify(token, SECRET[:47], ["HS384"], now=NOW, audience="notes")
    with pytest.raises(WeakKey, match="HS512 needs a secret of at least 64 bytes"):
        sign(CLAIMS, SECRET[:63], "HS512")
    assert isinstance(WeakKey("x"), InvalidToken)
    weak = sign(CLAIMS, SECRET[:5], "HS256", allow_weak_key=True)
    assert verify(weak, SECRET[:5], ["HS256"], now=NOW, audience="notes", allow_weak_key=True) == CLAIMS


def test_an_empty_secret_is_refused_even_with_the_opt_in():
    forged = hs256('{"alg":"HS256"}', '{"sub":"admin"}', secret=b"")
    with pytest.raises(WeakKey, match="empty"):
        verify(forged, b"", ["HS256"], allow_weak_key=True)
    with pytest.raises(WeakKey, match="empty"):
        verify(forged, "", ["HS256"], allow_weak_key=True)


def test_str_bytes_and_oct_jwk_secrets_agree():
    token = sign(CLAIMS, SECRET.decode(), "HS256")
    for key in (SECRET, SECRET.decode(), bytearray(SECRET), JWK.from_key(SECRET), JWK.from_key(SECRET, alg="HS256")):
        assert verify(token, key, ["HS256"], now=NOW, audience="notes") == CLAIMS


def test_prepared_key_cache_never_mixes_keys_up():
    token = sign(CLAIMS, SECRET, "HS256")
    assert verify(token, SECRET, ["HS256"], now=NOW, audience="notes")
    other = bytes(reversed(SECRET))
    with pytest.raises(BadSignature):
        verify(token, other, ["HS256"], now=NOW, audience="notes")
    mutable = bytearray(SECRET)
    assert verify(token, mutable, ["HS256"], now=NOW, audience="notes")
    mutable[0] ^= 1
    with pytest.raises(BadSignature):
        verify(token, mutable, ["HS256"], now=NOW, audience="notes")


def _pem(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_a_pem_or_ssh_public_key_is_never_an_hmac_secret(keys):
    pem = _pem(keys["rsa"].public_key())
    ssh = keys["ed"].public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    for secret in (pem, pem.decode(), b"\n" + pem, ssh, ssh.decode()):
        forged = hs256('{"alg":"HS256"}', '{"sub":"admin"}', secret=secret if isinstance(secret, bytes)
                       else secret.encode())
        with pytest.raises(KeyMismatch, match="never an HMAC secret"):
            verify(forged, secret, ["HS256", "RS256"])
        with pytest.raises(KeyMismatch):
            sign({"a": 1}, secret, "HS256")


def test_rsa_keys_under_2048_bits_are_refused(keys):
    small = keys["rsa1024"]
    with pytest.raises(WeakKey, match=r"under 2048 bits.*1024"):
        sign(CLAIMS, small, "RS256")
    forged = f"{_b64json({'alg': 'RS256'})}.{_b64json(CLAIMS)}.{b64url_encode(bytes(128))}"
    with pytest.raises(WeakKey, match="1024"):
        verify(forged, small.public_key(), ["RS256"], now=NOW, audience="notes")


def test_rsa_signature_of_the_wrong_length_is_refused(keys):
    token = sign(CLAIMS, keys["rsa"], "RS256")
    h, p, s = token.split(".")
    with pytest.raises(BadSignature, match="must be 256 bytes for this key, got 255"):
        verify(f"{h}.{p}.{b64url_encode(b64url_decode(s)[1:])}", keys["rsa"].public_key(), ["RS256"])


def test_psychic_signature_r_s_zero_is_refused_before_cryptography_sees_it(keys, monkeypatch):
    zero = f"{_b64json({'alg': 'ES256'})}.{_b64json(CLAIMS)}.{b64url_encode(bytes(64))}"

    def never(*_args):
        raise AssertionError("the signature reached cryptography")

    monkeypatch.setattr(jws_module, "encode_dss_signature", never)
    with pytest.raises(BadSignature, match="r = 0 or s = 0"):
        verify(zero, keys["p256"].public_key(), ["ES256"], now=NOW, audience="notes")
    r_only = zero.rsplit(".", 1)[0] + "." + b64url_encode(bytes(31) + b"\x01" + bytes(32))
    with pytest.raises(BadSignature, match="r = 0 or s = 0"):
        verify(r_only, keys["p256"].public_key(), ["ES256"], now=NOW, audience="notes")
    too_big = zero.rsplit(".", 1)[0] + "." + b64url_encode(b"\xff" * 64)
    with pytest.raises(BadSignature, match="not below the curve order"):
        verify(too_big, keys["p256"].public_key(), ["ES256"], now=NOW, audience="notes")


def test_curve_orders_are_right():
    for curve, alg in ((ec.SECP256R1(), "ES256"), (ec.SECP384R1(), "ES384"), (ec.SECP521R1(), "ES512")):
        n = jws_module._ALGS[alg].order
        g = ec.derive_private_key(1, curve).public_key().public_numbers()
        minus_g = ec.derive_private_key(n - 1, curve).public_key().public_numbers()
        assert (minus_g.x, minus_g.y != g.y) == (g.x, True)
        with pytest.raises(ValueError):
            ec.derive_private_key(n, curve)


def test_jwk_alg_and_use_bind_the_key(keys):
    token = sign(CLAIMS, keys["rsa"], "RS384")
    bound = JWK.from_key(keys["rsa"].public_key(), alg="RS256")
    with pytest.raises(KeyMismatch, match="bound to alg 'RS256'"):
        verify(token, bound, ["RS384"], now=NOW, audience="notes")
    enc = JWK.from_key(keys["rsa"].public_key(), use="enc")
    with pytest.raises(KeyMismatch, match="use 'enc'"):
        verify(token, enc, ["RS384"], now=NOW, audience="notes")
    with pytest.raises(KeyMismatch, match="alg 'ES256' needs a EC key"):
        JWK.from_key(keys["rsa"].public_key(), alg="ES256")


# Every key kind against every algorithm: either it fits and verifies, or KeyMismatch says why.
KEY_KINDS = ["hmac", "hmac_jwk", "rsa_private", "rsa_public", "rsa_jwk", "p256_public", "p256_jwk", "p384_public",
             "p521_public", "ed_private", "ed_public", "ed_jwk", "pem_text"]
FAMILY = {"hmac": "hmac", "hmac_jwk": "hmac", "rsa_private": "rsa", "rsa_public": "rsa", "rsa_jwk": "rsa",
          "p256_public": "p256", "p256_jwk": "p256", "p384_public": "p384", "p521_public": "p521",
          "ed_private": "ed", "ed_public": "ed", "ed_jwk": "ed", "pem_text": "pem"}


def _key_of_kind(keys: dict, kind: str):
    return {
        "hmac": SECRET, "hmac_jwk": JWK.from_key(SECRET),
        "rsa_private": keys["rsa"], "rsa_public": keys["rsa"].public_key(),
        "rsa_jwk": JWK.from_key(keys["rsa"].public_key()),
        "p256_public": keys["p256"].public_key(), "p256_jwk": JWK.from_key(keys["p256"].public_key()),
        "p384_public": keys["p384"].public_key(), "p521_public": keys["p521"].public_key(),
        "ed_private": keys["ed"], "ed_public": keys["ed"].public_key(), "ed_jwk": JWK.from_key(keys["ed"].public_key()),
        "pem_text": _pem(keys["rsa"].public_key()).decode(),
    }[kind]


@pytest.mark.parametrize("kind", KEY_KINDS)
@pytest.mark.parametrize("alg", ALGORITHMS)
def test_algorithm_and_key_type_mismatch_for_every_pair(alg, kind, keys):
    token = sign(CLAIMS, private_key(keys, alg), alg)
    key = _key_of_kind(keys, kind)
    if FAMILY[kind] == PRIVATE_FOR[alg]:
        assert verify(token, key, [alg], now=NOW, audience="notes") == CLAIMS
    else:
        with pytest.raises(KeyMismatch):
            verify(token, key, [alg], now=NOW, audience="notes")
        with pytest.raises(KeyMismatch):
            sign(CLAIMS, key, alg)


def test_unsupported_key_objects_are_refused():
    token = sign(CLAIMS, SECRET, "HS256")
    for key in (None, 42, ["secret"]):
        with pytest.raises(KeyMismatch):
            verify(token, key, ["HS256"], now=NOW, audience="notes")


# --- header values are never key sources --------------------------------------------------------------------------

def test_jwk_jku_x5u_x5c_headers_are_ignored_as_key_sources(keys):
    attacker = ec.generate_private_key(ec.SECP256R1())
    ours = keys["p256"].public_key()
    for extra in ({"jwk": JWK.from_key(attacker.public_key()).to_dict()}, {"jku": "https://evil.example/jwks"},
                  {"x5u": "https://evil.example/cert.pem"}, {"x5c": ["MIIBIjANBgkq"]}, {"kid": "attacker"}):
        forged = sign(CLAIMS, attacker, "ES256", headers=extra)
        with pytest.raises(BadSignature, match="ES256 signature does not match"):
            verify(forged, ours, ["ES256"], now=NOW, audience="notes")


def test_kid_only_selects_among_our_keys(keys):
    ours = JWKS([JWK.from_key(keys["p256"].public_key(), kid="k1"), JWK.from_key(keys["ed"].public_key(), kid="k2")])
    good = sign(CLAIMS, JWK.from_key(keys["ed"], kid="k2"), "EdDSA")
    result = verify_token(good, ours, ["EdDSA", "ES256"], now=NOW, audience="notes")
    assert result.key.kid == "k2" and result.header["kid"] == "k2"
    for kid in ("../../../../dev/null", "' OR '1'='1", "/etc/passwd", "k3"):
        forged = hs256(json.dumps({"alg": "HS256", "kid": kid}), json.dumps(CLAIMS), secret=b"")
        with pytest.raises(DisallowedAlgorithm):
            verify(forged, ours, ["EdDSA", "ES256"], now=NOW, audience="notes")
        with pytest.raises(BadSignature, match="no key with kid"):
            verify(forged, ours, ["HS256", "EdDSA"], now=NOW, audience="notes")


def test_without_kid_every_key_allowed_for_the_alg_is_tried(keys):
    other_ec = ec.generate_private_key(ec.SECP256R1())
    ours = JWKS([JWK.from_key(other_ec.public_key()), JWK.from_key(keys["p256"].public_key()),
                 JWK.from_key(keys["ed"].public_key())])
    token = sign(CLAIMS, keys["p256"], "ES256")
    assert verify_token(token, ours, ["ES256"], now=NOW, audience="notes").key == ours.keys[1]
    stranger = sign(CLAIMS, ec.generate_private_key(ec.SECP256R1()), "ES256")
    with pytest.raises(BadSignature, match="none of the 2 keys"):
        verify(stranger, ours, ["ES256"], now=NOW, audience="notes")
    with pytest.raises(DisallowedAlgorithm, match="no key in the key set fits alg RS256"):
        verify(sign(CLAIMS, keys["rsa"], "RS256"), ours, ["RS256"], now=NOW, audience="notes")


# --- claims through verify ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "kwargs", "error", "fragment"), [
    ({"exp": NOW}, {}, Expired, "exp is 1760000000"),
    ({"exp": NOW - 30}, {"leeway": 30}, Expired, "leeway 30"),
    ({"nbf": NOW + 1}, {}, NotYetValid, "nbf is 1760000001"),
    ({"iat": NOW + 120}, {"leeway": 60}, NotYetValid, "issued in the future"),
    ({"iss": "https://evil.example"}, {}, WrongIssuer, "'https://evil.example' is not the expected issuer"),
    ({"iss": None}, {}, MissingClaim, "'iss' is missing"),
    ({"aud": "other-app"}, {}, WrongAudience, "'other-app' is not our audience 'notes'"),
    ({"aud": ["a", "b"]}, {}, WrongAudience, "does not contain our audience"),
    ({"aud": None}, {}, MissingClaim, "'aud' is missing"),
    ({"aud": ["notes", 3]}, {}, MalformedToken, "array of strings"),
    ({"exp": "tomorrow"}, {}, MalformedToken, "'exp' must be a finite number"),
    ({"nbf": True}, {}, MalformedToken, "'nbf' must be a finite number"),
    ({}, {"required": ["jti"]}, MissingClaim, "required claim 'jti' is missing"),
])
def test_every_claim_failure_has_its_own_exception(changes, kwargs, error, fragment):
    claims = {k: v for k, v in {**CLAIMS, **changes}.items() if v is not None}
    token = sign(claims, SECRET, "HS256")
    with pytest.raises(error, match=fragment):
        verify(token, SECRET, ["HS256"], now=NOW, issuer="https://id.altx10.dev", audience="notes",
               **{"leeway": 0, **kwargs})


def test_leeway_and_the_frozen_clock():
    token = sign({**CLAIMS, "exp": NOW, "nbf": NOW + 10}, SECRET, "HS256")
    assert verify(token, SECRET, ["HS256"], now=NOW + 5, leeway=10, audience="notes")
    assert verify(token, SECRET, ["HS256"], now=NOW - 1 + 10, leeway=10, audience="notes")
    with pytest.raises(Expired):
        verify(token, SECRET, ["HS256"], now=NOW + 10, leeway=10, audience="notes")


def test_aud_list_containing_us_passes_and_an_unexpected_aud_is_refused():
    token = sign({**CLAIMS, "aud": ["notes", "photos"]}, SECRET, "HS256")
    assert verify(token, SECRET, ["HS256"], now=NOW, audience="photos")["aud"] == ["notes", "photos"]
    with pytest.raises(WrongAudience, match="no audience"):
        verify(token, SECRET, ["HS256"], now=NOW)


@pytest.mark.parametrize(("header_typ", "expected", "ok"), [
    ("JWT", "JWT", True), ("jwt", "JWT", True), ("application/jwt", "JWT", True),
    ("at+jwt", "application/at+JWT", True), ("at+jwt", "JWT", False), ("JWT", "at+jwt", False),
    (None, "JWT", False), (7, "JWT", False),
])
def test_typ_is_checked_when_asked(header_typ, expected, ok):
    token = sign(CLAIMS, SECRET, "HS256", headers={"typ": header_typ})
    if ok:
        assert verify(token, SECRET, ["HS256"], now=NOW, audience="notes", typ=expected) == CLAIMS
    else:
        with pytest.raises(WrongType, match="typ"):
            verify(token, SECRET, ["HS256"], now=NOW, audience="notes", typ=expected)


def test_verify_token_returns_a_private_copy_of_the_header():
    token = sign(CLAIMS, SECRET, "HS256", headers={"kid": "s1"})
    result = verify_token(token, SECRET, ["HS256"], now=NOW, audience="notes")
    assert result.header == {"alg": "HS256", "typ": "JWT", "kid": "s1"} and result.claims == CLAIMS
    result.header["alg"] = "none"
    assert verify_token(token, SECRET, ["HS256"], now=NOW, audience="notes").header["alg"] == "HS256"
    assert "0123" not in repr(result)


def test_decode_unverified_shows_even_unsigned_tokens_but_stays_strict():
    token = sign(CLAIMS, SECRET, "HS256")
    assert decode_unverified(token) == ({"alg": "HS256", "typ": "JWT"}, CLAIMS)
    unsigned = f"{_b64json({'alg': 'none'})}.{_b64json({'sub': 'admin'})}."
    assert decode_unverified(unsigned) == ({"alg": "none"}, {"sub": "admin"})
    with pytest.raises(MalformedToken, match="padding"):
        decode_unverified(token + "=")


def test_default_clock_is_the_real_time():
    fresh = sign({"exp": time.time() + 60}, SECRET, "HS256")
    assert verify(fresh, SECRET, ["HS256"])
    stale = sign({"exp": time.time() - 1}, SECRET, "HS256")
    with pytest.raises(Expired):
        verify(stale, SECRET, ["HS256"])
