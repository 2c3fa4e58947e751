"""Seconds from `make lab` (already installed) until JupyterLab answers, against bare `jupyter lab`.

The peer starts the same JupyterLab with the same flags directly, so the ratio is what `make lab` itself adds
(make, its up-to-date checks). Both load every server extension, jupyter-server-proxy and our entry points
included. "Answers" means ``GET /api/status`` returns 200 with the token. Target: at most 1.2.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import statistics
import subprocess
import time
from pathlib import Path

import requests

from .common import Row

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_args(port: int, token: str) -> list[str]:
    return ["--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}"]


def _time_until_answer(command: list[str], port: int, token: str) -> float:
    """Start ``command`` and poll until JupyterLab answers; seconds taken. Stops it afterwards."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {proc.returncode} before answering")
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/status", timeout=1,
                                headers={"Authorization": f"token {token}"}).ok:
                    return time.perf_counter() - start
            except requests.ConnectionError:
                pass
            if time.perf_counter() - start > 120:
                raise RuntimeError("JupyterLab did not answer within 120 s")
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _make_lab() -> float:
    port, token = _free_port(), secrets.token_hex(16)
    return _time_until_answer(["make", "--no-print-directory", "lab", f"LAB_ARGS={' '.join(_lab_args(port, token))}"],
                              port, token)


def _bare_lab() -> float:
    port, token = _free_port(), secrets.token_hex(16)
    root = ["--allow-root"] if os.geteuid() == 0 else []
    return _time_until_answer([str(ROOT / ".venv" / "bin" / "jupyter"), "lab", *root,
                               "--ServerApp.root_dir=notebooks", "--LabApp.default_url=/lab/tree/00-start-here.ipynb",
                               *_lab_args(port, token)], port, token)


def rows() -> list[Row]:
    ours, peer = [], []
    for _ in range(ROUNDS):  # alternate, so a warming disk cache favours neither
        ours.append(_make_lab())
        peer.append(_bare_lab())
    t_ours, t_peer = statistics.median(ours), statistics.median(peer)
    return [Row("make lab until JupyterLab answers", t_ours, t_peer, "s", "bare `jupyter lab`, same flags",
                "<= 1.2", t_ours / t_peer <= 1.2)]
