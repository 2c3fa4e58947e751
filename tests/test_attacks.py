"""The attack lab's forgeries: each one is a real forgery (a naive verifier would accept it) and ours refuses it."""

from __future__ import annotations

import hmac

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from altx10_helpers import (
    JWK,
    JWKS,
    BadSignature,
    ConfigurationError,
    CrackResult,
    DisallowedAlgorithm,
    InvalidKey,
    KeyMismatch,
    KeySet,
    MalformedToken,
    WrongAudience,
    WrongType,
    alg_confusion,
    alg_none,
    crack_hmac,
    decode_unverified,
    jku_injection,
    jwk_header_injection,
    kid_injection,
    load_wordlist,
    psychic_signature,
    sign,
    split_token,
    tamper_claims,
    verify,
)

NOW = 1_760_000_000
CLAIMS = {"iss": "https://id.altx10.dev", "sub": "u-1", "aud": "notes", "exp": NOW + 600}
ADMIN = {**CLAIMS, "sub": "admin", "groups": ["admins"]}
SECRET = b"a long random server secret, 32+ bytes"


@pytest.fixture(scope="module")
def server_key(vectors):
    return JWK.from_dict(vectors["rfc7515_A2_rs256"]["jwk_private"], allow_private=True).key


def test_the_wordlist_is_a_few_hundred_distinct_common_passwords():
    words = load_wordlist()
    assert 200 <= len(words) <= 1000
    assert len(set(words)) == len(words)
    assert "SUPER_SECRET_PW" in words and "123456" in words and "your-256-bit-secret" in words
    assert all(w == w.strip() and w for w in words)


def test_the_article_secret_is_cracked_from_the_shipped_list(vectors):
    times = iter([10.0, 10.25])
    result = crack_hmac(vectors["seed_article_hs256"]["token"], timer=lambda: next(times))
    assert result == CrackResult("SUPER_SECRET_PW", load_wordlist().index("SUPER_SECRET_PW") + 1, 0.25)


def test_jwt_io_default_secret_is_cracked_too(vectors):
    assert crack_hmac(vectors["jwtio_classic_hs256"]["token"]).secret == "your-256-bit-secret"


def test_a_long_random_secret_survives_the_list():
    result = crack_hmac(sign(CLAIMS, SECRET, "HS256"))
    assert result.secret is None and result.tried == len(load_wordlist()) and result.seconds >= 0
    assert crack_hmac(sign(CLAIMS, SECRET * 2, "HS384"), [b"nope", (SECRET * 2).decode()]).tried == 2
    assert crack_hmac(sign(CLAIMS, SECRET * 2, "HS512"), [b"x", SECRET * 2]).secret == (SECRET * 2).decode()


def test_only_hmac_tokens_can_be_cracked(server_key):
    with pytest.raises(MalformedToken, match="only HMAC tokens"):
        crack_hmac(sign(CLAIMS, server_key, "RS256"), ["a"])


@pytest.mark.parametrize("casing", ["none", "None", "NONE", "nOnE"])
def test_alg_none_forgery(casing):
    genuine = sign(CLAIMS, SECRET, "HS256")
    forged = alg_none(tamper_claims(genuine, sub="admin"), casing)
    header, claims = decode_unverified(forged)  # what a decode-only app sees
    assert header == {"alg": casing, "typ": "JWT"} and claims["sub"] == "admin" and forged.endswith(".")
    with pytest.raises(MalformedToken, match="signature segment is empty"):
        verify(forged, SECRET, ["HS256"], now=NOW, audience="notes")
    with pytest.raises(DisallowedAlgorithm, match="never accepted"):
        verify(alg_none(forged, casing, signature=b"\x00"), SECRET, ["HS256"], now=NOW, audience="notes")


def test_tampered_claims_keep_the_old_signature():
    genuine = sign(CLAIMS, SECRET, "HS256")
    forged = tamper_claims(genuine, sub="admin", exp=None, groups=["admins"])
    assert forged.split(".")[0] == genuine.split(".")[0] and forged.split(".")[2] == genuine.split(".")[2]
    claims = decode_unverified(forged)[1]
    assert claims["sub"] == "admin" and "exp" not in claims and claims["groups"] == ["admins"]
    with pytest.raises(BadSignature):
        verify(forged, SECRET, ["HS256"], now=NOW, audience="notes")


@pytest.mark.parametrize("make_key", [
    lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    lambda: ec.generate_private_key(ec.SECP256R1()),
    lambda: ed25519.Ed25519PrivateKey.generate(),
])
def test_jwk_header_injection(make_key, server_key):
    attacker = make_key()
    forged = jwk_header_injection(ADMIN, attacker)
    parts = split_token(forged)
    embedded = JWK.from_dict(parts.header["jwk"])
    alg = parts.header["alg"]
    assert verify(forged, embedded, [alg], now=NOW, audience="notes")["sub"] == "admin"  # the naive verifier's view
    with pytest.raises(BadSignature if alg == "RS256" else DisallowedAlgorithm):
        verify(forged, server_key.public_key(), ["RS256"], now=NOW, audience="notes")


def test_jku_injection_never_makes_us_fetch(server_key):
    attacker = ec.generate_private_key(ec.SECP256R1())
    url = "https://evil.example/.well-known/jwks.json"
    forged = jku_injection(ADMIN, attacker, url)
    header = split_token(forged).header
    assert header["jku"] == url and header["kid"] == JWK.from_key(attacker).thumbprint()
    fetched: list[str] = []
    ours = KeySet("https://id.altx10.dev/jwks", fetch=lambda u: fetched.append(u) or {
        "keys": [JWK.from_key(server_key.public_key(), kid="idp-1").to_dict()]})
    with pytest.raises(BadSignature, match="no key with kid"):
        verify(forged, ours, ["RS256", "ES256"], now=NOW, audience="notes")
    assert fetched == ["https://id.altx10.dev/jwks"] * ours.fetch_count and url not in fetched


@pytest.mark.parametrize("kid", ["../../../../../dev/null", "x' UNION SELECT 'attacker-key' --", "/proc/self/environ"])
def test_kid_injection(kid, server_key):
    forged = kid_injection(ADMIN, kid, b"")
    parts = split_token(forged)
    assert parts.header["kid"] == kid
    assert hmac.compare_digest(hmac.digest(b"", parts.signing_input, "sha256"), parts.signature)  # /dev/null's key
    with pytest.raises(BadSignature):
        verify(forged, SECRET, ["HS256"], now=NOW, audience="notes")
    ours = JWKS([JWK.from_key(server_key.public_key(), kid="idp-1")])
    with pytest.raises(DisallowedAlgorithm):
        verify(forged, ours, ["RS256"], now=NOW, audience="notes")
    with pytest.raises(BadSignature, match="no key with kid"):
        verify(forged, ours, ["RS256", "HS256"], now=NOW, audience="notes")
    sql = kid_injection(ADMIN, kid, "attacker-key")
    assert hmac.compare_digest(hmac.digest(b"attacker-key", split_token(sql).signing_input, "sha256"),
                               split_token(sql).signature)


def test_rs256_to_hs256_confusion(server_key):
    public = server_key.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for pem_form in (pem, pem.decode()):
        forged = alg_confusion(ADMIN, pem_form)
        parts = split_token(forged)
        assert parts.header["alg"] == "HS256"
        assert hmac.compare_digest(hmac.digest(pem, parts.signing_input, "sha256"), parts.signature)
        with pytest.raises(DisallowedAlgorithm, match="'HS256' is not in the allowed algorithms \\['RS256'\\]"):
            verify(forged, public, ["RS256"], now=NOW, audience="notes")
        with pytest.raises(KeyMismatch, match="HS256 needs an HMAC secret"):
            verify(forged, public, ["RS256", "HS256"], now=NOW, audience="notes")
        with pytest.raises(KeyMismatch, match="never an HMAC secret"):
            verify(forged, pem_form, ["RS256", "HS256"], now=NOW, audience="notes")


@pytest.mark.parametrize(("alg", "size", "curve"), [("ES256", 64, ec.SECP256R1()), ("ES384", 96, ec.SECP384R1()),
                                                    ("ES512", 132, ec.SECP521R1())])
def test_psychic_signature(alg, size, curve):
    forged = psychic_signature(ADMIN, alg)
    assert split_token(forged).signature == bytes(size)
    with pytest.raises(BadSignature, match="r = 0 or s = 0"):
        verify(forged, ec.generate_private_key(curve).public_key(), [alg], now=NOW, audience="notes")
    with pytest.raises(ConfigurationError):
        psychic_signature(ADMIN, "RS256")


def test_token_substitution_another_audience_or_another_type():
    for_photos = sign({**CLAIMS, "aud": "photos"}, SECRET, "HS256")
    with pytest.raises(WrongAudience):
        verify(for_photos, SECRET, ["HS256"], now=NOW, audience="notes")
    access_token = sign(CLAIMS, SECRET, "HS256", headers={"typ": "at+jwt"})
    with pytest.raises(WrongType, match="'at\\+jwt' is not 'JWT'"):
        verify(access_token, SECRET, ["HS256"], now=NOW, audience="notes", typ="JWT")


def test_attacker_keys_must_be_private_asymmetric_keys():
    with pytest.raises(InvalidKey):
        jwk_header_injection(ADMIN, b"secret")
    with pytest.raises(MalformedToken):
        tamper_claims("not-a-token", sub="x")
