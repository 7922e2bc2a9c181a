"""The code is linted as part of the tests: package, tests, scripts and every notebook.

ruff reads notebooks natively, so the same rules (pyproject.toml) cover the chapters' cells.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is not installed: run `make setup`"
    result = subprocess.run(
        [ruff, "check", "--no-cache", "backprop_book", "tests", "scripts", "book"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, "ruff found problems (run `make lint`):\n" + result.stdout
