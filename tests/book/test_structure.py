"""The book's sources obey its own rules: every notebook is in the toc, none carries outputs."""

from __future__ import annotations

import json

import pytest

from bookkit import toc
from bookkit.paths import ROOT


def book_notebooks() -> list[str]:
    return sorted(
        str(p.relative_to(ROOT).with_suffix(""))
        for p in (ROOT / "book").rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )


def test_every_toc_entry_has_a_source():
    for entry in toc.entries():
        assert toc.source_of(entry).exists()


def test_toc_and_notebooks_agree():
    """A notebook outside the toc is never shown (or tested by the build); an entry without a file breaks it."""
    listed = {e for e in toc.entries() if toc.source_of(e).suffix == ".ipynb"}
    on_disk = set(book_notebooks())
    assert on_disk - listed == set(), (
        f"notebooks not listed in _toc.yml: {sorted(on_disk - listed)}"
    )
    assert listed - on_disk == set(), (
        f"_toc.yml lists notebooks that do not exist: {sorted(listed - on_disk)}"
    )


@pytest.mark.parametrize("notebook", book_notebooks())
def test_notebook_committed_without_outputs(notebook):
    """The build and CI execute every notebook; stored outputs would only go stale."""
    nb = json.loads((ROOT / (notebook + ".ipynb")).read_text())
    dirty = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, (
        f"{notebook}.ipynb: cells {dirty} have outputs or execution counts; strip them"
    )


@pytest.mark.parametrize("notebook", book_notebooks())
def test_notebook_runs_on_the_book_kernel(notebook):
    nb = json.loads((ROOT / (notebook + ".ipynb")).read_text())
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"


def test_a_teacher_can_tell_what_they_may_adapt_and_share():
    """The teacher's trial found no LICENSE. The text is CC BY 4.0, the code MIT; the
    repository says so and the intro page tells readers."""
    licence = (ROOT / "LICENSE").read_text()
    assert "CC BY 4.0" in licence and "MIT License" in licence and "LICENSE-TEXT" in licence
    assert (ROOT / "LICENSE-TEXT").read_text().startswith("Attribution 4.0 International")
    intro = " ".join((ROOT / "book" / "intro.md").read_text().split())
    assert "CC BY 4.0" in intro and "MIT License" in intro
