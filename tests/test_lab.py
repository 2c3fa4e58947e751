"""`make lab` really starts JupyterLab on the series: shown, not assumed."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time

import requests
from conftest import ROOT

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_the_start_page_and_every_notebook():
    port, token = _free_port(), secrets.token_hex(16)
    args = f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={token}"
    proc = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"make lab exited early:\n{proc.stdout.read()}"
            try:
                if requests.get(f"{base}/api/status", headers=headers, timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "JupyterLab did not answer within 90 s"
            time.sleep(0.5)
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
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
