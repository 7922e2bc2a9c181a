"""`make hub`: JupyterHub on 127.0.0.1 for a demo class, graded with the book's course.

Prepares ``_build/hub/`` (or ``$BACKPROP_HUB_STATE``): the nbgrader exchange folder, a
home for each person with an ``nbgrader_config.py`` that points at it, and the course
(``make course``'s output) in the instructor's home. Installs the proxy JupyterHub needs
(configurable-http-proxy, from ``hub/package-lock.json`` into ``hub/node_modules``) on
first use. Then runs JupyterHub with ``hub/jupyterhub_config.py`` until stopped.
"""

from __future__ import annotations

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
c = get_config()  # noqa: F821
c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
"""


def prepare(state: Path) -> None:
    """Exchange, homes with their nbgrader config, the course in the teacher's home
    (updated, never overwriting the teacher's edits: :func:`bookkit.course.write_course`)."""
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
        # Lab's terminal is a login shell, which resets PATH: put the book's tools first.
        (state / "home" / person / ".profile").write_text(
            f'export PATH="{Path(sys.executable).parent}:$PATH"\n')
    write_course(state / "home" / "teacher" / "course")


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

