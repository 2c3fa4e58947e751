"""Strict splitting of compact tokens: what a notebook helper does with bad input."""

from __future__ import annotations

import pytest

from altx10_helpers import MalformedToken, split_token
from altx10_helpers.anatomy import MAX_TOKEN_LENGTH, parse_json_object

ARTICLE = "eyJhbGciIDogIkhTMjU2In0.eyJhYmMiIDogIjEyMyJ9.kbCDwKHU1Sx1EzMCo8PXEnRERFvKQETu7Za0ELdSoyg"


def test_article_token_splits_into_its_exact_bytes(vectors):
    v = vectors["seed_article_hs256"]
    parts = split_token(v["token"])
    assert parts.header == {"alg": "HS256"}
    assert parts.payload == v["payload_bytes"].encode()
    assert parts.claims() == {"abc": "123"}
    assert parts.signing_input == b"eyJhbGciIDogIkhTMjU2In0.eyJhYmMiIDogIjEyMyJ9"
    assert len(parts.signature) == 32


@pytest.mark.parametrize(
    ("token", "fragment"),
    [
        (None, "must be a str"),
        (b"a.b.c", "must be a str"),
        (123, "must be a str"),
        ("", "empty"),
        ("abc", "3 dot-separated segments, this has 1"),
        ("a.b.c.d.e", "JWE"),
        (ARTICLE + ".", "this has 4"),
        ("eyJhbGciIDogIkhTMjU2In0=.eyJhYmMiIDogIjEyMyJ9.kbCD", "header segment: padding"),
        (".eyJhYmMiIDogIjEyMyJ9.kbCD", "header segment is empty"),
        ("eyJhbGciIDogIkhTMjU2In0.eyJhYmMiIDogIjEyMyJ9.", "signature segment is empty"),
        ("bm90IGpzb24.e30.c2ln", "header is not valid JSON"),
        ("WzFd.e30.c2ln", "header must be a JSON object"),
        ("_w.e30.c2ln", "header is not UTF-8"),
        ("eyJhIjoxLCJhIjoyfQ.e30.c2ln", "duplicate member name 'a'"),
        ("eyJhIjpOYU59.e30.c2ln", "NaN is not valid JSON"),
        ("x" * (MAX_TOKEN_LENGTH + 1), "limit"),
    ],
)
def test_malformed_tokens_are_refused_with_a_reason(token, fragment):
    with pytest.raises(MalformedToken) as info:
        split_token(token)
    assert fragment in str(info.value)


def test_payload_duplicates_are_refused_when_parsed_as_claims():
    parts = split_token("e30.eyJzdWIiOiJhIiwic3ViIjoiYiJ9.c2ln")
    with pytest.raises(MalformedToken, match="payload: duplicate member name 'sub'"):
        parts.claims()


def test_deeply_nested_json_is_a_clean_error():
    with pytest.raises(MalformedToken):
        parse_json_object(b"[" * 100_000, "payload")
