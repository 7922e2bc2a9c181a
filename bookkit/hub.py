"""`make hub`: JupyterHub on 127.0.0.1 for a demo class, graded with the book's course.

Prepares ``_build/hub/`` (or ``$BACKPROP_HUB_STATE``): the nbgrader exchange folder, a
home for each person with an ``nbgrader_config.py`` that points at it, and the course
(``make course``'s output) in the instructor's home. Installs the proxy JupyterHub needs
(configurable-http-proxy, from ``hub/package-lock.json`` into ``hub/node_modules``) on
first use. Then runs JupyterHub with ``hub/jupyterhub_config.py`` until stopped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .course import write_course
from .paths import BUILD, ROOT

PEOPLE_CONFIG = '''\
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "backprop-book"
c.Exchange.root = {exchange!r}
'''
TEACHER_CONFIG = PEOPLE_CONFIG + "c.CourseDirectory.root = {course!r}\n"
# nbgrader names a submission after the OS user; in this demo everyone's server runs as
# the same OS user, so a student submits under their hub login instead.
STUDENT_CONFIG = PEOPLE_CONFIG + (
    "import os\n\nc.CourseDirectory.student_id = os.environ[\"JUPYTERHUB_USER\"]\n"
)


# JupyterHub's singleuser server forbids every page to be framed (frame-ancestors 'none'),
# which leaves Lab's Nbgrader -> Formgrader tab blank (jupyter/nbgrader#1870); pages of the
# same server may frame each other, as Jupyter Server itself allows.
SERVER_CONFIG = """\
import os
import tempfile

c = get_config()  # noqa: F821
c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
# Kernels talk to this server over local sockets named after it (IPC), not over TCP ports:
# a port picked free for a kernel can be taken by another kernel of the class before this
# one binds it, and the kernel dies ("Address already in use"). (Windows: TCP.)
if os.name != "nt":
    c.KernelManager.transport = "ipc"
    c.KernelManager.ip = os.path.join(tempfile.gettempdir(), f"jupyter-kernel-{os.getpid()}")
"""


#: The demo class's students, as nbgrader's roster has them (the formgrader's Manage
#: Students lists their names; without a roster it shows "None, None").
STUDENTS = {"ada": ("Ada", "Lovelace"), "bea": ("Bea", "Demo")}
#: JupyterLab's news and update checks: its "official Jupyter news?" toast asks every person
#: of the class on their first visit, and a class hub may have no way out to the web.
LAB_NOTIFICATIONS = {"fetchNews": "false", "checkForUpdates": False}
NOTIFICATION_SETTINGS = Path(".jupyter/lab/user-settings/@jupyterlab/apputils-extension/"
                             "notification.jupyterlab-settings")


def enrol(course: Path) -> None:
    """Put the demo students, with their names, in the course's gradebook (as
    ``nbgrader db student import`` does with a roster), and write that roster beside it."""
    from nbgrader.api import Gradebook

    rows = [f"{login},{first},{last},{login}@example.org"
            for login, (first, last) in STUDENTS.items()]
    (course / "roster.csv").write_text("id,first_name,last_name,email\n" + "\n".join(rows) + "\n")
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{path}"  # its `alembic`
    try:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="backprop-book") as gb:
            for login, (first, last) in STUDENTS.items():
                gb.update_or_create_student(login, first_name=first, last_name=last,
                                            email=f"{login}@example.org")
    finally:
        os.environ["PATH"] = path


def prepare(state: Path) -> None:
    """Exchange, homes with their nbgrader config and Lab's settings, the course in the
    teacher's home (updated, never overwriting the teacher's edits:
    :func:`bookkit.course.write_course`) with the demo students enrolled."""
    exchange = state / "exchange"
    exchange.mkdir(parents=True, exist_ok=True)
    exchange.chmod(0o777)  # everyone's server writes into it (nbgrader's requirement)
    for person in ("teacher", "ada", "bea"):
        jupyter = state / "home" / person / ".jupyter"
        jupyter.mkdir(parents=True, exist_ok=True)
        course = state / "home" / "teacher" / "course"
        text = (TEACHER_CONFIG if person == "teacher" else STUDENT_CONFIG).format(
            exchange=str(exchange), course=str(course))
        (jupyter / "nbgrader_config.py").write_text(text)
        (jupyter / "jupyter_server_config.py").write_text(SERVER_CONFIG)
        settings = state / "home" / person / NOTIFICATION_SETTINGS
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(json.dumps(LAB_NOTIFICATIONS, indent=2) + "\n")
        # Lab's terminal is a login shell, which resets PATH: put the book's tools first.
        (state / "home" / person / ".profile").write_text(
            f'export PATH="{Path(sys.executable).parent}:$PATH"\n')
    write_course(state / "home" / "teacher" / "course")
    enrol(state / "home" / "teacher" / "course")


def proxy() -> Path:
    """The configurable-http-proxy binary, installed from the lock file when missing."""
    binary = ROOT / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
    if not binary.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT / "hub", check=True)
    return binary


def main(argv: list[str] | None = None) -> int:
    state = Path(os.environ.get("BACKPROP_HUB_STATE", BUILD / "hub"))
    proxy()
    prepare(state)
    port = os.environ.get("BACKPROP_HUB_PORT", "8017")
    password = os.environ.get("BACKPROP_HUB_PASSWORD", "backprop-demo")
    print(f"Demo class at http://127.0.0.1:{port}/ : log in as teacher, ada or bea, "
          f"password {password!r}. Ctrl-C stops the hub and everyone's server.", flush=True)
    hub = Path(sys.executable).parent / "jupyterhub"
    os.chdir(state)
    os.execv(str(hub), [str(hub), "-f", str(ROOT / "hub" / "jupyterhub_config.py")])

