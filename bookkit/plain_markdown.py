"""MyST, as the book writes it, turned into the plain Markdown every notebook viewer shows.

The book's chapters use MyST: ``(label)=`` targets, ``{figure}`` and ``{exercise}``
directives, admonitions, and roles such as ``{ref}`` and ``{doc}``. JupyterLab with
jupyterlab-myst renders them; the classic notebook, nbconvert (nbgrader's feedback) and the
formgrader show them as raw code blocks. The course's assignments are written in the
Markdown they all share:

* a ``(label)=`` line goes; so does an equation's ``(eq-label)`` after ``$$``;
* ``{figure}``: the image with its alt text, and its caption in italics;
* ``{exercise} Title``: a bold "Exercise: Title" line, then the statement;
* an admonition (``{note}``, ``{tip}``, ``{admonition} Title``, ...): a quoted block
  with its title in bold; any other directive: its body;
* a role: its text (``{ref}`the text <label>``` -> the text; ``{math}`x``` -> ``$x$``).
"""

from __future__ import annotations

import re

OPEN = re.compile(r"^(\s*)([`:]{3,})\{([\w-]+)\}[ \t]*(.*)$")
OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*)$")
TARGET = re.compile(r"^\s*\([\w:.-]+\)=\s*$")
EQ_LABEL = re.compile(r"(\$\$)[ \t]*\([\w:.-]+\)[ \t]*$", re.M)
ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention",
               "danger", "error", "seealso", "admonition"}


def _role(match: re.Match) -> str:
    name, text = match.group(1), match.group(2)
    if name == "math":
        return f"${text}$"
    if name in ("code", "literal"):
        return f"`{text}`"
    titled = re.match(r"^(.*?)\s*<([^>]*)>$", text, re.S)
    if titled and titled.group(1):
        return titled.group(1)
    target = titled.group(2) if titled else text
    if name == "eq":
        return f"({target})"
    return target.lstrip("~!").split("/")[-1].replace("-", " ") if name in (
        "ref", "doc", "numref", "prf:ref") else target


def _block(name: str, argument: str, options: dict[str, str], body: list[str]) -> list[str]:
    text = "\n".join(body).strip("\n")
    if name == "figure":
        alt = options.get("alt", "").replace("]", ")").replace("[", "(")
        out = [f"![{alt}]({argument.strip()})"]
        if text:
            out += ["", f"*{text}*"]
        return out
    if name == "exercise":
        title = argument.strip()
        return [f"**Exercise{': ' + title if title else ''}**", "", text]
    if name in ADMONITIONS:
        title = argument.strip() if name == "admonition" else name.capitalize()
        quoted = [f"> {line}" if line else ">" for line in text.splitlines()]
        return [f"> **{title}.**", ">", *quoted]
    return [text]


def plain(markdown: str) -> str:
    """``markdown`` (MyST) as plain Markdown; directives may nest."""
    lines = markdown.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        opened = OPEN.match(line)
        if TARGET.match(line):
            i += 1
            continue
        if not opened:
            out.append(line)
            i += 1
            continue
        fence, name, argument = opened.group(2), opened.group(3), opened.group(4)
        j, options = i + 1, {}
        while j < len(lines) and OPTION.match(lines[j]):
            key, value = OPTION.match(lines[j]).groups()
            options[key] = value
            j += 1
        body, depth = [], 0
        while j < len(lines):
            stripped = lines[j].strip()
            if OPEN.match(lines[j]) and OPEN.match(lines[j]).group(2)[0] == fence[0]:
                depth += 1
            elif stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                if depth == 0:
                    break
                depth -= 1
            body.append(lines[j])
            j += 1
        inner = plain("\n".join(body)).splitlines()
        out += _block(name, argument, options, inner)
        i = j + 1
    text = "\n".join(out)
    text = EQ_LABEL.sub(r"\1", text)
    text = ROLE.sub(_role, text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + ("\n" if markdown.endswith("\n") else "")
