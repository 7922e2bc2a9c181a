"""A teacher's course folder: written once, updated, never overwritten where they edited it.

The course builder (:mod:`bookkit.course`) hands over the files of a fresh course, by their
path inside the folder. :func:`update` writes them so that no work of the teacher is lost:

* a file that is not there yet is written (unless the teacher deleted it: see below);
* a file the teacher has not changed since it was written (its hash is the one recorded
  in the folder's manifest, ``.bookkit-course.json``) is replaced by the new version;
* a file the teacher edited (or one written by someone else) is left as it is, and the
  new version is written beside the course, under ``updates/`` with the same path
  (never inside ``source/``, where nbgrader would release it), with a line that says what
  differs;
* a file the manifest knows but the teacher deleted stays deleted (an assignment they
  dropped does not come back);
* nothing else in the folder is touched: ``gradebook.db``, ``release/``, ``submitted/``,
  ``autograded/``, ``feedback/``, the teacher's own notes.

The folder lives outside ``_build/`` (``make clean`` deletes ``_build/``): by default
``course/`` at the repository's root, which git ignores.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".bookkit-course.json"
UPDATES = "updates"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Report:
    """What :func:`update` did, file by file (paths relative to the course folder)."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # edited by the teacher: what differs
    deleted: list[str] = field(default_factory=list)  # deleted by the teacher: left out

    def lines(self) -> list[str]:
        out = [f"kept your version of {rel}: {why}; the new one is in {UPDATES}/{rel}"
               for rel, why in self.kept.items()]
        out += [f"left out {rel}: you deleted it" for rel in self.deleted]
        out.append(f"{len(self.written)} files written, {len(self.unchanged)} unchanged, "
                   f"{len(self.kept)} of yours kept")
        return out


def what_differs(old: bytes, new: bytes, rel: str) -> str:
    """One line: how the teacher's file ``old`` and the new version ``new`` differ."""
    if rel.endswith(".ipynb"):
        try:
            a, b = (json.loads(x)["cells"] for x in (old, new))
        except (ValueError, KeyError, TypeError):
            return "it is no longer a notebook"
        key = lambda c: (c.get("id"), c.get("cell_type"), "".join(c.get("source", "")),  # noqa: E731
                         json.dumps(c.get("metadata", {}).get("nbgrader", {}), sort_keys=True))
        ka, kb = {key(c)[0]: key(c) for c in a}, {key(c)[0]: key(c) for c in b}
        changed = sorted(i for i in ka.keys() & kb.keys() if ka[i] != kb[i])
        parts = []
        if changed:
            parts.append(f"cells {', '.join(map(str, changed[:6]))}"
                         f"{' ...' if len(changed) > 6 else ''} differ")
        if kb.keys() - ka.keys():
            parts.append(f"{len(kb.keys() - ka.keys())} new cells")
        if ka.keys() - kb.keys():
            parts.append(f"{len(ka.keys() - kb.keys())} cells only in yours")
        return ", ".join(parts) or "the cells are the same, their order or outputs differ"
    try:
        diff = list(difflib.unified_diff(old.decode().splitlines(), new.decode().splitlines(),
                                         lineterm="", n=0))
    except UnicodeDecodeError:
        return "the contents differ"
    plus = sum(1 for d in diff if d.startswith("+") and not d.startswith("+++"))
    minus = sum(1 for d in diff if d.startswith("-") and not d.startswith("---"))
    return f"{minus} lines of yours differ from {plus} new lines"


def update(out: Path, files: dict[str, bytes]) -> Report:
    """Write ``files`` (path in the folder -> contents) into ``out`` without losing edits."""
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    recorded: dict[str, str] = manifest.get("files", {})
    report, now = Report(), {}
    for rel, data in sorted(files.items()):
        target = out / rel
        if not target.exists():
            if rel in recorded:
                report.deleted.append(rel)
                now[rel] = recorded[rel]
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            report.written.append(rel)
            now[rel] = digest(data)
            continue
        current = target.read_bytes()
        if current == data:
            report.unchanged.append(rel)
            now[rel] = digest(data)
        elif recorded.get(rel) == digest(current):  # ours, untouched: the new version
            target.write_bytes(data)
            report.written.append(rel)
            now[rel] = digest(data)
        else:  # the teacher's: keep it, put the new version beside the course
            beside = out / UPDATES / rel
            beside.parent.mkdir(parents=True, exist_ok=True)
            beside.write_bytes(data)
            report.kept[rel] = what_differs(current, data, rel)
            if rel in recorded:
                now[rel] = recorded[rel]
    for rel, sha in recorded.items():  # files the builder no longer makes stay recorded
        now.setdefault(rel, sha)
    manifest_path.write_text(json.dumps({"files": now}, indent=1, sort_keys=True) + "\n")
    return report
