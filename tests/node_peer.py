"""Start and stop the certified Node.js provider (tests/node/provider.mjs) on a free loopback port."""

from __future__ import annotations

import json
import select
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent / "node"

CLIENT_ID = "interop-app"
CLIENT_SECRET = "interop-secret-0123456789abcdef0123456789"
REDIRECT_URI = "http://127.0.0.1:8765/auth/callback"
ACCOUNT = {"sub": "0c5f2a8e-7d41-4b1e-9a37-2f6d5e4c3b2a", "email": "grace@example.test", "email_verified": True,
           "name": "Grace Hopper", "given_name": "Grace", "family_name": "Hopper", "preferred_username": "grace",
           "groups": ["admirals"]}


def missing_prerequisite() -> str | None:
    """Why the peer cannot start here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (.ci/run installs it)"
    if not (NODE_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
        return "tests/node/node_modules is missing: run (cd tests/node && npm ci)"
    return None


class NodePeer:
    """``with NodePeer() as peer:`` runs oidc-provider; ``peer.issuer`` is its URL."""

    def __init__(self, *, startup_timeout: float = 20) -> None:
        self.startup_timeout = startup_timeout
        self.issuer = ""
        self._stderr = tempfile.TemporaryFile()
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> NodePeer:
        config: dict[str, Any] = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                  "redirect_uri": REDIRECT_URI, "account": ACCOUNT}
        self._proc = subprocess.Popen(["node", str(NODE_DIR / "provider.mjs"), json.dumps(config)],
                                      cwd=NODE_DIR, stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], self.startup_timeout)
        line = self._proc.stdout.readline() if ready else ""
        if not line:
            self.__exit__()
            raise RuntimeError(f"the Node provider did not start: {self.stderr()}")
        self.issuer = json.loads(line)["issuer"]
        return self

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-2000:]

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()
        self._stderr.close()
