"""Every notebook follows the series' structure (DESIGN section 3)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAME = re.compile(r"^(\d\d)-[a-z0-9]+(?:-[a-z0-9]+)*\.ipynb$")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _markdown(nb: dict) -> str:
    return "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_there_are_notebooks_and_00_is_first():
    assert NOTEBOOKS, "no notebooks found"
    assert NOTEBOOKS[0].name == "00-start-here.ipynb"


def test_filenames_are_numbered_kebab_case_without_gaps():
    numbers = []
    for path in NOTEBOOKS:
        m = NAME.match(path.name)
        assert m, f"{path.name} is not NN-kebab-name.ipynb"
        numbers.append(int(m.group(1)))
    assert numbers == list(range(len(numbers))), f"numbers have gaps or repeats: {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_structure(path):
    nb = _load(path)
    md = _markdown(nb)
    h1 = re.findall(r"^# (?!#)\S.*$", md, re.M)
    assert len(h1) == 1, f"expected one H1 title, found {h1}"
    assert nb["cells"][0]["cell_type"] == "markdown" and "".join(nb["cells"][0]["source"]).startswith("# ")
    assert re.search(r"^#+ Learning objectives", md, re.M | re.I), "no learning-objectives section"
    assert re.search(r"\*\*Prerequisites:\*\*.+Time to learn", md), "no prerequisites line with time to learn"
    assert re.search(r"^#+ Summary", md, re.M), "no Summary section"
    assert re.search(r"^#+ What's next", md, re.M), "no What's next section"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_whats_next_links_the_next_notebook(path):
    md = _markdown(_load(path))
    after = md.split("What's next", 1)[1]
    links = re.findall(r"\]\((\d\d-[a-z0-9-]+\.ipynb)\)", after)
    index = NOTEBOOKS.index(path)
    expected = NOTEBOOKS[index + 1].name if index + 1 < len(NOTEBOOKS) else "00-start-here.ipynb"
    assert expected in links, f"What's next should link {expected}, links {links}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_kernelspec_and_one_import_cell(path):
    nb = _load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    importing = [i for i, src in enumerate(code) if re.search(r"^(import|from) \S+", src, re.M)]
    assert importing == [0], f"imports belong in the first code cell only; found in code cells {importing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_expected_failures_are_real_exceptions(path):
    for cell in _load(path)["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] != "code":
            continue
        assert not re.search(r"except\b.*:\s*\n\s*print", src), "show failures with raises-exception, not print"
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        if "raises-exception" in cell["metadata"].get("tags", []):
            assert errors, f"cell tagged raises-exception did not raise: {src[:60]!r}"
        else:
            assert not errors, f"untagged cell raised: {src[:60]!r}"


def test_start_page_maps_every_notebook():
    md = _markdown(_load(NOTEBOOKS[0]))
    for path in NOTEBOOKS:
        assert f"({path.name})" in md, f"00-start-here's map does not list {path.name}"
