"""Shared fixtures: the public JOSE vectors, the repository's paths, the pinned in-process stand-in and a headless
Chromium."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from idp_support import NOW, make_driver

from altx10_helpers.idp.testing import Driver, FrozenClock

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def vectors() -> dict:
    """Public test vectors (RFC 7515, 7519, 7636, 7638, 8037, the seed article, jwt.io)."""
    return json.loads((DATA / "jose-vectors.json").read_text())


def skip_or_fail(reason: str) -> None:
    """Skip locally with a reason; under CI=true a missing prerequisite is a failure."""
    if IN_CI:
        pytest.fail(f"required in CI but unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture
def clock() -> FrozenClock:
    """The stand-in's clock: frozen, so a test moves time only with ``clock.advance``."""
    return FrozenClock(NOW)


@pytest.fixture
def d(request: pytest.FixtureRequest, clock: FrozenClock) -> Driver:
    """An in-process stand-in on ``clock``, its randomness seeded by the test module's ``SEED``."""
    return make_driver(request.module.SEED, clock)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright: one per test module. Skips locally without Chromium or
    the playwright package; under CI=true their absence is a failure."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright Python package is not installed")
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not executable:
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
