"""The whole notebook series under nbval, against the kernel start-up floor.

The floor is the same number of one-cell notebooks under nbval: what nbval
costs with nothing to run. Target: the series at most 2.5 times the floor.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from .common import Row, median_seconds

ROOT = Path(__file__).resolve().parent.parent
NBVAL = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env"]


def _run(paths: list[str], cwd: Path) -> None:
    subprocess.run([*NBVAL, *paths], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def rows() -> list[Row]:
    series = sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))
    sanitize = ["--nbval-sanitize-with", str(ROOT / "tests" / "nbval-sanitize.cfg")]
    with tempfile.TemporaryDirectory() as tmp:
        floor = []
        for i in range(len(series)):
            nb = nbformat.v4.new_notebook()
            cell = nbformat.v4.new_code_cell("1 + 1", execution_count=1)
            cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
            nb.cells = [cell]
            nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
            path = Path(tmp) / f"floor{i:02d}.ipynb"
            nbformat.write(nb, path)
            floor.append(str(path))
        t_floor = median_seconds(lambda: _run(floor, Path(tmp)))
        t_series = median_seconds(lambda: _run([*sanitize, *series], ROOT))
    ratio = t_series / t_floor
    return [Row(f"notebook series under nbval ({len(series)} notebooks)", t_series, t_floor, "s",
                f"{len(series)} one-cell notebooks under nbval", "<= 2.5", ratio <= 2.5)]
