"""The claim ledger in the HTML: every claim links to the cell that proves it, and back.

The rules live in ``bookkit.ledger``; this extension applies them to the pages as
Sphinx reads them:

* a labelled display equation (``$$ ... $$ (eq-name)``) gets a small "checked in code" link
  under it, to the code cell whose first line is ``# proves: eq-name``; that cell gets a
  link back to the equation;
* a summary's restatement (``sum-name``) links to the claim it restates and its proof;
* a display equation about a derivative without a label, a claim without a proof, or a
  ``# proves:`` naming no equation is a warning, so the book (built with ``-W``) fails;
* a behavioural claim (an admonition with ``:name: beh-name``, or a paragraph after the
  target ``(beh-name)=``) gets the same "checked in code" link, and its proving cell links
  back to it;
* the directive ``{claim-ledger}`` becomes the table of every claim and its proof, and
  ``{behaviour-ledger}`` the table of every behavioural claim, its conditions and proof.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.nodes import make_id
from docutils.parsers.rst import Directive
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging

from bookkit import ledger as rules

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
# The method is read off the proving cell's calls, not claim by claim: a cell that proves
# two claims shows both methods for each, so the column says so.
HOW = "methods in the proving cell"


class ledger_table(nodes.General, nodes.Element):
    """Placeholder for the table of every claim; filled in once every page is read."""


class behaviour_table(nodes.General, nodes.Element):
    """Placeholder for the table of every behavioural claim."""


class LedgerDirective(Directive):
    has_content = False

    def run(self):
        return [ledger_table()]


class BehaviourLedgerDirective(Directive):
    has_content = False

    def run(self):
        return [behaviour_table()]


def _behaviour_nodes(doctree):
    """(label, node) for each element that carries a ``beh-`` id, outside cell outputs."""
    for node in doctree.findall(nodes.Element):
        if isinstance(node, nodes.target) or _in_cell_output(node):
            continue
        for node_id in node.get("ids", []):
            if node_id.startswith("beh-"):
                yield node_id, node


def _conditions_nodes(node: nodes.Element) -> list[nodes.Node]:
    """The statement's conditions as nodes (math stays math), for the ledger's table.

    What follows "Conditions:" to the end of its paragraph, whether the word opens a
    paragraph of its own (an admonition's **Conditions:** part) or ends the paragraph that
    states the claim (a ``(beh-...)=`` target's). Cross-references stay pending here; the
    ledger's table resolves them (``_resolved_refs``) once every page has been read.
    """
    for para in node.findall(nodes.paragraph):
        if "Conditions" not in para.astext():
            continue
        copy = para.deepcopy()
        children = list(copy.children)
        for k, child in enumerate(children):
            text = child.astext()
            if "Conditions" not in text:
                continue
            rest = children[k + 1:]
            after = text.split("Conditions", 1)[1].lstrip(" :*")
            if isinstance(child, nodes.strong) or not after:
                return [nodes.Text(after)] + rest if after else _strip_colon(rest)
            return [nodes.Text(after)] + rest
    return []


def _resolved_refs(app: Sphinx, docname: str, pieces: list[nodes.Node]) -> list[nodes.Node]:
    """The conditions with each cross-reference made a link that reads as its target does:
    a section's title for ``{ref}``, the equation's number for ``{eq}``, the written text
    when the reference gives one; a reference that finds no target becomes its text and a
    warning (a raw label must never reach a reader)."""
    env, std = app.env, app.env.get_domain("std")
    out: list[nodes.Node] = []
    for piece in pieces:
        piece = piece.deepcopy()
        refs = [piece] if isinstance(piece, addnodes.pending_xref) else []
        if isinstance(piece, nodes.Element):
            refs += list(piece.findall(addnodes.pending_xref, include_self=False))
        for ref in refs:
            target, kind = ref.get("reftarget", ""), ref.get("reftype", "")
            text = ref.astext()
            link = None
            if kind in ("ref", "numref", "any", "myst") and target.lower() in std.labels:
                todoc, anchor, section = std.labels[target.lower()]
                label_text = text if ref.get("refexplicit") else section
                link = _link(label_text, _uri(app, docname, todoc, anchor))
            elif kind == "eq":
                todoc = env.get_domain("math").equations.get(target, (None,))[0]
                if todoc is not None:
                    link = _link(
                        "equation " + _number(env, target),
                        _uri(app, docname, todoc, "equation-" + target),
                    )
            if link is None:
                logger.warning(
                    "claim ledger: the conditions of a behaviour refer to %r, which the "
                    "ledger cannot resolve; write the reference as text or to a label",
                    target,
                    location=(docname, None),
                )
                link = nodes.Text(text)
            if ref is piece:
                piece = link
            else:
                ref.replace_self(link)
        out.append(piece)
    return out


def _strip_colon(children: list[nodes.Node]) -> list[nodes.Node]:
    """``children`` without the colon (and space) a bold **Conditions** left in front."""
    if children and isinstance(children[0], nodes.Text):
        children = [nodes.Text(str(children[0]).lstrip(" :"))] + children[1:]
    return children


def _behaviour_title(node: nodes.Element) -> str:
    """An admonition's title, else the first words of the statement, as plain text.

    Math in the first words is left out of this text (a link's text cannot hold typeset
    math, and raw TeX must never reach a reader): the words end before it.
    """
    title = next(iter(node.findall(nodes.title)), None)
    if title is not None:
        return title.astext()
    para = next(iter(node.findall(nodes.paragraph)), node)
    words: list[str] = []
    for child in para.children:
        if isinstance(child, nodes.math) or len(words) >= 12:
            break
        words += child.astext().split()
    text = " ".join(words[:12]).rstrip(",;:")
    return text + " ..." if text else _behaviour_label_words(node)


def _behaviour_label_words(node: nodes.Element) -> str:
    """The claim's label as words (beh-111-slow-rate: '111 slow rate'), the last resort."""
    label = next((i for i in node.get("ids", []) if i.startswith("beh-")), "a behaviour")
    return label.removeprefix("beh-").replace("-", " ")


def _data(env) -> dict:
    if not hasattr(env, "claim_ledger"):
        env.claim_ledger = {"claims": {}, "proofs": {}, "ledger_pages": set(), "titles": {},
                            "conditions": {}}
    return env.claim_ledger


def _code_cells(doctree):
    for node in doctree.findall(nodes.container):
        if node.get("nb_element") == "cell_code":
            yield node


def _in_cell_output(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.Element) and parent.get("nb_element") == "cell_code":
            return True
        parent = parent.parent
    return False


def _cell_source(cell: nodes.Element) -> str:
    for block in cell.findall(nodes.literal_block):
        return block.astext()
    return ""


def collect(app: Sphinx, doctree: nodes.document) -> None:
    """Read a page's claims and proving cells into the environment; warn about gaps."""
    env, data = app.env, _data(app.env)
    docname = env.docname
    page_claims, page_proofs = [], []
    for block in doctree.findall(nodes.math_block):
        if _in_cell_output(block):
            continue  # a computed result a cell displays, not a statement of the prose
        label = block.get("label")
        latex = block.astext()
        if label:
            page_claims.append(rules.Claim(label, latex, docname))
        elif (reason := rules.derivative_marker(latex)) is not None:
            logger.warning(
                "this display equation states %s but has no claim label: write "
                "$$ ... $$ (eq-<name>) and prove it in a cell, or (def-<name>) if it only "
                "defines something",
                reason,
                location=block,
            )
    for label, node in _behaviour_nodes(doctree):
        page_claims.append(rules.Claim(label, node.astext(), docname))
        data["titles"][label] = _behaviour_title(node)
        data["conditions"][label] = _conditions_nodes(node)
    taken: set[str] = set()
    for cell in _code_cells(doctree):
        source = _cell_source(cell)
        labels = rules.proved_labels(source)
        if not labels:
            continue
        anchor = "proof-" + labels[0]
        while anchor in taken:
            anchor += "-again"
        taken.add(anchor)
        cell["ids"].append(anchor)
        page_proofs.append(
            (rules.Proof(labels, source, docname, cell.get("cell_index", -1)), anchor)
        )
    data["claims"][docname] = page_claims
    data["proofs"][docname] = page_proofs
    if any(True for _ in doctree.findall(ledger_table)) or any(
        True for _ in doctree.findall(behaviour_table)
    ):
        data["ledger_pages"].add(docname)


def purge(app: Sphinx, env, docname: str) -> None:
    data = _data(env)
    data["claims"].pop(docname, None)
    data["proofs"].pop(docname, None)
    data["ledger_pages"].discard(docname)


def merge(app: Sphinx, env, docnames, other) -> None:
    data, theirs = _data(env), _data(other)
    for key in ("claims", "proofs"):
        data[key].update({d: v for d, v in theirs[key].items() if d in docnames})
    data["ledger_pages"] |= theirs["ledger_pages"] & set(docnames)
    data["titles"].update(theirs["titles"])
    data["conditions"].update(theirs["conditions"])


def always_reread_ledger(app: Sphinx, env, added, changed, removed) -> list[str]:
    """The ledger page lists every page's claims, so it is rebuilt whenever any page is."""
    return sorted(_data(env)["ledger_pages"])


def _all(env) -> tuple[list[rules.Claim], list[tuple[rules.Proof, str]]]:
    data = _data(env)
    claims = [c for page in data["claims"].values() for c in page]
    proofs = [p for page in data["proofs"].values() for p in page]
    return claims, proofs


def check(app: Sphinx, env) -> None:
    # The ledger's table is filled with equations only after reading, so tell the math
    # domain now that its page has some: otherwise that page would not get KaTeX's stylesheet.
    for page in _data(env)["ledger_pages"]:
        env.get_domain("math").data["has_equations"][page] = True
    claims, proofs = _all(env)
    for problem in rules.ledger_problems(claims, [p for p, _ in proofs]):
        logger.warning("claim ledger: %s", problem)


def _number(env, label: str) -> str:
    """The equation's number as the page shows it, "(54)", the same way Sphinx's {eq} does:
    with numfig (Jupyter Book numbers equations through the whole book) from the toc's
    figure numbers, else the page's own count."""
    docname, number = env.get_domain("math").equations.get(label, (None, None))
    if docname is None:
        return label
    if env.config.math_numfig and env.config.numfig:
        numbers = env.toc_fignumbers.get(docname, {}).get("displaymath", {})
        found = numbers.get(make_id("equation-" + label), ())
        return "(" + ".".join(map(str, found)) + ")" if found else label
    return f"({number})"


def _uri(app: Sphinx, fromdoc: str, todoc: str, anchor: str) -> str:
    if fromdoc == todoc:
        return "#" + anchor
    return app.builder.get_relative_uri(fromdoc, todoc) + "#" + anchor


def _link(text: str, uri: str, classes=()) -> nodes.reference:
    return nodes.reference("", text, internal=True, refuri=uri, classes=list(classes))


def _proof_links(app, docname, label, anchors) -> list[nodes.Node]:
    found = anchors.get(label, [])
    if len(found) == 1:
        proof, anchor = found[0]
        return [_link("checked in code", _uri(app, docname, proof.where, anchor))]
    out: list[nodes.Node] = [nodes.Text("checked in code: ")]
    for k, (proof, anchor) in enumerate(found, 1):
        if k > 1:
            out.append(nodes.Text(", "))
        out.append(_link(f"cell {k}", _uri(app, docname, proof.where, anchor)))
    return out


def resolve(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Put the links in: claim to proof, proof to claim, and the ledger's table."""
    env = app.env
    claims, proofs = _all(env)
    where = {c.label: c for c in claims}
    anchors: dict[str, list] = {}
    for proof, anchor in proofs:
        for label in proof.labels:
            anchors.setdefault(label, []).append((proof, anchor))
    for block in list(doctree.findall(nodes.math_block)):
        label = block.get("label")
        if not label or label.startswith("def-") or label not in where:
            continue
        note = nodes.paragraph(classes=["claim-proof"])
        if label.startswith("sum-"):
            claim = where.get("eq-" + rules.base_name(label))
            if claim is None:
                continue
            note += nodes.Text("proved as ")
            note += _link(
                "equation " + _number(env, claim.label),
                _uri(app, docname, claim.where, "equation-" + claim.label),
            )
            note += nodes.Text("; ")
            note += _proof_links(app, docname, claim.label, anchors)
        else:
            note += _proof_links(app, docname, label, anchors)
        block.parent.insert(block.parent.index(block) + 1, note)
    for label, node in list(_behaviour_nodes(doctree)):
        if label not in where:
            continue
        note = nodes.paragraph(classes=["claim-proof"])
        note += _proof_links(app, docname, label, anchors)
        if isinstance(node, nodes.Admonition):
            node += note  # inside the box, under the statement
        else:
            node.parent.insert(node.parent.index(node) + 1, note)
    for cell in _code_cells(doctree):
        labels = rules.proved_labels(_cell_source(cell))
        known = [label for label in labels if label in where]
        if not known:
            continue
        back = nodes.paragraph(classes=["proof-backlink"])
        back += nodes.Text("This cell proves ")
        for k, label in enumerate(known):
            if k:
                back += nodes.Text(", ")
            claim = where[label]
            if claim.kind == "behaviour":
                title = _data(env)["titles"].get(label, label)
                back += _link(
                    f"the behaviour \u201c{title}\u201d",
                    _uri(app, docname, claim.where, label),
                    classes=["behaviour-link"],
                )
                continue
            back += _link(
                "equation " + _number(env, label),
                _uri(app, docname, claim.where, "equation-" + label),
            )
        cell.insert(0, back)
    for table in list(doctree.findall(ledger_table)):
        table.replace_self(_ledger(app, docname, claims, anchors))
    for table in list(doctree.findall(behaviour_table)):
        table.replace_self(_behaviour_ledger(app, docname, claims, anchors))


def _reading_order(env) -> list[str]:
    order: list[str] = []

    def walk(doc: str) -> None:
        if doc in order:
            return
        order.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    walk(env.config.root_doc)
    return order + sorted(set(env.all_docs) - set(order))


def _table(app: Sphinx, claims, kind: str, classes: str, widths: tuple[int, ...],
           headings: tuple[str, ...]):
    """An empty ledger table of ``widths`` and ``headings``, its body, and the claims of
    ``kind`` in reading order."""
    order = {doc: k for k, doc in enumerate(_reading_order(app.env))}
    rows = sorted((c for c in claims if c.kind == kind), key=lambda c: order.get(c.where, 10**6))
    table = nodes.table(classes=[classes, "colwidths-given"])
    group = nodes.tgroup(cols=len(widths))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    head += _row([nodes.Text(t) for t in headings])
    body = nodes.tbody()
    group += body
    return table, body, rows


def _proofs(app: Sphinx, docname: str, anchors, label: str) -> tuple[list, list]:
    """The links to the cells that prove ``label`` (comma-separated), and how each proves."""
    proved, how = [], []
    for k, (proof, anchor) in enumerate(anchors.get(label, [])):
        if k:
            proved.append(nodes.Text(", "))
        proved.append(_link(f"cell {proof.cell}", _uri(app, docname, proof.where, anchor)))
        if proof.method not in how:
            how.append(proof.method)
    return proved, [nodes.Text("; ".join(how))]


def _ledger(app: Sphinx, docname: str, claims, anchors) -> nodes.Node:
    """The table: each claim, where it stands, the cell that proves it and how."""
    env = app.env
    table, body, rows = _table(app, claims, "claim", "claim-ledger", (52, 18, 12, 18),
                               ("claim", "where", "proved by", HOW))
    for claim in rows:
        title = env.titles[claim.where].astext() if claim.where in env.titles else claim.where
        title = title.split(":")[0]  # "The 1-1-1 network: one neuron per layer" -> the name
        number = _number(env, claim.label)
        here = [
            _link(f"{title}, {number}", _uri(app, docname, claim.where, "equation-" + claim.label))
        ]
        proved, how = _proofs(app, docname, anchors, claim.label)
        math = nodes.math_block(claim.latex, claim.latex, nowrap=False, number=None)
        body += _row([math, here, proved, how], raw_first=True)
    return table


def _behaviour_ledger(app: Sphinx, docname: str, claims, anchors) -> nodes.Node:
    """The table of behavioural claims: the claim, its conditions, its proof and how."""
    env = app.env
    table, body, rows = _table(app, claims, "behaviour", "behaviour-ledger", (34, 40, 12, 14),
                               ("behaviour", "conditions", "proved by", HOW))
    for claim in rows:
        page = env.titles[claim.where].astext() if claim.where in env.titles else claim.where
        title = _data(env)["titles"].get(claim.label, claim.label)
        here = [
            _link(title, _uri(app, docname, claim.where, claim.label)),
            nodes.Text(f" ({page.split(':')[0]})"),
        ]
        proved, how = _proofs(app, docname, anchors, claim.label)
        conditions = _resolved_refs(
            app, docname, _data(env)["conditions"].get(claim.label, [])
        )
        if not "".join(n.astext() for n in conditions).strip():
            logger.warning(
                "claim ledger: the behaviour %s states no conditions the ledger can show: "
                "write them after 'Conditions:' in the paragraph that states it",
                claim.label,
                location=(claim.where, None),
            )
        body += _row([here, conditions or [nodes.Text("(none stated)")], proved, how])
    return table


def _row(cells, raw_first: bool = False) -> nodes.row:
    row = nodes.row()
    for k, content in enumerate(cells):
        entry = nodes.entry()
        if raw_first and k == 0:
            entry += content
        else:
            para = nodes.paragraph()
            for piece in content if isinstance(content, list) else [content]:
                para += piece
            entry += para
        row += entry
    return row


def add_static(app: Sphinx) -> None:
    app.config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict:
    app.add_node(ledger_table)
    app.add_node(behaviour_table)
    app.add_directive("claim-ledger", LedgerDirective)
    app.add_directive("behaviour-ledger", BehaviourLedgerDirective)
    app.connect("builder-inited", add_static)
    app.add_css_file("claim-ledger.css")
    app.connect("doctree-read", collect)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-get-outdated", always_reread_ledger)
    app.connect("env-check-consistency", check)
    app.connect("doctree-resolved", resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 3}
