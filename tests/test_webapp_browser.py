"""A real browser (Debian's Chromium, driven by Playwright) opens the demo app's /me signed out, is sent
through the stand-in's sign-in page and consent, and comes back to /me signed in. Skips locally without
Chromium or Playwright; under CI=true it must run."""

from __future__ import annotations

import pytest

from altx10_helpers.idp import LocalPocketId
from tests.webapp_support import CALLBACKS, LOGOUT_CALLBACKS, serve


@pytest.mark.parametrize("design", ["jwt", "server"])
def test_browser_visits_me_signs_in_and_comes_back(chromium, design: str) -> None:
    with LocalPocketId() as idp:
        demo = idp.seed_demo(CALLBACKS, LOGOUT_CALLBACKS, skip_consent=False, pkce=True,
                             client_name="altx10 notes")
        extra = {"environ": {}} if design == "server" else {}
        with serve(idp, demo, design=design, end_session=True, **extra) as app:
            context = chromium.new_context()
            page = context.new_page()
            page.goto(f"{app.url}/me")
            assert page.url.startswith(f"{idp.url}/login?"), page.url  # sent to sign in

            page.fill("#code", demo.login_code())
            page.click("button[type=submit]")
            page.wait_for_selector("text=Authorize altx10 notes")
            page.click("button[value=allow]")

            page.wait_for_url(f"{app.url}/me")
            assert "demo@altx10.dev" in page.text_content("body")
            assert f'"design":"{design}"' in page.text_content("body")
            cookies = {c["name"]: c for c in context.cookies(app.url)}
            session = cookies["session"]
            assert session["httpOnly"] and session["sameSite"] == "Lax" and session["path"] == "/"
            assert session["domain"] == "127.0.0.1"  # host-only
            assert "login_state" not in cookies  # spent on the callback

            page.goto(app.url)
            assert "Signed in as Demo User" in page.text_content("body")
            page.click("text=Sign out")  # a same-origin POST, then through Pocket ID's end-session and back
            page.wait_for_selector("text=Not signed in")
            assert page.url.startswith(f"{app.url}/?state=")
            assert "session" not in {c["name"] for c in context.cookies(app.url)}
            assert "access_token" not in {c["name"] for c in context.cookies(idp.url)}

            page.goto(f"{app.url}/me")  # signed out at Pocket ID too: the sign-in page again
            assert page.url.startswith(f"{idp.url}/login?"), page.url
            context.close()
