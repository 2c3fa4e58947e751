"""Settings come from the author's variable names; unset means the local stand-in."""

from altx10_helpers import Settings, describe_provider


def test_no_variables_means_local_standin():
    s = Settings.from_env({})
    assert s.uses_local_standin
    assert "local Pocket ID stand-in" in describe_provider(s)
    assert s.jwt_alg == "HS256"


def test_real_pocket_id_is_named_and_missing_variables_listed():
    s = Settings.from_env({"POCKET_ID_ENDPOINT": "https://id.altx10.dev/", "OIDC_CLIENT_ID": "notes"})
    assert not s.uses_local_standin
    assert s.pocket_id_endpoint == "https://id.altx10.dev"
    text = describe_provider(s)
    assert "https://id.altx10.dev" in text
    assert "OIDC_CLIENT_SECRET" in text and "OIDC_REDIRECT_URI" in text


def test_blank_variables_count_as_unset():
    s = Settings.from_env({"POCKET_ID_ENDPOINT": "  ", "JWT_ALG": ""})
    assert s.uses_local_standin and s.jwt_alg == "HS256"
