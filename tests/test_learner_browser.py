"""The learner's whole experience in a real browser (issue 8): JupyterLab started as `make lab` starts it, but
under a Binder-like base URL (/user/learner/), driven by Playwright with Debian's Chromium.

Notebook 05: run the cells up to the sign-in, add a passkey through the stand-in's pages (Chromium's virtual
authenticator, DevTools WebAuthn domain), click "Sign in with Pocket ID", sign in with the passkey in the new
tab, come back, run the rest, and find the validated ID token's sub and amr ["phr"] in the notebook.
Notebook 02: the JWT debugger widget renders and reports a bad signature once the payload is edited.
Screenshots go to test-output/ (CI artifacts). Skips locally without Chromium or Playwright; fails under CI=true.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets

import pytest
from conftest import ROOT
from lab_support import free_port, make_lab

BASE = "/user/learner/"
OUT = ROOT / "test-output"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
                 "isUserVerified": True, "automaticPresenceSimulation": True}


def _digests() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (ROOT / "notebooks").glob("*.ipynb")}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` with a Binder-like base URL. Autosave is off (a private settings dir): running cells in the
    browser must never rewrite the committed notebooks, and the test checks they are unchanged."""
    home = tmp_path_factory.mktemp("lab")
    settings = home / "settings" / "@jupyterlab" / "docmanager-extension"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    port, token = free_port(), secrets.token_hex(16)
    args = (f"--no-browser --ip=localhost --port={port} --IdentityProvider.token={token} "
            f"--ServerApp.base_url={BASE} --LabApp.expose_app_in_browser=True")
    env = {k: v for k, v in os.environ.items() if k not in ("ALTX10_HEADLESS", "JUPYTERHUB_SERVICE_PREFIX")}
    env.update(JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    before = _digests()
    url = f"http://localhost:{port}{BASE}"
    with make_lab(args, f"{url}api/status", token, env):
        yield url, token
    assert _digests() == before, "the browser session must not save over the committed notebooks"


_RUN = """async ([marker, command]) => {
  const app = window.jupyterapp;
  const nb = app.shell.currentWidget.content;
  const index = nb.widgets.findIndex(c => c.model.sharedModel.getSource().includes(marker));
  if (index < 0) { throw new Error('no cell contains ' + marker); }
  nb.activeCellIndex = index;
  await app.commands.execute(command);
  return index;
}"""

_IDLE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const busy = panel.content.widgets.some(c => c.model.type === 'code' && c.promptNode &&
                                          c.promptNode.textContent.includes('*'));
  return kernel !== null && kernel !== undefined && kernel.status === 'idle' && !busy;
}"""


def _open(page, url: str, token: str, name: str) -> None:
    page.goto(f"{url}lab/tree/{name}?token={token}")
    page.wait_for_function("""(name) => {
      const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
      return !!(w && w.context && w.context.path.endsWith(name) && w.sessionContext && w.content.widgets.length);
    }""", arg=name, timeout=60_000)
    page.wait_for_function(_IDLE, timeout=60_000)


def _run(page, marker: str, command: str) -> None:
    page.evaluate(_RUN, [marker, command])
    page.wait_for_function(_IDLE, timeout=60_000)


def _cell_text(page, marker: str) -> str:
    return page.evaluate("""(marker) => {
      const nb = window.jupyterapp.shell.currentWidget.content;
      const cell = nb.widgets.find(c => c.model.sharedModel.getSource().includes(marker));
      cell.node.scrollIntoView();
      return cell.outputArea.node.innerText;
    }""", marker)


def _authenticator(context, page) -> tuple[object, str]:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    found = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, found["authenticatorId"]


def test_reader_signs_in_with_a_passkey_in_notebook_05_and_uses_the_debugger_in_02(chromium, lab):
    url, token = lab
    OUT.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        _open(page, url, token, "05-pocket-id-login.ipynb")
        _run(page, "login = browser_login(", "notebook:run-all-above")
        _run(page, "login = browser_login(", "notebook:run-cell")
        sign_in = page.locator("a.altx10-sign-in")
        sign_in.wait_for()
        assert sign_in.get_attribute("href") == f"{BASE}altx10-callback/start"

        # First time: a one-time login code, then "Add a passkey" with the virtual authenticator.
        with context.expect_page() as opened:
            page.click("a.altx10-add-passkey")
        setup = opened.value
        cdp, authenticator = _authenticator(context, setup)
        setup.wait_for_selector("#code")
        assert setup.url.startswith(f"{url}proxy/"), "the stand-in is served under the Jupyter prefix"
        setup.click("form button[type=submit]")
        setup.wait_for_selector("text=Add a passkey")
        setup.click("#passkey-button")
        setup.wait_for_selector("text=Passkey added")
        credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        assert len(credentials) == 1 and credentials[0]["rpId"] == "localhost"
        setup.close()

        # The sign-in itself: the reader's passkey (the same credential in the new tab's authenticator).
        with context.expect_page() as opened:
            sign_in.click()
        tab = opened.value
        cdp, authenticator = _authenticator(context, tab)
        cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": credentials[0]})
        tab.wait_for_selector("text=Sign in with a passkey")
        assert "/proxy/" in tab.url and "/login?" in tab.url
        tab.click("#passkey-button")
        tab.wait_for_selector("text=You can close this tab", timeout=60_000)
        assert tab.url.startswith(f"{url}altx10-callback/callback?code=")
        tab.close()

        # Back in the notebook: the next cells collect the login without any copying.
        _run(page, "browser_result = login.wait()", "notebook:run-all-below")
        described = _cell_text(page, "browser_result.describe()")
        claims = _cell_text(page, 'browser_result.sub, browser_result.id_token.claims["amr"]')
        sub = re.search(rf"sub ({UUID})", described)
        assert sub, described
        assert re.search(rf"'{sub[1]}',\s*\['phr'\]", claims), claims
        page.screenshot(path=str(OUT / "learner-05-passkey-sign-in.png"))

        # The stand-in as a Jupyter launcher entry (entry point `pocket-id`): its issuer is the proxied address.
        discovery = page.request.get(f"{url}pocket-id/.well-known/openid-configuration", timeout=60_000).json()
        assert discovery["issuer"] == f"{url}pocket-id"
        assert discovery["authorization_endpoint"] == f"{url}pocket-id/authorize"
        assert discovery["token_endpoint"].startswith("http://127.0.0.1:"), "the back channel stays on loopback"

        # Notebook 02: the JWT debugger widget.
        _open(page, url, token, "02-verifying-a-jwt.ipynb")
        _run(page, "debugger = JwtDebugger(", "notebook:run-all-above")
        _run(page, "debugger = JwtDebugger(", "notebook:run-cell")
        widget = page.locator(".jp-OutputArea-output .widget-vbox").filter(has_text="Payload").last
        widget.wait_for()
        widget.locator(".widget-checkbox input[type=checkbox]").check()
        widget.locator("text=✔ verified").wait_for()
        payload = widget.locator(".widget-textarea").filter(has_text="Payload").locator("textarea")
        payload.fill('{"abc": "124"}')
        payload.press("Tab")
        verdict = widget.locator("text=BadSignature")
        verdict.wait_for()
        assert "✘" in verdict.inner_text()
        widget.scroll_into_view_if_needed()
        page.screenshot(path=str(OUT / "learner-02-jwt-debugger.png"))
    except Exception:
        for i, each in enumerate(context.pages):  # what the reader would have seen, for the CI artifacts
            each.screenshot(path=str(OUT / f"learner-failure-{i}.png"))
        raise
    finally:
        context.close()
