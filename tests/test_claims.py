"""claims.check_claims / check_type on their own: boundaries, leeway, odd values, the injectable clock."""

from __future__ import annotations

import pytest

from altx10_helpers import (
    ConfigurationError,
    Expired,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    WrongAudience,
    WrongIssuer,
    WrongType,
    check_claims,
    check_type,
)

NOW = 1_000_000


@pytest.mark.parametrize(("claims", "now", "leeway", "error"), [
    ({"exp": NOW + 1}, NOW, 0, None),
    ({"exp": NOW}, NOW, 0, Expired),  # exp is the first instant the token is no longer valid
    ({"exp": NOW}, NOW, 1, None),
    ({"exp": NOW - 1}, NOW, 1, Expired),
    ({"exp": NOW + 0.5}, NOW + 0.25, 0, None),
    ({"nbf": NOW}, NOW, 0, None),
    ({"nbf": NOW + 1}, NOW, 0, NotYetValid),
    ({"nbf": NOW + 1}, NOW, 1, None),
    ({"iat": NOW}, NOW, 0, None),
    ({"iat": NOW + 1}, NOW, 0, NotYetValid),
    ({"iat": NOW + 5}, NOW, 5, None),
    ({"iat": NOW - 10**6}, NOW, 0, None),
])
def test_time_claims_at_their_boundaries(claims, now, leeway, error):
    if error is None:
        assert check_claims(claims, now=now, leeway=leeway) is None
    else:
        with pytest.raises(error):
            check_claims(claims, now=now, leeway=leeway)


@pytest.mark.parametrize("value", ["1300819380", "", True, [1], {"t": 1}, float("inf"), float("nan")])
def test_time_claims_must_be_finite_numbers(value):
    with pytest.raises(MalformedToken, match="'exp' must be a finite number"):
        check_claims({"exp": value}, now=NOW)


def test_huge_integers_are_compared_not_overflowed():
    with pytest.raises(NotYetValid):
        check_claims({"nbf": 10**300}, now=NOW, leeway=1.5)
    assert check_claims({"exp": 10**300}, now=NOW, leeway=1.5) is None
    with pytest.raises(Expired):
        check_claims({"exp": -(10**300)}, now=NOW, leeway=1.5)


def test_issuer_audience_and_required():
    claims = {"iss": "https://id.altx10.dev", "aud": ["notes", "photos"], "sub": "u"}
    check_claims(claims, now=NOW, issuer="https://id.altx10.dev", audience="photos", required=["sub"])
    with pytest.raises(WrongIssuer):
        check_claims(claims, now=NOW, issuer="https://id.altx10.dev/")
    with pytest.raises(WrongAudience):
        check_claims(claims, now=NOW, audience="note")
    with pytest.raises(WrongAudience, match="no audience"):
        check_claims(claims, now=NOW)
    with pytest.raises(MissingClaim, match="'jti'"):
        check_claims(claims, now=NOW, required=["sub", "jti"])
    with pytest.raises(MalformedToken, match="'aud' must be a string or an array of strings"):
        check_claims({"aud": {"notes": True}}, now=NOW, audience="notes")
    check_claims({"aud": []}, now=NOW)  # an empty audience names nobody: nothing to refuse without one


def test_the_default_clock_is_time_time(monkeypatch):
    monkeypatch.setattr("altx10_helpers.claims.time.time", lambda: NOW)
    with pytest.raises(Expired):
        check_claims({"exp": NOW})
    check_claims({"exp": NOW + 1})


def test_negative_leeway_is_a_configuration_error():
    with pytest.raises(ConfigurationError):
        check_claims({}, now=NOW, leeway=-1)


@pytest.mark.parametrize(("typ", "expected", "ok"), [
    ("JWT", "JWT", True), ("JwT", "jwt", True), ("application/JWT", "JWT", True), ("JWT", "application/jwt", True),
    ("secevent+jwt", "application/secevent+jwt", True), ("at+jwt", "JWT", False), ("JWS", "JWT", False),
    ("application/", "JWT", False), (["JWT"], "JWT", False),
])
def test_typ_comparison_follows_rfc7515(typ, expected, ok):
    if ok:
        check_type({"typ": typ}, expected)
    else:
        with pytest.raises(WrongType):
            check_type({"typ": typ}, expected)
    with pytest.raises(WrongType, match="no typ"):
        check_type({}, expected)
