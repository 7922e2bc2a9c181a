"""The code is linted as part of the tests: both packages, the tests and every notebook.

ruff reads notebooks natively, so the same rules (pyproject.toml) cover the chapters' cells.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bookkit.paths import ROOT


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is not installed: run `make setup`"
    result = subprocess.run(
        [ruff, "check", "--no-cache", "backprop_book", "bookkit", "tests", "book"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, "ruff found problems (run `make lint`):\n" + result.stdout
