"""The repository's own files agree with each other: Binder env, package, notebook sources."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from conftest import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


# conda-forge names that differ from PyPI's.
CONDA_TO_PYPI = {"redis-py": "redis"}


def _environment_packages() -> set[str]:
    """Conda packages plus the named packages of the pip: section (``-e .`` is the package itself)."""
    names = set()
    text = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    for line in text.splitlines():
        m = re.match(r"^  - (?!pip:)([A-Za-z0-9_.\-]+)", line)
        if m:
            name = _name(m.group(1))
            names.add(CONDA_TO_PYPI.get(name, name))
        pip = re.match(r"^      - (?!-)([A-Za-z0-9_.\-]+)", line)
        if pip:
            names.add(_name(pip.group(1)))
    return names - {"python", "pip"}


def test_environment_yml_lists_exactly_the_runtime_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {_name(d) for d in project["dependencies"]} == _environment_packages()


def test_environment_yml_installs_the_package_itself():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s+- -e \.$", text, re.M), "Binder must install altx10_helpers with `pip install -e .`"
    assert "conda-forge" in text


def test_notebooks_match_their_sources():
    result = subprocess.run([sys.executable, "scripts/build_notebooks.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_is_ruff_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "altx10_helpers", "tests", "bench", "scripts"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
