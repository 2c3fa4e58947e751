"""Run every benchmark and print one table: ``python -m bench [name ...]``."""

from __future__ import annotations

import importlib
import sys

from .common import print_table

MODULES = ["notebooks", "verify", "sessions", "idp", "login", "lab"]


def main(argv: list[str]) -> int:
    chosen = [m for m in MODULES if not argv or m in argv]
    rows = []
    for name in chosen:
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        rows.extend(importlib.import_module(f"bench.{name}").rows())
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
