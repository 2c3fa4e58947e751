"""The JWT debugger widget, driven by setting its widget values (no browser)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization

from altx10_helpers import JWK, ConfigurationError, JwtDebugger, sign, split_token
from altx10_helpers.demo import demo_key
from altx10_helpers.widgets import inspect_token, parse_key

ARTICLE_TOKEN = "eyJhbGciIDogIkhTMjU2In0.eyJhYmMiIDogIjEyMyJ9.kbCDwKHU1Sx1EzMCo8PXEnRERFvKQETu7Za0ELdSoyg"
NOW = 1_767_225_600
SECRET = b"a demo secret that is at least 32 bytes long"


def _token(**extra):
    return sign({"sub": "tom", "exp": NOW + 60, **extra}, SECRET, "HS256")


def _rsa_pems():
    key = demo_key("rs256")
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return key, private, public


def test_article_token_needs_the_weak_key_opt_in():
    dbg = JwtDebugger(ARTICLE_TOKEN, key="SUPER_SECRET_PW", algorithms=["HS256"])
    assert dbg.report.error == "WeakKey"
    assert "WeakKey" in dbg.status.value
    assert json.loads(dbg.header_box.value) == {"alg": "HS256"}
    assert json.loads(dbg.payload_box.value) == {"abc": "123"}
    dbg.weak_box.value = True
    assert dbg.report.ok, dbg.report.reason
    assert dbg.report.claims == {"abc": "123"}
    assert "✔" in dbg.status.value


def test_wrong_secret_names_bad_signature():
    dbg = JwtDebugger(_token(), key=SECRET, algorithms=["HS256"], now=NOW)
    assert dbg.report.ok
    dbg.key_box.value = "another secret, also at least 32 bytes"
    assert dbg.report.error == "BadSignature"
    assert "BadSignature" in dbg.status.value


def test_editing_the_payload_keeps_the_old_signature_and_fails():
    token = _token(admin=False)
    dbg = JwtDebugger(token, key=SECRET, algorithms=["HS256"], now=NOW)
    edited = json.loads(dbg.payload_box.value) | {"admin": True}
    dbg.payload_box.value = json.dumps(edited)
    new = dbg.token_box.value
    assert new != token
    assert new.split(".")[0] == token.split(".")[0] and new.split(".")[2] == token.split(".")[2]
    assert split_token(new).claims()["admin"] is True
    assert dbg.report.error == "BadSignature"


def test_resign_makes_the_edited_token_verify():
    dbg = JwtDebugger(_token(admin=False), key=SECRET, algorithms=["HS256"], now=NOW)
    dbg.payload_box.value = json.dumps({"sub": "tom", "exp": NOW + 60, "admin": True})
    assert not dbg.report.ok
    dbg.resign_button.click()
    assert dbg.report.ok, dbg.report.reason
    assert dbg.report.claims["admin"] is True
    assert split_token(dbg.token_box.value).header == {"alg": "HS256", "typ": "JWT"}


def test_resign_keeps_a_header_without_typ():
    dbg = JwtDebugger(ARTICLE_TOKEN, key="SUPER_SECRET_PW", algorithms=["HS256"], allow_weak_key=True)
    dbg.payload_box.value = '{"abc": "124"}'
    assert dbg.report.error == "BadSignature"
    dbg.resign()
    assert dbg.report.ok
    assert split_token(dbg.token_box.value).header == {"alg": "HS256"}


def test_the_algorithm_comes_from_the_dropdown_not_the_token():
    dbg = JwtDebugger(_token(), key=SECRET, algorithms=["HS512", "HS256"], now=NOW)
    assert dbg.alg_box.value == "HS512"
    assert dbg.report.error == "DisallowedAlgorithm"
    dbg.alg_box.value = "HS256"
    assert dbg.report.ok


def test_frozen_clock_decides_expiry():
    dbg = JwtDebugger(_token(), key=SECRET, algorithms=["HS256"], now=NOW + 59)
    assert dbg.report.ok
    dbg.now = NOW + 60
    dbg.refresh()
    assert dbg.report.error == "Expired"


@pytest.mark.parametrize("token", [123, None, b"abc.def.ghi", ["a"]])
def test_non_string_token_is_a_message_not_an_exception(token):
    dbg = JwtDebugger(token, key=SECRET, algorithms=["HS256"])
    assert not dbg.report.ok
    assert f"token must be a string, got {type(token).__name__}" in dbg.status.value
    assert dbg.token_box.value == ""


def test_empty_and_malformed_tokens():
    dbg = JwtDebugger("", key=SECRET, algorithms=["HS256"])
    assert dbg.report.reason == "paste a token"
    dbg.token_box.value = "not.a-token"
    assert dbg.report.error == "MalformedToken"
    assert dbg.header_box.value == "" and dbg.payload_box.value == ""
    dbg.token_box.value = "  " + _token() + "\n"
    assert dbg.report.ok or dbg.report.error == "Expired"  # whitespace around a paste is ignored


@pytest.mark.parametrize("key", [
    "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----",
    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
    "{not json",
    '{"kty": "RSA", "n": "!!"}',
    '{"kty": "nope"}',
    '{"keys": 3}',
])
def test_garbage_keys_show_invalid_key(key):
    dbg = JwtDebugger(_token(), key=key, algorithms=["RS256"], now=NOW)
    assert not dbg.report.ok
    assert dbg.report.error == "InvalidKey", dbg.report.reason
    assert "InvalidKey" in dbg.status.value


def test_a_text_secret_for_an_rsa_algorithm_is_refused_with_a_reason():
    token = sign({"sub": "tom"}, demo_key("rs256"), "RS256")
    dbg = JwtDebugger(token, key="garbage", algorithms=["RS256"], now=NOW)
    assert dbg.report.error == "KeyMismatch", dbg.report.reason
    assert "RS256 needs an RSA key" in dbg.report.message


def test_unsupported_key_object_is_a_message():
    dbg = JwtDebugger(_token(), key=object(), algorithms=["HS256"], now=NOW)
    assert "InvalidKey: unsupported key type object" in dbg.status.value


def test_empty_key_asks_for_one():
    dbg = JwtDebugger(_token(), algorithms=["HS256"], now=NOW)
    assert not dbg.report.ok and "enter the key" in dbg.report.reason
    assert json.loads(dbg.payload_box.value)["sub"] == "tom"


def test_invalid_edited_payload_leaves_the_token_alone():
    token = _token()
    dbg = JwtDebugger(token, key=SECRET, algorithms=["HS256"], now=NOW)
    dbg.payload_box.value = '{"sub": '
    assert dbg.token_box.value == token
    assert dbg.report.error == "MalformedToken"
    dbg.payload_box.value = '["not", "an", "object"]'
    assert dbg.token_box.value == token and "must be a JSON object" in dbg.report.reason


def test_rsa_private_pem_public_pem_and_jwk_all_verify():
    key, private, public = _rsa_pems()
    token = sign({"sub": "tom"}, key, "RS256")
    for text in (private, public, json.dumps(JWK.from_key(key.public_key()).to_dict())):
        assert inspect_token(token, text, "RS256").ok, text[:40]
    dbg = JwtDebugger(token, key=key, algorithms=["RS256"])
    assert dbg.key_box.value.startswith("-----BEGIN PRIVATE KEY-----")
    assert dbg.report.ok


def test_resign_with_a_public_key_explains_instead_of_raising():
    key, _private, public = _rsa_pems()
    dbg = JwtDebugger(sign({"sub": "tom"}, key, "RS256"), key=public, algorithms=["RS256"])
    dbg.payload_box.value = '{"sub": "eve"}'
    token = dbg.token_box.value
    dbg.resign()
    assert dbg.token_box.value == token
    assert not dbg.report.ok and "cannot re-sign" in dbg.report.reason


def test_resign_with_a_garbage_key_explains():
    dbg = JwtDebugger(_token(), key="{broken", algorithms=["HS256"], now=NOW)
    dbg.resign()
    assert "cannot re-sign" in dbg.report.reason and dbg.report.error == "InvalidKey"


def test_binary_secret_is_shown_as_an_oct_jwk_and_verifies():
    secret = bytes(range(200, 232))
    token = sign({"sub": "tom"}, secret, "HS256")
    dbg = JwtDebugger(token, key=secret, algorithms=["HS256"])
    assert json.loads(dbg.key_box.value)["kty"] == "oct"
    assert dbg.report.ok, dbg.report.reason


def test_parse_key_takes_other_text_as_the_secret_exactly():
    assert parse_key("SUPER_SECRET_PW ") == b"SUPER_SECRET_PW "


def test_repr_and_configuration():
    dbg = JwtDebugger(ARTICLE_TOKEN, key="SUPER_SECRET_PW", algorithms=["HS256"], allow_weak_key=True)
    assert repr(dbg) == "JwtDebugger(algorithm='HS256', result='verified')"
    with pytest.raises(ConfigurationError):
        JwtDebugger(ARTICLE_TOKEN, algorithms=[])
