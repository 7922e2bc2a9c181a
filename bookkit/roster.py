"""A class roster: the student ids handouts, worksheets and the course are made for."""

from __future__ import annotations

from pathlib import Path

#: The demo class `make worksheets` prints when no roster is given.
DEMO = Path(__file__).with_name("demo-roster.txt")


def read_roster(path: Path) -> list[str]:
    """Student ids, one per line; blank lines and # comments are skipped."""
    ids = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    ids = [i for i in ids if i]
    bad = [i for i in ids if not all(ch.isalnum() or ch in "-_." for ch in i)]
    if bad:
        raise SystemExit(f"{path}: ids may use letters, digits, '-', '_' and '.', not {bad}")
    return ids
