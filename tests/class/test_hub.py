"""A class on a real JupyterHub, driven in Chromium as the people in it would.

``python -m bookkit hub`` (what ``make hub`` runs) starts JupyterHub on 127.0.0.1 with a shared
password, SimpleLocalProcessSpawner and the proxy from the npm lock file. Then:

* the teacher logs in through the hub's login page, gets a JupyterLab of their own, opens
  nbgrader's formgrader inside it (Nbgrader -> Formgrader) and there generates and releases
  the 1-1-1 assignment with its buttons;
* two students log in the same way; each fetches the assignment in nbgrader's list for
  students (Nbgrader -> Assignment List, in JupyterLab), opens it, runs it all (Run All
  reaches the last cell: an untouched answer raises nothing), types an answer to the first
  exercise below its "YOUR CODE HERE" (Ada the right formula for her numbers, Bea the
  classic slip sigma'(z) = z(1 - z)), runs the check, saves, and submits it in the same
  list; Ada then closes her browser;
* the teacher collects the submissions with nbgrader's command, typed into a Lab terminal
  (the book's tools are on its PATH), then, in the formgrader, autogrades each student's
  and generates and releases the feedback;
* the gradebook has Ada's point and not Bea's, and Bea's feedback, fetched in her
  Assignment List and opened in her own server, names her mistake.

The other steps are clicks in JupyterLab, as the class makes them, not nbgrader commands
typed into terminals: each command started a Python of its own (a second of CPU to import
nbgrader), and each terminal kept Chromium redrawing its cursor while it was open; the
formgrader and the Assignment List do the same work in the person's running server.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from browser import HANG_MS
from lab_server import wait_until_up

from bookkit.browser import note_outside_requests
from bookkit.paths import ROOT

pytestmark = pytest.mark.hub

ASSIGNMENT = "01-one-neuron-chain"
PASSWORD = "class-" + secrets.token_hex(4)
RIGHT = 'slope = 1 / (1 + np.exp(-nums["z"])) * (1 - 1 / (1 + np.exp(-nums["z"])))'
SLIP = 'slope = nums["z"] * (1 - nums["z"])'


def free_port_block() -> int:
    """A port p with p, p + 1 and p + 2 free (the hub, its internal API, the proxy's API)."""
    import socket

    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            socks = [socket.socket() for _ in range(3)]
            for k, sock in enumerate(socks):
                sock.bind(("127.0.0.1", port + k))
            return port
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no three free ports in a row")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    state = tmp_path_factory.mktemp("hub")
    port, token = free_port_block(), secrets.token_hex(16)
    env = dict(os.environ, BACKPROP_HUB_STATE=str(state), BACKPROP_HUB_PORT=str(port),
               BACKPROP_HUB_PASSWORD=PASSWORD, BACKPROP_HUB_API_TOKEN=token)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    log = open(state / "hub.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "bookkit", "hub"], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/hub/api/", proc, 180, "JupyterHub", state / "hub.log")
        yield {"base": base, "state": state, "token": token, "outside": []}
    finally:
        def stop(person: str) -> None:  # through the hub, which waits for the server to exit
            request = urllib.request.Request(f"{base}/hub/api/users/{person}/server",
                                             method="DELETE",
                                             headers={"Authorization": f"token {token}"})
            try:
                urllib.request.urlopen(request, timeout=30).close()
            except OSError:
                pass

        with ThreadPoolExecutor() as pool:  # all three at once: each stop is mostly waiting
            list(pool.map(stop, ("teacher", "ada", "bea")))
        proc.send_signal(signal.SIGTERM)  # the hub stops the proxy on its way out
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def log_in(b, hub, person: str):
    """A fresh browser profile; the hub's login page; the person's own JupyterLab.

    Every request the profile makes that the hub does not serve is noted in
    ``hub["outside"]`` (the browser refuses them: it resolves no host but 127.0.0.1)."""
    context = b.new_context(viewport={"width": 1400, "height": 1000})
    note_outside_requests(context, hub["base"], hub["outside"])
    context.set_default_timeout(HANG_MS)
    context.set_default_navigation_timeout(HANG_MS)
    page = context.new_page()
    page.goto(f"{hub['base']}/hub/login")
    page.fill("#username_input", person)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf"/user/{person}/lab"))
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started")
    page.wait_for_function("() => window.jupyterapp.commands.hasCommand('terminal:create-new')")
    # nbgrader's JupyterLab extensions: its menu, and its assignment list for students
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for()
    assert page.evaluate("() => window.jupyterapp.commands.listCommands()"
                         ".some(c => c.startsWith('nbgrader:'))")
    return page


def in_terminal(page, hub, person: str, step: str, command: str, timeout: float = 300) -> str:
    """Type ``command`` into a new Lab terminal of ``person``, then ``exit``; wait for it
    and for its tab to close; return its log."""
    home = hub["state"] / "home" / person
    done, log = home / f".{step}.done", home / f".{step}.log"
    before = page.locator(".jp-Terminal").count()
    page.evaluate("() => { window.jupyterapp.commands.execute('terminal:create-new'); }")
    # Wait for the NEW terminal: a second terminal opens in a new tab, and the first one,
    # hidden behind it, must not be the one we type into.
    page.wait_for_function(
        f"() => document.querySelectorAll('.jp-Terminal').length > {before}")
    terminal = page.locator(".jp-Terminal:visible").last
    terminal.wait_for(state="visible")
    # Type once its connection to the server's terminal is open (the shell reads what is
    # typed before its prompt shows), not after a fixed pause.
    page.wait_for_function("""() => {
        const w = window.jupyterapp.shell.currentWidget;
        const s = w && w.content && w.content.session;
        return s && s.connectionStatus === 'connected';
    }""")
    terminal.click()
    page.keyboard.type(f"( {command} ) > {log} 2>&1; echo $? > {done}; exit")
    page.keyboard.press("Enter")
    deadline = time.monotonic() + timeout
    while not done.exists() or not done.read_text().strip():
        assert time.monotonic() < deadline, f"{person}: {step} did not finish"
        time.sleep(0.2)
    text = log.read_text()
    assert done.read_text().strip() == "0", f"{person}: {step} failed:\n{text}"
    # Lab closes a terminal's tab when its shell exits (its closeOnExit setting)
    page.wait_for_function(
        f"() => document.querySelectorAll('.jp-Terminal').length === {before}")
    return text


def in_the_assignment_list(page, where: str, button: str, then: str) -> None:
    """Nbgrader -> Assignment List (nbgrader's list for students): click ``button`` on the
    assignment's row in the list ``where`` (released, fetched, submitted); once the list is
    reloaded, the assignment must be in the list ``then``."""
    page.evaluate("() => { window.jupyterapp.commands.execute('nbgrader:open-assignment-list'); }")
    row = page.locator(f"#{where}_assignments_list > .list_item", has_text=ASSIGNMENT)
    busy = page.locator(f"#{where}_assignments_list button", has_text=re.compile(r"\.\.\.$"))
    row.get_by_role("button", name=button, exact=True).click()  # "Fetching...", until done
    busy.wait_for(state="detached")
    dialog = page.locator("#submission-message")
    assert not dialog.count(), dialog.inner_text()
    done = page.locator(f"#{then}_assignments_list > .list_item", has_text=ASSIGNMENT)
    assert done.count(), f"{button}: {ASSIGNMENT} is not in the {then} list"


def answer_first_exercise(page, person: str, code: str) -> str:
    """Open the fetched assignment, run it, type ``code`` as the first answer, check, save."""
    page.evaluate(f"""() => {{ window.jupyterapp.commands.execute('docmanager:open',
                       {{path: '{ASSIGNMENT}/{ASSIGNMENT}.ipynb'}}); }}""")
    page.locator(".jp-NotebookPanel .jp-MarkdownCell").first.wait_for()
    page.wait_for_function("""() => {
        const w = window.jupyterapp.shell.currentWidget;
        return w && w.sessionContext && w.sessionContext.session &&
               w.sessionContext.session.kernel &&
               w.sessionContext.session.kernel.status === 'idle';
    }""")
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    index = page.evaluate("""() => {
        const nb = window.jupyterapp.shell.currentWidget.content;
        return nb.widgets.findIndex(c => (c.model.getMetadata('nbgrader') || {}).grade_id
                                            === 'ex-111-sigmoid-slope');
    }""")
    assert index > 0, "the first exercise's answer cell is missing"
    # Run All runs the whole release (an untouched answer raises nothing); wait until it
    # has run the last cell. The check below the answer then says Not done yet.
    page.wait_for_function("""() => {
        const panel = window.jupyterapp.shell.currentWidget;
        const cells = panel.content.widgets;
        return cells[cells.length - 1].model.executionCount !== null &&
               panel.sessionContext.session.kernel.status === 'idle';
    }""")
    check = index + 1
    ran = page.evaluate(f"""() => window.jupyterapp.shell.currentWidget.content
                              .widgets[{check}].model.executionCount""")
    assert ran is not None, "Run All stopped before the first check"
    page.evaluate(f"""() => {{
        const nb = window.jupyterapp.shell.currentWidget.content;
        nb.activeCellIndex = {index};
        nb.scrollToItem({index});
    }}""")
    active = page.locator(".jp-NotebookPanel .jp-Cell.jp-mod-active")
    active.locator(".cm-content").click()
    # below "# YOUR CODE HERE", as the assignment asks: the lines above draw this exercise's
    # numbers again (after Run All, `nums` holds the last exercise's)
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")  # run the answer; its check is now the active cell
    page.keyboard.press("Control+Enter")  # run the check
    # the new verdict (the check also records the answer for the grader, which Lab does not
    # show), once the check has run again
    page.wait_for_function(f"""() => {{
        const panel = window.jupyterapp.shell.currentWidget;
        return panel.content.widgets[{check}].model.executionCount > {ran} &&
               panel.sessionContext.session.kernel.status === 'idle';
    }}""")
    active.locator(".jp-OutputArea-output",
                   has_text=re.compile("Right|Not quite right|Not done yet")).first.wait_for()
    verdict = active.locator(".jp-OutputArea").inner_text()
    page.keyboard.press("Control+s")
    page.wait_for_function("""() => !window.jupyterapp.shell.currentWidget.context.model.dirty""")
    return verdict


def read_grades(gradebook: Path) -> dict[str, dict[str, float]]:
    """Ada's and Bea's score per test cell, from the teacher's gradebook, by nbgrader's API."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{gradebook}") as gb:
        return {s: {g.name: g.score for g in gb.find_submission_notebook(
                    ASSIGNMENT, ASSIGNMENT, s).grades} for s in ("ada", "bea")}


def formgrader(page):
    """The formgrader's frame in the teacher's JupyterLab."""
    return page.frame_locator("iframe[src*='formgrader']")


def in_the_formgrader(frame, link, says: str) -> None:
    """Click ``link``, a formgrader button; its dialog must say ``says``; close it."""
    link.click()
    body = frame.locator(".modal-body")
    body.wait_for()
    text = " ".join(body.inner_text().split())
    assert says in text, text
    frame.locator(".modal-footer button").first.click()
    deadline = time.monotonic() + 30
    while frame.locator(".modal").count():  # the dialog is removed once it has closed
        assert time.monotonic() < deadline, "the formgrader's dialog did not close"
        time.sleep(0.2)


def assignment_row(frame):
    """The assignment's row in the formgrader's Manage Assignments."""
    return frame.locator("tr", has=frame.locator("td.name", has_text=ASSIGNMENT))


def release_in_the_formgrader(page, tmp_path) -> None:
    """Nbgrader -> Formgrader, inside JupyterLab (a frame of the same server, which the
    hub's headers allow); there, Generate and Release the assignment, as a teacher clicks."""
    page.evaluate("() => { window.jupyterapp.commands.execute('nbgrader:open-formgrader'); }")
    frame = formgrader(page)
    row = assignment_row(frame)
    row.wait_for()
    page.screenshot(path=str(tmp_path / "formgrader-in-lab.png"))
    in_the_formgrader(frame, row.locator("td.assign a"),
                      "Successfully created the student version")  # Generate
    in_the_formgrader(frame, row.locator("td.release a"), "Successfully released")


def grade_in_the_formgrader(page, students: tuple[str, ...]) -> None:
    """In the teacher's formgrader (still open in their Lab), once the submissions are
    collected: Manage Assignments again, then in the assignment's submissions Autograde
    each student's; back in Manage Assignments, Generate Feedback and Release Feedback, as
    a teacher clicks."""
    page.evaluate("""() => {
        const tab = [...window.jupyterapp.shell.widgets('main')]
            .find(w => w.node.querySelector("iframe[src*='formgrader']"));
        window.jupyterapp.shell.activateById(tab.id);
    }""")
    frame = formgrader(page)
    row = assignment_row(frame)
    frame.get_by_role("link", name="Manage Assignments").click()  # the collected count
    row.locator("td.num-submissions a", has_text=str(len(students))).click()
    for student in students:
        submission = frame.locator("tr", has=frame.locator("td.student-id", has_text=student))
        in_the_formgrader(frame, submission.locator("td.autograde a"),
                          f"Successfully autograded '{ASSIGNMENT}' for student '{student}'")
    frame.get_by_role("link", name="Manage Assignments").click()
    in_the_formgrader(frame, row.locator("td.generate-feedback a"),
                      "Successfully generated feedback")
    in_the_formgrader(frame, row.locator("td.release-feedback a"),
                      "Successfully released feedback")


def test_a_class_releases_works_submits_and_is_graded_on_jupyterhub(chromium, hub, tmp_path):
    teacher = log_in(chromium, hub, "teacher")
    release_in_the_formgrader(teacher, tmp_path)
    verdicts = {}
    for person, code in (("ada", RIGHT), ("bea", SLIP)):
        page = log_in(chromium, hub, person)
        in_the_assignment_list(page, "released", "Fetch", "fetched")
        assert (hub["state"] / "home" / person / ASSIGNMENT / "images" / "chain-111.svg").exists()
        verdicts[person] = answer_first_exercise(page, person, code)
        page.screenshot(path=str(tmp_path / f"{person}.png"))
        in_the_assignment_list(page, "fetched", "Submit", "submitted")
        if person == "bea":
            bea = page
        else:
            page.context.close()  # done for this assignment
    assert "Right!" in verdicts["ada"], verdicts
    # each person's kernel talks to their server over local sockets, not TCP ports
    for person in ("ada", "bea"):
        runtime = hub["state"] / "home" / person / ".local" / "share" / "jupyter" / "runtime"
        kernels = [json.loads(f.read_text()) for f in runtime.glob("kernel-*.json")]
        assert kernels and {k["transport"] for k in kernels} == {"ipc"}, (person, kernels)
    assert "Not quite right" in verdicts["bea"] and "at a = z" in verdicts["bea"], verdicts
    in_terminal(teacher, hub, "teacher", "collect", f"cd ~/course && nbgrader collect {ASSIGNMENT}")
    grade_in_the_formgrader(teacher, ("ada", "bea"))
    grades = read_grades(hub["state"] / "home" / "teacher" / "course" / "gradebook.db")
    assert grades["ada"]["check-ex-111-sigmoid-slope"] == 1.0, grades
    assert grades["bea"]["check-ex-111-sigmoid-slope"] == 0.0, grades
    for person in ("ada", "bea"):  # the unanswered exercises score nothing
        assert sum(grades[person].values()) == grades[person]["check-ex-111-sigmoid-slope"]
    bea.evaluate("() => { window.jupyterapp.commands.execute('nbgrader:open-assignment-list'); }")
    bea.locator("#refresh_assignments_list").click()
    submitted = bea.locator("#submitted_assignments_list > .list_item", has_text=ASSIGNMENT)
    submitted.get_by_text("(feedback available to fetch)").wait_for()
    in_the_assignment_list(bea, "submitted", "Fetch Feedback", "submitted")
    submitted.get_by_text("(view feedback)").wait_for()
    html = sorted((hub["state"] / "home" / "bea" / ASSIGNMENT / "feedback").glob(
        f"*/{ASSIGNMENT}.html"))
    assert html, "no feedback fetched"
    relative = html[-1].relative_to(hub["state"] / "home" / "bea")
    bea.goto(f"{hub['base']}/user/bea/files/{relative}")
    body = " ".join(bea.locator("body").inner_text().split())  # a diagnosis wraps
    assert "at a = z" in body and "Not done yet" in body
    # the assignment's picture is in the page (the feedback's folder holds no images)
    images = bea.evaluate("() => [...document.images].map(i => [i.alt.slice(0, 30),"
                          " i.complete && i.naturalWidth > 0, i.src.slice(0, 22)])")
    assert images and all(shown for _, shown, _ in images), images
    bea.screenshot(path=str(tmp_path / "bea-feedback.png"))
    # JupyterLab, nbgrader's pages and the feedback asked nothing of the network
    assert not hub["outside"], f"the class's browsers tried the network: {sorted(set(hub['outside']))}"
