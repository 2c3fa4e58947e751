"""Binder builds from environment.yml alone: every module the notebooks import must come from it, and nothing
else at the repository root may change how repo2docker builds the image."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys

import nbformat
from conftest import ROOT
from test_packaging import CONDA_TO_PYPI

#: Files repo2docker would read instead of, or on top of, environment.yml.
SHADOWING = ["binder", ".binder", "Dockerfile", "requirements.txt", "Pipfile", "Pipfile.lock", "runtime.txt",
             "apt.txt", "postBuild", "start", "install.R", "Project.toml", "default.nix"]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _environment() -> tuple[set[str], bool]:
    """Distribution names environment.yml installs (conda names mapped to PyPI's), and whether it installs `.`."""
    names, editable = set(), False
    for line in (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1].splitlines():
        line = line.split("#", 1)[0].rstrip()
        conda = re.match(r"^  - (?!pip:)([A-Za-z0-9_.\-]+)", line)
        pip = re.match(r"^      - ([A-Za-z0-9_.\-]+)", line)
        if re.match(r"^      - -e \.$", line):
            editable = True
        elif conda or pip:
            name = _normal((conda or pip)[1])
            names.add(_normal(CONDA_TO_PYPI.get(name, name)))
    return names, editable


def _imported_modules() -> dict[str, set[str]]:
    """Top-level module -> notebooks importing it, from every code cell of every notebook."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, 4).cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    mods = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    mods = [node.module]
                else:
                    continue
                for mod in mods:
                    found.setdefault(mod.split(".")[0], set()).add(path.name)
    return found


def test_every_module_the_notebooks_import_comes_from_environment_yml():
    env, editable = _environment()
    by_module = importlib.metadata.packages_distributions()
    imported = _imported_modules()
    assert "altx10_helpers" in imported and editable, "the helper package comes from `pip install -e .`"
    missing = {}
    for module, notebooks in imported.items():
        if module in sys.stdlib_module_names or module == "altx10_helpers":
            continue
        dists = {_normal(d) for d in by_module.get(module, [])}
        if not dists & env:
            missing[module] = (sorted(dists) or ["<not installed>"], sorted(notebooks))
    assert not missing, f"imported by the notebooks but not provided by environment.yml: {missing}"


def test_the_check_itself_sees_third_party_imports():
    imported = _imported_modules()
    assert {"jwt", "cryptography"} <= set(imported), sorted(imported)
    env, _ = _environment()
    assert {"pyjwt", "jupyter-server-proxy", "webauthn", "redis"} <= env


def test_nothing_else_at_the_root_changes_the_binder_build():
    present = [name for name in SHADOWING if (ROOT / name).exists()]
    assert not present, f"repo2docker would use {present} instead of (or on top of) environment.yml"
    assert "jupyter-server-proxy" in (ROOT / "environment.yml").read_text()
