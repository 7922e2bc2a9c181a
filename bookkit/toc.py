"""The book's shape, read from ``_toc.yml``: its pages in reading order."""

from __future__ import annotations

from pathlib import Path

from .paths import ROOT


def pages(root: Path = ROOT) -> list[tuple[str, str]]:
    """(part caption, entry) for every document of the toc, in reading order.

    An entry is a path without suffix (``book/intro``); the root page has no caption.
    """
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found = [("", toc["root"])]

    def walk(items, caption):
        for item in items or []:
            if "file" in item:
                found.append((caption, item["file"]))
            walk(item.get("sections"), caption)

    for part in toc.get("parts", []):
        walk(part.get("chapters"), part.get("caption", ""))
    walk(toc.get("chapters"), "")
    return found


def entries(root: Path = ROOT) -> list[str]:
    """Every document the toc lists (``book/intro``, ...), in reading order."""
    return [entry for _, entry in pages(root)]


def source_of(entry: str, root: Path = ROOT) -> Path:
    """The notebook or Markdown file behind a toc entry."""
    for suffix in (".ipynb", ".md"):
        path = root / (entry + suffix)
        if path.exists():
            return path
    raise FileNotFoundError(
        f"_toc.yml lists {entry!r} but neither {entry}.ipynb nor {entry}.md exists"
    )


def notebooks(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks the toc lists, in reading order."""
    return [p for p in (source_of(e, root) for e in entries(root)) if p.suffix == ".ipynb"]
