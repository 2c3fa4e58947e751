"""Build notebooks/*.ipynb from their sources in nbsrc/*.py and store fresh outputs.

The sources use the "percent" format (``# %%`` starts a code cell,
``# %% [markdown]`` a Markdown cell whose lines start with ``# ``). Cell
metadata follows as ``key=<json>`` pairs, e.g. ``# %% tags=["raises-exception"]``.

    python scripts/build_notebooks.py            # rebuild and execute all
    python scripts/build_notebooks.py 01 02      # only those numbers
    python scripts/build_notebooks.py --check    # exit 1 if a notebook's sources differ from nbsrc
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "nbsrc"
OUT = ROOT / "notebooks"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?P<meta>.*)$")
META = re.compile(r"(\w+)=(\S+)")


def parse(path: Path) -> nbformat.NotebookNode:
    """Turn one percent-format source into a notebook without outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    cells: list[tuple[bool, dict, list[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = HEADER.match(line)
        if m:
            meta = {k: json.loads(v) for k, v in META.findall(m["meta"])}
            cells.append((bool(m["md"]), meta, []))
        elif cells:
            cells[-1][2].append(line)
    for i, (is_md, meta, lines) in enumerate(cells):
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if is_md:
            text = "\n".join(ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines)
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
        cell.id = f"{path.stem[:2]}-{i:03d}"
        cell.metadata = meta
        nb.cells.append(cell)
    return nb


def build(path: Path) -> None:
    nb = parse(path)
    resources = {"metadata": {"path": str(OUT)}}
    NotebookClient(nb, timeout=120, kernel_name="python3", record_timing=False, resources=resources).execute()
    # Widget state holds random model ids: it would change the file on every build and means nothing until run.
    nb.metadata.pop("widgets", None)
    target = OUT / f"{path.stem}.ipynb"
    nbformat.write(nb, target)
    print(f"built {target.relative_to(ROOT)}")


def check() -> int:
    """Compare every notebook's cell sources with nbsrc; report drift."""
    bad = 0
    for path in sorted(SRC.glob("*.py")):
        target = OUT / f"{path.stem}.ipynb"
        want = [(c.cell_type, c.source, c.metadata) for c in parse(path).cells]
        have = [(c.cell_type, c.source, c.metadata) for c in nbformat.read(target, 4).cells] if target.exists() else []
        if want != have:
            print(f"{target.relative_to(ROOT)} differs from {path.relative_to(ROOT)}: run `make notebooks`")
            bad += 1
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    if "--check" in argv:
        return check()
    wanted = [a for a in argv if not a.startswith("-")]
    for path in sorted(SRC.glob("*.py")):
        if not wanted or path.stem[:2] in wanted:
            build(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
