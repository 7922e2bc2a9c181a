"""The course's additions to nbgrader's autograde: whose work it is, and a verdict of its own.

* :class:`StudentIdentity` (before the notebook runs) puts nbgrader's student id for the
  submission in the environment the grading kernel inherits, where
  :func:`backprop_book.classroom.class_student` reads it: the student sees, and is graded
  on, the numbers of their own id.
* :class:`VerifyAnswers` (after the notebook ran) decides every graded check itself, in
  nbgrader's process, which no cell of the student's runs in. Each test cell
  (``graded("<module>.<checker>", answer)``, restored from nbgrader's checksums) left a
  record of the answer; the same checker runs again on it, with the student id nbgrader
  grades under, and the cell's outputs become that verdict (a code exercise's record holds
  its function's results on the inputs this process draws again: see
  :mod:`backprop_book.grading`). A checker redefined in the
  notebook, a patched NumPy, ``set_student`` or a changed environment in the kernel change
  nothing. Before that, every cell the student wrote or added is read: one that reaches
  into the checkers, the identity or the interpreter's internals (:func:`audit`) scores 0
  on every check after it, with a message that says why.

The course's ``nbgrader_config.py`` installs both with :func:`autograde_preprocessors`.
nbgrader is still not a sandbox: a student's code runs in the grading kernel as the grader's
operating-system user (see the instructors' page).
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from pathlib import Path

from nbformat import from_dict
from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import ClearSolutions, NbGraderPreprocessor
from traitlets import List

from backprop_book import checkers
from backprop_book.classroom import STUDENT_ENV
from backprop_book.grading import RECORD_MIME, checker, decode

#: Names an answer never needs, and a cheat does: the checkers and their answer key, the
#: student's identity, the interpreter's and the operating system's back doors.
FORBIDDEN = frozenset("""
    exercises checkers classroom grading set_student use_class_identity _STUDENT
    importlib __import__ __globals__ __closure__ __code__ __builtins__ __dict__ __file__
    __getattribute__ __subclasses__ builtins getattr setattr delattr globals vars locals
    exec eval compile sys os environ putenv subprocess ctypes gc inspect open pathlib
    Path read_text read_bytes gradebook RECORD_MIME Recorder Replay codecheck recording
""".split())
EXERCISE_IMPORT = re.compile(r"^from backprop_book\.exercises import (\w+) as (\w+)", re.M)


class StudentIdentity(NbGraderPreprocessor):
    """Set ``STUDENT_ENV`` to the id of the submission about to be executed."""

    def preprocess(self, nb, resources):
        student = resources["nbgrader"]["student"]
        if not student:
            raise ValueError("nbgrader gave no student id for this submission")
        os.environ[STUDENT_ENV] = str(student)
        return nb, resources


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _tokens(code: str) -> list[tokenize.TokenInfo]:
    try:
        return [t for t in tokenize.generate_tokens(io.StringIO(code).readline)
                if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                                  tokenize.INDENT, tokenize.DEDENT)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


def audit(code: str, modules: set[str]) -> str | None:
    """Why ``code`` (a cell a student wrote) reaches where no answer needs to, or ``None``.

    ``modules``: the names the assignment's exercise module and the book's package are
    imported as (``ex``, ``bb``). Of those, only public attributes may be used
    (``ex.chain_numbers()``), never a checker (``ex.check_...``) or the module itself.
    """
    tokens = _tokens(code)
    if not tokens and code.strip():
        words = set(re.findall(r"[A-Za-z_]\w*", code))
        bad = sorted(words & FORBIDDEN)
        return f"it uses {bad[0]}" if bad else None
    for k, tok in enumerate(tokens):
        if tok.type != tokenize.NAME:
            continue
        after_dot = k > 0 and tokens[k - 1].string == "."
        if tok.string in FORBIDDEN:
            return f"it uses {tok.string}"
        if after_dot and tok.string.startswith("__"):
            return f"it uses the attribute {tok.string}"
        if tok.string in modules and not after_dot:
            nxt = tokens[k + 1:k + 3]
            if not (len(nxt) == 2 and nxt[0].string == "." and nxt[1].type == tokenize.NAME
                    and not nxt[1].string.startswith(("check_", "_"))):
                shown = (f"{tok.string}.{nxt[1].string}" if len(nxt) == 2 and nxt[0].string == "."
                         else f"{tok.string} itself")
                return f"it uses {shown} (of {tok.string}, only the given numbers are yours)"
    return None


#: A keyword of a test cell whose value is not a literal (``engine=Value``): from the record.
FROM_RECORD = object()


def graded_call(code: str) -> tuple[str, dict] | None:
    """The checker a test cell ``graded("<module>.<checker>", ..., part="dW1")`` names, and
    its keywords: a literal's value, or :data:`FROM_RECORD`; ``None`` for any other cell."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "graded" and call.args
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
        return None
    keywords = {}
    for k in call.keywords:
        if k.arg is None:
            return None  # graded(..., **options): not a cell the course writes
        try:
            keywords[k.arg] = ast.literal_eval(k.value)
        except ValueError:
            keywords[k.arg] = FROM_RECORD
    return call.args[0].value, keywords


def graded_path(code: str) -> str | None:
    """The checker a test cell ``graded("<module>.<checker>", ...)`` names, or ``None``."""
    found = graded_call(code)
    return found[0] if found else None


def error_output(ename: str, message: str) -> dict:
    colour = "1;33" if ename == "NotDoneYet" else "1;31"
    head = {"NotDoneYet": "Not done yet.", "NotQuiteRight": "Not quite right."}.get(ename, ename)
    return {"output_type": "error", "ename": ename, "evalue": message,
            "traceback": checkers.wrapped(f"\x1b[{colour}m{head}\x1b[0m", message)}


def judge(path: str, answers: list[dict], student: str, keywords: dict | None = None,
          recorded: dict | None = None) -> list[dict]:
    """The outputs of a test cell: ``path``'s verdict on the recorded ``answers``, for
    ``student``, decided here (the checkers' own numbers, NBGRADER_EXECUTION set).

    ``keywords``: the test cell's own (:func:`graded_call`); a literal is used as the cell
    says, a :data:`FROM_RECORD` one is read from ``recorded`` (the record's keywords)."""
    saved_student, saved_mode = checkers.student(), os.environ.get("NBGRADER_EXECUTION")
    checkers.set_student(student)
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    try:
        options = {k: (decode(recorded[k]) if v is FROM_RECORD else v)
                   for k, v in (keywords or {}).items()
                   if v is not FROM_RECORD or k in (recorded or {})}
        verdict = checker(path)(*[decode(a) for a in answers], **options)
    except checkers.NotQuiteRight as wrong:
        return [error_output(type(wrong).__name__, str(wrong))]
    except Exception as error:  # a checker that cannot read the answer: no credit, one line
        return [error_output("NotQuiteRight", f"the answer could not be checked "
                                              f"({type(error).__name__}: {error})")]
    finally:
        checkers.set_student(saved_student)
        if saved_mode is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = saved_mode
    data = {"text/plain": str(verdict)}
    if hasattr(verdict, "_repr_html_"):
        data["text/html"] = verdict._repr_html_()
    score = getattr(verdict, "score", None)  # partial credit, where a checker gives it
    if isinstance(score, int | float) and not isinstance(score, bool):
        return [{"output_type": "execute_result", "data": {"text/plain": repr(float(score))},
                 "metadata": {}, "execution_count": None},
                {"output_type": "display_data", "data": data, "metadata": {}}]
    return [{"output_type": "display_data", "data": data, "metadata": {}}]


def _numbers(encoded: dict) -> bool:
    """Whether an encoded answer is a number or an array of numbers (a value that depends on
    whose numbers were used), not a function, a formula or a choice."""
    kind = encoded.get("t")
    if kind in ("int", "float", "nd"):
        return True
    return kind in ("tuple", "list") and bool(encoded.get("v")) and all(
        _numbers(x) for x in encoded["v"])


def right_for(path: str, answers: list[dict], keywords: dict | None, recorded: dict | None,
              others: list[str | None]) -> list[str | None]:
    """Which of ``others`` (student ids; ``None`` for the book's numbers) a wrong answer is
    right for: a number copied from a neighbour, or computed from the book's numbers."""
    return [other for other in others
            if not any(o["output_type"] == "error"
                       for o in judge(path, answers, other, keywords, recorded))]


def classmates(resources: dict) -> list[str]:
    """The students of the gradebook nbgrader grades into (none when it has none)."""
    url = resources.get("nbgrader", {}).get("db_url")
    if not url:
        return []
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        return sorted(s.id for s in gb.students)


#: Where the grader notes, in an autograded notebook, whose numbers a wrong answer is right
#: for (``bookkit grades similar`` lists it; the student's feedback never shows it).
RIGHT_FOR = "right_for"


def _records(cell) -> list[dict]:
    return [o["data"][RECORD_MIME] for o in cell.get("outputs", [])
            if o.get("output_type") == "display_data" and RECORD_MIME in o.get("data", {})]


class VerifyAnswers(NbGraderPreprocessor):
    """Decide each graded check in nbgrader's process, from the answer the kernel recorded."""

    def preprocess(self, nb, resources):
        student = str(resources["nbgrader"]["student"])
        code = "\n".join(_source(c) for c in nb.cells if c.cell_type == "code")
        modules = {alias for _, alias in EXERCISE_IMPORT.findall(code)} | {"bb", "backprop_book"}
        tainted, others = None, None
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                continue
            if not meta.get("locked") and not meta.get("grade") and tainted is None:
                why = audit(_source(cell), modules)
                if why:
                    tainted = why
                    self.log.warning("%s: a cell reaches into the checkers (%s); every "
                                     "check after it scores 0", student, why)
            found = graded_call(_source(cell)) if meta.get("grade") else None
            if found is None:
                continue
            path, keywords = found
            kept = [o for o in cell.outputs if not (o.get("output_type") == "display_data"
                                                    and RECORD_MIME in o.get("data", {}))]
            records = [r for r in _records(cell) if r.get("checker") == path]
            if tainted:
                cell.outputs = [from_dict(error_output(
                    "NotQuiteRight", f"not graded: a cell above this check is not allowed in "
                    f"an answer, because {tainted}. Ask your teacher."))]
            elif not records:  # the cell failed before recording (NameError...), or was gamed
                errors = [o for o in kept if o.get("output_type") == "error"]
                cell.outputs = errors or [from_dict(error_output(
                    "NotQuiteRight", "no answer reached the grader: run the cells above, then "
                    "this check, unchanged"))]
            else:
                record = records[-1]
                # the verdict only: the record has served (and no viewer could show it)
                outputs = judge(path, record["answers"], student, keywords,
                                record.get("keywords"))
                cell.outputs = [from_dict(o) for o in outputs]
                wrong = any(o["output_type"] == "error" for o in outputs)
                if wrong and record["answers"] and all(_numbers(a) for a in record["answers"]):
                    if others is None:
                        others = [None] + [s for s in classmates(resources) if s != student]
                    found = right_for(path, record["answers"], keywords,
                                      record.get("keywords"), others)
                    if found:
                        cell.metadata.setdefault("backprop_book", {})[RIGHT_FOR] = found
                        self.log.warning("%s: the answer of %s is right for the numbers of %s",
                                         student, meta.get("grade_id"),
                                         ", ".join(o or "the book" for o in found))
        return nb, resources


#: An exercise's statement in an assignment (plain Markdown: bookkit.plain_markdown).
EXERCISE_TITLE = re.compile(r"^\*\*Exercise: (.+?)\*\*", re.M)
#: nbgrader's feedback page, with each check named after its exercise: a file of the
#: ``feedback`` template (bookkit/feedback/feedback/), which extends nbgrader's page.
FEEDBACK_TEMPLATE = "backprop-feedback.html.j2"


class ExerciseTitles(NbGraderPreprocessor):
    """Name every graded cell after its exercise (``metadata.backprop_book.title``): the
    feedback page's table of contents lists "The sigmoid's slope", or "All four gradients,
    as code: dC_dw1" for one array of a code exercise, where nbgrader's says "Test cell"."""

    #: configurable, as in nbgrader's GetGrades: the feedback's exporter configures it
    display_data_priority = List(["text/html", "application/pdf", "text/latex",
                                  "image/svg+xml", "image/png", "image/jpeg",
                                  "text/plain"]).tag(config=True)

    def preprocess(self, nb, resources):
        title, named = None, []
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                found = EXERCISE_TITLE.search(_source(cell))
                title = found.group(1) if found else title
            meta = cell.metadata.get("nbgrader", {})
            if (meta.get("grade") or meta.get("solution")) and title is not None:
                named.append((cell, title))
        checks = [title for cell, title in named if not cell.metadata["nbgrader"].get("solution")]
        for cell, title in named:
            call = graded_call(_source(cell)) if cell.cell_type == "code" else None
            part = call[1].get("part") if call else None
            answer = _answer_name(_source(cell)) if call else None
            if isinstance(part, str):
                title = f"{title}: {part}"
            elif answer and checks.count(title) > 1:  # two checks of one exercise
                title = f"{title}: {answer}"
            cell.metadata.setdefault("backprop_book", {})["title"] = title
        return nb, resources


def _answer_name(code: str) -> str | None:
    """The answer a test cell ``graded("<checker>", slope)`` checks: ``"slope"``."""
    try:
        call = ast.parse(code).body[0].value
        return call.args[1].id
    except (SyntaxError, IndexError, AttributeError):
        return None


#: TeX in Markdown: ``$$...$$``, or ``$...$`` around no space at either end (not ``$5``).
MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$\w])\$(?!\s)([^$\n]+?)(?<!\s)\$(?![\w$])", re.S)
#: Code in Markdown, where a ``$`` is a dollar: fenced blocks and inline spans.
CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)


def with_mathml(text: str, render) -> str:
    """``text`` (Markdown) with each TeX span outside code replaced by ``render(tex,
    display)``; a span ``render`` cannot render (:class:`bookkit.katex.TeXError`) stays TeX."""
    from .katex import TeXError

    def one(match: re.Match) -> str:
        tex, display = (match.group(1), True) if match.group(1) else (match.group(2), False)
        try:
            html = render(tex.strip(), display)
        except TeXError:
            return match.group(0)
        return f"<div>{html}</div>" if display else html

    parts = CODE.split(text)
    return "".join(part if k % 2 else MATH.sub(one, part) for k, part in enumerate(parts))


#: Set in the feedback's resources once :class:`OfflineMath` has made every formula MathML.
MATH_IS_MATHML = "backprop_book_math_is_mathml"


class OfflineMath(NbGraderPreprocessor):
    """The feedback page's math as MathML, which the browser lays out itself.

    nbgrader's feedback page loads MathJax from the web, so a student's page offline (a
    class hub often is) shows raw TeX: ``$\\partial C/\\partial w_1$``. With the book's KaTeX
    (:mod:`bookkit.katex`, ``make assets``) every formula of the Markdown and every TeX
    output (SymPy's) becomes MathML, and ``resources[MATH_IS_MATHML]`` tells the page's
    template (:data:`FEEDBACK_TEMPLATE`) to leave out MathJax's script, a request to the
    web that could only fail or wait; where KaTeX is not installed the page stays as it was.
    """

    #: configurable, as in nbgrader's GetGrades: the feedback's exporter configures it
    display_data_priority = List(["text/html", "application/pdf", "text/latex",
                                  "image/svg+xml", "image/png", "image/jpeg",
                                  "text/plain"]).tag(config=True)

    def preprocess(self, nb, resources):
        from . import katex

        try:
            mathml = katex.renderer(output="mathml")
        except RuntimeError as missing:  # no KaTeX, or no Node: TeX as nbgrader shows it
            self.log.info("feedback math left as TeX: %s", missing)
            return nb, resources
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = with_mathml(_source(cell), mathml.render)
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "text/latex" in data and "text/html" not in data:
                    html = with_mathml(data["text/latex"], mathml.render)
                    if html != data["text/latex"]:
                        data["text/html"] = html
        resources[MATH_IS_MATHML] = True
        return nb, resources


def feedback_preprocessors() -> list:
    """nbgrader's generate_feedback preprocessors, with :class:`ExerciseTitles` and
    :class:`OfflineMath` after the grades are read."""
    from nbgrader.converters.generate_feedback import GenerateFeedback

    default = GenerateFeedback.class_traits()["preprocessors"].default()
    return [default[0], ExerciseTitles, OfflineMath, *default[1:]]


def feedback_template_dirs() -> list[str]:
    """Where nbconvert finds nbgrader's ``feedback`` template and :data:`FEEDBACK_TEMPLATE`
    beside it (nbgrader's first: the page it extends)."""
    import nbgrader

    own = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    return [str(own), str(Path(__file__).with_name("feedback"))]


#: What an answer region at a cell's top level becomes in the students' release. The
#: answer is already bound to its placeholder above the region (``slope = None``), so its
#: check says "not done yet", and nothing is raised: *Run All* runs the whole assignment
#: and prints every exercise's given numbers.
TOP_LEVEL_STUB = "# YOUR CODE HERE"


class ClearSolutionsKeepRunning(ClearSolutions):
    """nbgrader's ClearSolutions, whose stub raises only inside a function.

    nbgrader puts ``raise NotImplementedError()`` where every solution was; at a cell's top
    level that stops *Run All* at the first exercise. A cell whose solution regions all
    start at the top level gets :data:`TOP_LEVEL_STUB` instead; inside a function (a code
    exercise), the function still raises when called, which its checker reads as "not
    done yet".
    """

    def _replace_solution_region(self, cell, language):
        begins = [ln for ln in cell.source.split("\n") if self.begin_solution_delimeter in ln]
        if cell.cell_type != "code" or not begins or any(ln[:1].isspace() for ln in begins):
            return super()._replace_solution_region(cell, language)
        saved = self.code_stub
        self.code_stub = dict(saved, **{language: TOP_LEVEL_STUB})
        try:
            return super()._replace_solution_region(cell, language)
        finally:
            self.code_stub = saved


def generate_preprocessors() -> list:
    """nbgrader's generate_assignment preprocessors, with :class:`ClearSolutionsKeepRunning`
    in the place of ClearSolutions."""
    from nbgrader.converters.generate_assignment import GenerateAssignment

    default = GenerateAssignment.class_traits()["preprocessors"].default()
    return [ClearSolutionsKeepRunning if step is ClearSolutions else step for step in default]


def autograde_preprocessors() -> list:
    """nbgrader's own autograde preprocessors, with :class:`StudentIdentity` first and
    :class:`VerifyAnswers` right after the notebook is executed."""
    from nbgrader.preprocessors import Execute

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    steps = [StudentIdentity]
    for step in default:
        steps.append(step)
        if step is Execute:
            steps.append(VerifyAnswers)
    return steps
