"""Shared fixtures: the public JOSE vectors and the repository's paths."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def vectors() -> dict:
    """Public test vectors (RFC 7515, 7519, 7636, 7638, 8037, the seed article, jwt.io)."""
    return json.loads((DATA / "jose-vectors.json").read_text())


def skip_or_fail(reason: str) -> None:
    """Skip locally with a reason; under CI=true a missing prerequisite is a failure."""
    if IN_CI:
        pytest.fail(f"required in CI but unavailable: {reason}")
    pytest.skip(reason)
