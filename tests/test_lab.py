"""`make lab` really starts JupyterLab on the series: shown, not assumed."""

from __future__ import annotations

import secrets

import requests
from conftest import ROOT
from lab_support import free_port, make_lab

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


def test_make_lab_serves_the_start_page_and_every_notebook():
    port, token = free_port(), secrets.token_hex(16)
    args = f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={token}"
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    with make_lab(args, f"{base}/api/status", token):
        assert requests.get(f"{base}/api/status", timeout=5).status_code == 403, "the API must need the token"
        lab = requests.get(f"{base}/lab", headers=headers, timeout=10)
        assert lab.status_code == 200 and "JupyterLab" in lab.text
        start = requests.get(f"{base}/", headers=headers, timeout=10, allow_redirects=False)
        assert start.headers["Location"].split("?")[0].endswith("/lab/tree/00-start-here.ipynb")
        for name in NOTEBOOKS:
            r = requests.get(f"{base}/api/contents/{name}", headers=headers, timeout=10)
            assert r.status_code == 200, name
            nb = r.json()["content"]
            assert nb["metadata"]["kernelspec"]["name"] == "python3"
        specs = requests.get(f"{base}/api/kernelspecs", headers=headers, timeout=10).json()
        assert "python3" in specs["kernelspecs"]
