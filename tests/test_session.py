"""The app's own session JWT, signed state and the jti deny-list (altx10_helpers.session)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from altx10_helpers import (
    BadSignature,
    ConfigurationError,
    DenyList,
    DisallowedAlgorithm,
    Expired,
    InvalidToken,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    OidcError,
    RandomSecretWarning,
    RevokedToken,
    SessionSigner,
    Settings,
    UserInfo,
    UserSession,
    WeakKey,
    WrongAudience,
    WrongIssuer,
    b64url_decode,
    b64url_encode,
    create_token,
    sign_state,
    split_token,
    validate_signed_state,
    validate_token,
)
from altx10_helpers.jws import sign
from altx10_helpers.session import app_origin

NOW = 1_700_000_000
SECRET = bytes(range(64))  # 64 bytes: enough for HS256 and HS512
USERINFO = {
    "sub": "3f1c8d2e-5b7a-4c1e-9f3d-2a6b8c0d4e5f",
    "email": "ada@altx10.dev",
    "name": "Ada Lovelace",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "picture": "https://altx10.dev/ada.png",
    "email_verified": True,
    "groups": ["admins", "writers"],
    "preferred_username": "ada",  # not part of the author's shape: dropped
}


def token_at(now: float = NOW, **kwargs) -> str:
    kwargs.setdefault("secret", SECRET)
    kwargs.setdefault("jti", "jti-1")
    return create_token(USERINFO, now=now, lifetime=3600, **kwargs)


def resign(header: dict, payload: bytes | dict, secret: bytes = SECRET, alg: str = "HS256") -> str:
    """A correctly signed token with a hand-made header/payload (what an insider with the secret could mint)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64url_encode(json.dumps(header))}.{b64url_encode(body)}"
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    return f"{signing_input}.{b64url_encode(hmac.new(secret, signing_input.encode(), digest).digest())}"


# --- session tokens --------------------------------------------------------------------------------------------


def test_token_has_the_authors_shape_and_round_trips():
    token = token_at()
    parts = split_token(token)
    assert parts.header == {"alg": "HS256", "typ": "JWT"}
    assert parts.claims() == {
        "sub": USERINFO["sub"], "exp": NOW + 3600, "iat": NOW,
        "userInfo": {k: v for k, v in USERINFO.items() if k != "preferred_username"},
        "dynamic": {}, "jti": "jti-1",
    }
    session = validate_token(token, secret=SECRET, now=NOW + 10)
    assert session.sub == USERINFO["sub"]
    assert session.userInfo.email == "ada@altx10.dev"
    assert session.userInfo.groups == ("admins", "writers")
    assert session.userInfo.email_verified is True
    assert (session.iat, session.exp, session.jti) == (NOW, NOW + 3600, "jti-1")


def test_hs512_when_configured():
    token = token_at(alg="HS512")
    assert split_token(token).header["alg"] == "HS512"
    assert len(split_token(token).signature) == 64
    assert validate_token(token, secret=SECRET, alg="HS512", now=NOW).sub == USERINFO["sub"]


def test_missing_userinfo_fields_are_left_out_and_dynamic_round_trips():
    token = create_token({"sub": "u1"}, secret=SECRET, now=NOW, jti="j", dynamic={"theme": "dark", "n": [1, 2]})
    assert split_token(token).claims()["userInfo"] == {"sub": "u1"}
    session = validate_token(token, secret=SECRET, now=NOW)
    assert session.userInfo == UserInfo(sub="u1")
    assert session.dynamic == {"theme": "dark", "n": [1, 2]}


def test_a_usersession_is_signed_as_it_is():
    session = UserSession(sub="u1", exp=NOW + 5, iat=NOW - 5, userInfo=UserInfo(sub="u1"), dynamic={"a": 1}, jti="x")
    token = create_token(session, secret=SECRET)
    assert validate_token(token, secret=SECRET, now=NOW) == session
    assert UserSession.from_claims(session.to_claims()) == session


def test_jti_is_random_128_bits_unless_pinned():
    first, second = (split_token(create_token(USERINFO, secret=SECRET, now=NOW)).claims()["jti"] for _ in "ab")
    assert first != second
    assert len(b64url_decode(first)) == 16
    pinned = create_token(USERINFO, secret=SECRET, now=NOW, random_bytes=lambda n: b"\x07" * n)
    assert split_token(pinned).claims()["jti"] == b64url_encode(b"\x07" * 16)


@pytest.mark.parametrize("lifetime", [0, -1, 1.5, "3600", True])
def test_lifetime_must_be_positive_whole_seconds(lifetime):
    with pytest.raises(ConfigurationError):
        create_token(USERINFO, secret=SECRET, lifetime=lifetime)


@pytest.mark.parametrize(("offset", "leeway", "error"), [
    (0, 0, None),                # now == iat: valid
    (-1, 0, NotYetValid),        # one second before iat
    (3599, 0, None),             # one second before exp
    (3600, 0, Expired),          # now == exp: expired (iat <= now < exp)
    (-30, 30, None),             # leeway widens both ends
    (-31, 30, NotYetValid),
    (3629, 30, None),
    (3630, 30, Expired),
])
def test_iat_le_now_lt_exp_with_leeway(offset, leeway, error):
    token = token_at()
    if error is None:
        assert validate_token(token, secret=SECRET, now=NOW + offset, leeway=leeway).sub == USERINFO["sub"]
    else:
        with pytest.raises(error):
            validate_token(token, secret=SECRET, now=NOW + offset, leeway=leeway)


def test_default_leeway_is_thirty_seconds_and_the_clock_defaults_to_now():
    with pytest.raises(Expired):
        validate_token(token_at(), secret=SECRET)  # minted in 2023, an hour long
    assert validate_token(token_at(now=NOW), secret=SECRET, now=NOW + 3600 + 29).jti == "jti-1"


def test_tampered_claims_are_refused():
    header, payload, signature = token_at().split(".")
    claims = json.loads(b64url_decode(payload))
    claims["userInfo"]["groups"] = ["admins", "root"]
    forged = f"{header}.{b64url_encode(json.dumps(claims))}.{signature}"
    with pytest.raises(BadSignature):
        validate_token(forged, secret=SECRET, now=NOW)


def test_tampered_signature_and_wrong_secret_are_refused():
    token = token_at()
    header, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    with pytest.raises(BadSignature):
        validate_token(f"{header}.{payload}.{flipped}", secret=SECRET, now=NOW)
    with pytest.raises(BadSignature):
        validate_token(token, secret=bytes(reversed(SECRET)), now=NOW)


def test_algorithm_comes_from_configuration_not_from_the_token():
    hs512 = token_at(alg="HS512")
    with pytest.raises(DisallowedAlgorithm):
        validate_token(hs512, secret=SECRET, alg="HS256", now=NOW)
    with pytest.raises(DisallowedAlgorithm):
        validate_token(token_at(alg="HS256"), secret=SECRET, alg="HS512", now=NOW)


def test_an_rs256_token_is_refused():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"sub": "u1", "iat": NOW, "exp": NOW + 60, "userInfo": {"sub": "u1"}, "dynamic": {}}
    with pytest.raises(DisallowedAlgorithm):
        validate_token(sign(claims, key, "RS256"), secret=SECRET, now=NOW)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused_with_or_without_a_signature(alg):
    payload = token_at().split(".")[1]
    header = b64url_encode(json.dumps({"alg": alg, "typ": "JWT"}))
    with pytest.raises(MalformedToken):
        validate_token(f"{header}.{payload}.", secret=SECRET, now=NOW)
    with pytest.raises(DisallowedAlgorithm):
        validate_token(f"{header}.{payload}.{b64url_encode(b'sig')}", secret=SECRET, now=NOW)


@pytest.mark.parametrize(("secret", "alg"), [(b"x" * 31, "HS256"), ("s" * 31, "HS256"), (b"x" * 63, "HS512"),
                                             (b"", "HS256")])
def test_secrets_shorter_than_the_hash_are_refused(secret, alg):
    with pytest.raises(WeakKey, match="at least"):
        create_token(USERINFO, secret=secret, alg=alg)
    with pytest.raises(WeakKey):
        validate_token(token_at(), secret=secret, alg=alg, now=NOW)


def test_a_str_secret_is_its_utf8_bytes():
    text = "correct horse battery staple, stapled twice!!"
    token = create_token(USERINFO, secret=text, now=NOW)
    assert validate_token(token, secret=text.encode(), now=NOW).sub == USERINFO["sub"]


@pytest.mark.parametrize("alg", ["RS256", "none", "hs256", "", "HS384"])
def test_only_hs256_and_hs512_can_be_configured(alg):
    with pytest.raises(ConfigurationError, match="HS256 or HS512"):
        create_token(USERINFO, secret=SECRET, alg=alg)
    with pytest.raises(ConfigurationError):
        validate_token(token_at(), secret=SECRET, alg=alg, now=NOW)


DUPLICATE_ALG = b64url_encode(b'{"alg":"HS256","alg":"none"}')
GOOD_CLAIMS = {"sub": "u1", "exp": NOW + 60, "iat": NOW, "userInfo": {"sub": "u1"}, "dynamic": {}}
HEADER = {"alg": "HS256", "typ": "JWT"}

MALFORMED = {
    "empty": "",
    "one segment": "abc",
    "two segments": "abc.def",
    "four segments": "a.b.c.d",
    "JWE-like five segments": "a.b.c.d.e",
    "padding": token_at().replace(".", "=.", 1),
    "whitespace": token_at().replace(".", " .", 1),
    "non-ASCII": token_at() + "é",
    "standard base64": token_at()[:-2] + "+/",
    "header not JSON": f"{b64url_encode(b'{alg')}.{b64url_encode(b'{}')}.{b64url_encode(b'sig')}",
    "header a JSON array": f"{b64url_encode(b'[]')}.{b64url_encode(b'{}')}.{b64url_encode(b'sig')}",
    "duplicate header member": f"{DUPLICATE_ALG}.e30.{b64url_encode(b's')}",
    "over 100,000 characters": "a" * 50_001 + "." + "b" * 50_001 + ".c",
    "signed, payload not JSON": resign(HEADER, b"not json"),
    "signed, payload a JSON array": resign(HEADER, b"[1,2]"),
    "signed, payload with NaN": resign(HEADER, b'{"sub":"u1","exp":NaN}'),
    "signed, exp a string": resign(HEADER, {**GOOD_CLAIMS, "exp": "tomorrow"}),
    "signed, exp a float": resign(HEADER, {**GOOD_CLAIMS, "exp": NOW + 60.5}),
    "signed, sub a number": resign(HEADER, {**GOOD_CLAIMS, "sub": 42}),
    "signed, userInfo a string": resign(HEADER, {**GOOD_CLAIMS, "userInfo": "u1"}),
    "signed, userInfo.sub differs": resign(HEADER, {**GOOD_CLAIMS, "userInfo": {"sub": "u2"}}),
    "signed, groups a string": resign(HEADER, {**GOOD_CLAIMS, "userInfo": {"sub": "u1", "groups": "admins"}}),
    "signed, email_verified a string": resign(HEADER, {**GOOD_CLAIMS,
                                                       "userInfo": {"sub": "u1", "email_verified": "true"}}),
    "signed, dynamic a list": resign(HEADER, {**GOOD_CLAIMS, "dynamic": [1]}),
    "signed, jti empty": resign(HEADER, {**GOOD_CLAIMS, "jti": ""}),
    "signed, exp astronomically large": resign(HEADER, {**GOOD_CLAIMS, "exp": 10**400}),
    "signed, iat negative": resign(HEADER, {**GOOD_CLAIMS, "iat": -1}),
}


@pytest.mark.parametrize("token", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_tokens_raise_malformed_token(token):
    with pytest.raises(MalformedToken):
        validate_token(token, secret=SECRET, now=NOW)


@pytest.mark.parametrize("token", [None, b"a.b.c", 123, ["a", "b", "c"]])
def test_non_strings_raise_malformed_token(token):
    with pytest.raises(MalformedToken):
        validate_token(token, secret=SECRET, now=NOW)


@pytest.mark.parametrize("missing", ["sub", "exp", "iat", "userInfo"])
def test_missing_claims_raise_missing_claim(missing):
    claims = {k: v for k, v in GOOD_CLAIMS.items() if k != missing}
    with pytest.raises(MissingClaim):
        validate_token(resign(HEADER, claims), secret=SECRET, now=NOW)


def test_the_well_formed_control_token_passes():
    """The hand-signed tokens above fail for their one defect, not because resign() is wrong."""
    assert validate_token(resign(HEADER, GOOD_CLAIMS), secret=SECRET, now=NOW).sub == "u1"
    assert validate_token(resign({"alg": "HS512"}, GOOD_CLAIMS, alg="HS512"), secret=SECRET, alg="HS512",
                          now=NOW).sub == "u1"


@pytest.mark.parametrize("userinfo", [{}, {"sub": ""}, {"sub": 7}, {"sub": "u", "email": 1},
                                      {"sub": "u", "email_verified": "yes"}, {"sub": "u", "groups": [1]}, "u"])
def test_bad_userinfo_from_the_provider_is_an_oidc_error(userinfo):
    with pytest.raises(OidcError) as info:
        create_token(userinfo, secret=SECRET)
    assert info.value.step == "userinfo"


def test_every_refusal_is_an_invalid_token():
    for exc in (MalformedToken, BadSignature, DisallowedAlgorithm, Expired, NotYetValid, MissingClaim, RevokedToken,
                WeakKey):
        assert issubclass(exc, InvalidToken)


def test_is_valid_mirrors_the_authors_is_valid():
    session = UserSession.new(USERINFO, lifetime=60, now=NOW, jti="j")
    assert session.is_valid(now=NOW, leeway=0)
    assert not session.is_valid(now=NOW + 60, leeway=0)
    assert not session.is_valid(now=NOW - 1, leeway=0)


# --- which app a token is for: iss and aud ------------------------------------------------------------------------

NOTES, PHOTOS = "https://notes.altx10.dev", "https://photos.altx10.dev"


def test_a_signer_with_an_app_id_adds_iss_and_aud_to_the_authors_shape():
    token = SessionSigner(secret=SECRET, app_id=NOTES).create_token(USERINFO, now=NOW, jti="j")
    claims = split_token(token).claims()
    assert list(claims) == ["sub", "exp", "iat", "userInfo", "dynamic", "jti", "iss", "aud"]
    assert claims["iss"] == claims["aud"] == NOTES


def test_a_token_from_another_app_is_refused_even_with_the_same_secret():
    notes, photos = SessionSigner(secret=SECRET, app_id=NOTES), SessionSigner(secret=SECRET, app_id=PHOTOS)
    from_photos = photos.create_token(USERINFO, now=NOW)
    assert photos.validate_token(from_photos, now=NOW).sub == USERINFO["sub"]
    with pytest.raises(WrongIssuer, match="photos"):
        notes.validate_token(from_photos, now=NOW)
    aimed_at_photos = token_at(issuer=NOTES, audience=PHOTOS)  # minted by notes, addressed to photos
    with pytest.raises(WrongAudience, match="photos"):
        notes.validate_token(aimed_at_photos, now=NOW)
    with pytest.raises(WrongAudience):
        validate_token(from_photos, secret=SECRET, now=NOW)  # a validator for no app refuses a token for one


@pytest.mark.parametrize(("names", "missing"), [({}, "iss"), ({"audience": NOTES}, "iss"), ({"issuer": NOTES}, "aud")])
def test_a_token_that_does_not_name_the_app_is_refused(names: dict, missing: str):
    token = token_at(**names)
    with pytest.raises(MissingClaim, match=missing):
        SessionSigner(secret=SECRET, app_id=NOTES).validate_token(token, now=NOW)
    assert validate_token(token, secret=SECRET, now=NOW, **names).jti == "jti-1"


def test_the_app_id_comes_from_the_redirect_uri_unless_configured():
    env = {"JWT_SECRET": "k" * 64, "OIDC_REDIRECT_URI": "https://Notes.altx10.dev/auth/callback"}
    assert SessionSigner.from_settings(Settings.from_env(env)).app_id == NOTES
    assert SessionSigner.from_settings(Settings.from_env(env), app_id="notes").app_id == "notes"
    assert SessionSigner.from_settings(Settings.from_env({"JWT_SECRET": "k" * 64})).app_id is None
    assert app_origin("http://127.0.0.1:5000/auth/callback?x=1") == "http://127.0.0.1:5000"
    for bad in ("notes.altx10.dev", "ftp://notes.altx10.dev/", "https:///auth/callback", None):
        with pytest.raises(ConfigurationError):
            app_origin(bad)  # type: ignore[arg-type]
    for bad_id in ("", "  ", 42):
        with pytest.raises(ConfigurationError):
            SessionSigner(secret=SECRET, app_id=bad_id)  # type: ignore[arg-type]


# --- the signer read from settings -------------------------------------------------------------------------------


def test_signer_reads_jwt_secret_and_jwt_alg():
    settings = Settings.from_env({"JWT_SECRET": "k" * 64, "JWT_ALG": "HS512"})
    signer = SessionSigner.from_settings(settings)
    token = signer.create_token(USERINFO, now=NOW, jti="j")
    assert split_token(token).header["alg"] == "HS512"
    assert signer.validate_token(token, now=NOW).jti == "j"
    assert validate_token(token, secret="k" * 64, alg="HS512", now=NOW).sub == USERINFO["sub"]
    assert "k" * 8 not in repr(signer)


def test_signer_without_a_secret_warns_and_uses_64_random_bytes():
    with pytest.warns(RandomSecretWarning, match="JWT_SECRET is not set"):
        one = SessionSigner.from_settings(Settings.from_env({}), random_bytes=lambda n: b"\x01" * n)
    assert one.secret == b"\x01" * 64
    assert one.alg == "HS256"
    with pytest.warns(RandomSecretWarning):
        other = SessionSigner.from_settings(Settings.from_env({}))
    with pytest.raises(BadSignature):  # a restarted process cannot read the old process's cookies
        other.validate_token(one.create_token(USERINFO, now=NOW), now=NOW)


def test_signer_refuses_bad_configuration():
    with pytest.raises(ConfigurationError, match="HS256 or HS512"):
        SessionSigner.from_settings(Settings.from_env({"JWT_SECRET": "k" * 64, "JWT_ALG": "RS256"}))
    with pytest.raises(WeakKey):
        SessionSigner.from_settings(Settings.from_env({"JWT_SECRET": "changeme"}))
    with pytest.raises(WeakKey):
        SessionSigner.from_settings(Settings.from_env({"JWT_SECRET": "k" * 40, "JWT_ALG": "HS512"}))


def test_signer_pins_its_algorithm():
    hs256 = SessionSigner(secret=SECRET, alg="HS256")
    hs512 = SessionSigner(secret=SECRET, alg="HS512")
    with pytest.raises(DisallowedAlgorithm):
        hs512.validate_token(hs256.create_token(USERINFO, now=NOW), now=NOW)


def test_signer_states_round_trip():
    signer = SessionSigner(secret=SECRET)
    state = signer.sign_state({"redirectTo": "/me"}, now=NOW)
    assert signer.validate_signed_state(state, now=NOW + 299) == {"redirectTo": "/me"}
    with pytest.raises(Expired):
        signer.validate_signed_state(state, now=NOW + 301)


# --- signed timestamped state ------------------------------------------------------------------------------------


def test_state_round_trips_and_is_url_safe():
    state = sign_state({"redirectTo": "/notes?id=7&x=é"}, secret=SECRET, now=NOW)
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", state)
    assert quote(state, safe="") == state
    assert len(state) >= 8  # Pocket ID refuses shorter states
    assert validate_signed_state(state, secret=SECRET, now=NOW) == {"redirectTo": "/notes?id=7&x=é"}


def test_states_are_unique_and_pinnable():
    assert sign_state({}, secret=SECRET, now=NOW) != sign_state({}, secret=SECRET, now=NOW)
    fixed = lambda n: b"\x00" * n  # noqa: E731
    assert sign_state({}, secret=SECRET, now=NOW, random_bytes=fixed) == sign_state({}, secret=SECRET, now=NOW,
                                                                                     random_bytes=fixed)


@pytest.mark.parametrize(("age", "error"), [(0, None), (299.999, None), (300, None), (300.001, Expired),
                                            (3600, Expired), (-29, None), (-31, NotYetValid)])
def test_state_lives_five_minutes(age, error):
    state = sign_state({"k": 1}, secret=SECRET, now=NOW)
    if error is None:
        assert validate_signed_state(state, secret=SECRET, now=NOW + age) == {"k": 1}
    else:
        with pytest.raises(error):
            validate_signed_state(state, secret=SECRET, now=NOW + age)


def test_state_max_age_is_adjustable():
    state = sign_state({}, secret=SECRET, now=NOW)
    with pytest.raises(Expired, match="61 s old"):
        validate_signed_state(state, secret=SECRET, now=NOW + 61, max_age=60)


def test_tampered_states_are_refused():
    state = sign_state({"redirectTo": "/me"}, secret=SECRET, now=NOW)
    body, mac = state.split(".")
    data = json.loads(b64url_decode(body))
    data["p"]["redirectTo"] = "https://evil.example/"
    with pytest.raises(BadSignature):
        validate_signed_state(f"{b64url_encode(json.dumps(data))}.{mac}", secret=SECRET, now=NOW)
    data = json.loads(b64url_decode(body))
    data["t"] = NOW + 3600  # refresh the timestamp to outlive five minutes
    with pytest.raises(BadSignature):
        validate_signed_state(f"{b64url_encode(json.dumps(data))}.{mac}", secret=SECRET, now=NOW + 3000)
    other = sign_state({"redirectTo": "/admin"}, secret=SECRET, now=NOW)
    with pytest.raises(BadSignature):  # a MAC from another genuine state
        validate_signed_state(f"{body}.{other.split('.')[1]}", secret=SECRET, now=NOW)
    flipped = mac[:5] + ("A" if mac[5] != "A" else "B") + mac[6:]
    with pytest.raises(BadSignature):
        validate_signed_state(f"{body}.{flipped}", secret=SECRET, now=NOW)


def test_state_with_another_secret_is_refused():
    state = sign_state({}, secret=SECRET, now=NOW)
    with pytest.raises(BadSignature, match="another secret"):
        validate_signed_state(state, secret=b"z" * 32, now=NOW)


def test_state_mac_is_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    state = sign_state({}, secret=SECRET, now=NOW)
    validate_signed_state(state, secret=SECRET, now=NOW)
    assert len(calls) == 1


GARBAGE_STATES = ["", "abcdefgh", ".", "a.", ".b", "a.b.c", "!!!!.????", "%2E%2E", "a" * 5000 + ".b",
                  "YWJj.=", "YWJj.YWJj\n", token_at()]


@pytest.mark.parametrize("state", GARBAGE_STATES)
def test_garbage_states_are_malformed(state):
    with pytest.raises(MalformedToken):
        validate_signed_state(state, secret=SECRET, now=NOW)


@pytest.mark.parametrize("state", [None, 42, b"YWJj.YWJj"])
def test_non_string_states_are_malformed(state):
    with pytest.raises(MalformedToken):
        validate_signed_state(state, secret=SECRET, now=NOW)


def test_a_state_is_not_a_session_token():
    with pytest.raises(MalformedToken):
        validate_token(sign_state({"sub": "u1"}, secret=SECRET, now=NOW), secret=SECRET, now=NOW)


def test_state_secret_must_be_32_bytes():
    with pytest.raises(WeakKey):
        sign_state({}, secret=b"x" * 31)
    with pytest.raises(WeakKey):
        validate_signed_state("a.b", secret=b"x" * 31)


# --- the jti deny-list -------------------------------------------------------------------------------------------


def test_deny_list_revokes_one_token_and_not_the_others():
    denied = DenyList(clock=lambda: NOW)
    alice = token_at(jti="alice-laptop")
    alice_phone = token_at(jti="alice-phone")
    denied.revoke(validate_token(alice, secret=SECRET, now=NOW))
    with pytest.raises(RevokedToken):
        validate_token(alice, secret=SECRET, now=NOW, deny_list=denied)
    assert validate_token(alice_phone, secret=SECRET, now=NOW, deny_list=denied).jti == "alice-phone"
    assert "alice-laptop" in denied
    assert "alice-phone" not in denied


def test_deny_list_forgets_tokens_once_they_expire():
    clock = [NOW]
    denied = DenyList(leeway=30, clock=lambda: clock[0])
    denied.deny("a", NOW + 100)
    denied.deny("b", NOW + 1000)
    assert denied.prune() == 0
    clock[0] = NOW + 129
    assert denied.is_denied("a")
    clock[0] = NOW + 130
    assert not denied.is_denied("a")  # the token itself is now expired: validation refuses it anyway
    assert denied.prune() == 1
    assert len(denied) == 1
    assert denied.is_denied("b")


def test_a_revoked_token_stays_denied_as_long_as_the_signer_would_accept_it():
    signer = SessionSigner(secret=SECRET, leeway=120, app_id=NOTES)
    token = signer.create_token(USERINFO, now=NOW, jti="stolen")
    exp = NOW + signer.lifetime
    with pytest.raises(ConfigurationError, match="come back to life"):  # a 30 s list would forget it at exp + 30
        signer.validate_token(token, now=exp + 100, deny_list=DenyList(clock=lambda: NOW))
    denied = signer.new_deny_list(clock=lambda: NOW)
    assert denied.leeway == 120
    denied.revoke(signer.validate_token(token, now=NOW))
    assert signer.validate_token(token, now=exp + 100).jti == "stolen"  # still valid, thanks to the leeway...
    assert denied.prune(now=exp + 100) == 0
    with pytest.raises(RevokedToken):  # ...and still denied
        signer.validate_token(token, now=exp + 100, deny_list=denied)
    with pytest.raises(Expired):
        signer.validate_token(token, now=exp + 120, deny_list=denied)
    assert denied.prune(now=exp + 120) == 1  # only once validation refuses it anyway
    for leeway in (-1, float("nan"), float("inf"), True):
        with pytest.raises(ConfigurationError):
            DenyList(leeway=leeway)


def test_deny_list_stays_small_on_its_own():
    denied = DenyList(clock=lambda: NOW + 10_000)
    for i in range(3000):
        denied.deny(f"jti-{i}", NOW)  # all long expired
    assert len(denied) < 1024


def test_deny_list_refuses_what_it_cannot_track():
    denied = DenyList()
    with pytest.raises(ConfigurationError):
        denied.deny("", NOW)
    session = UserSession(sub="u", exp=NOW, iat=NOW, userInfo=UserInfo(sub="u"))
    with pytest.raises(ConfigurationError, match="no jti"):
        denied.revoke(session)
