"""Strict base64url: exactly one spelling of each byte string is accepted."""

from __future__ import annotations

import base64
import binascii

import pytest
from hypothesis import given
from hypothesis import strategies as st

from altx10_helpers import Altx10Error, Base64urlError, b64url_decode, b64url_encode


def test_article_header_encodes_without_the_shells_padding(vectors):
    v = vectors["seed_article_hs256"]
    assert b64url_encode(v["header_bytes"]) == v["token"].split(".")[0]
    assert base64.b64encode(v["header_bytes"].encode()).decode() == v["header_std_base64_with_padding"]


@pytest.mark.parametrize("name", ["seed_article_hs256", "rfc7515_A1_hs256", "jwtio_classic_hs256"])
def test_vector_segments_round_trip(vectors, name):
    for segment in vectors[name]["token"].split("."):
        assert b64url_encode(b64url_decode(segment)) == segment


def test_rfc7515_a1_segments_decode_to_the_exact_bytes(vectors):
    v = vectors["rfc7515_A1_hs256"]
    header, payload, _ = v["token"].split(".")
    assert b64url_decode(header) == v["header_bytes"].encode()
    assert b64url_decode(payload) == v["payload_bytes"].encode()


def test_rfc7515_a1_key_is_64_bytes(vectors):
    assert len(b64url_decode(vectors["rfc7515_A1_hs256"]["jwk"]["k"])) == 64


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("eyJhbGciIDogIkhTMjU2In0=", "padding"),
        ("eyJuYW1lIjoiWm/DqyJ9", "'/'"),
        ("ab+c", "'+'"),
        ("ab c", "whitespace"),
        ("abcd\n", "whitespace"),
        ("ab\tc", "whitespace"),
        ("abc$", "'$'"),
        ("a", "impossible length"),
        ("abcde", "impossible length"),
        ("é", "ASCII"),
        ("ab==", "padding"),
        ("QR", "non-canonical"),
    ],
)
def test_malformed_input_names_the_problem(text, fragment):
    with pytest.raises(Base64urlError) as info:
        b64url_decode(text)
    assert fragment in str(info.value)
    assert isinstance(info.value, Altx10Error)
    assert not isinstance(info.value, binascii.Error)


@pytest.mark.parametrize("bad", [None, 42, 3.5, ["abc"], {"a": 1}])
def test_non_text_input_is_our_error(bad):
    with pytest.raises(Base64urlError, match="must be str or bytes"):
        b64url_decode(bad)


def test_empty_string_is_empty_bytes():
    assert b64url_decode("") == b""
    assert b64url_encode(b"") == ""


def test_bytes_input_is_accepted():
    assert b64url_decode(b"eyJhYmMiIDogIjEyMyJ9") == b'{"abc" : "123"}'


def test_encode_refuses_non_bytes():
    with pytest.raises(TypeError):
        b64url_encode(123)  # type: ignore[arg-type]


@given(st.binary(max_size=200))
def test_round_trip_and_alphabet(data):
    text = b64url_encode(data)
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert b64url_decode(text) == data


@given(st.text(max_size=40))
def test_arbitrary_text_decodes_or_raises_our_error(text):
    try:
        out = b64url_decode(text)
    except Base64urlError:
        return
    assert b64url_encode(out) == text
