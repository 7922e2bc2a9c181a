"""JupyterHub for a demo class on 127.0.0.1 (`make hub`; the hub test starts the same).

One instructor (``teacher``) and two students (``ada``, ``bea``) log in through the hub's
login page with one shared password. Each gets a JupyterLab server of their own
(``SimpleLocalProcessSpawner``: a process per person, home folder under the hub's state
folder), with nbgrader's extensions and jupyterlab-myst. They meet in an nbgrader exchange
folder in the hub's state folder. ``bookkit/hub.py`` prepares the homes and the course and then
starts JupyterHub with this file.

Not for a real class: the password is shared and printed; see the instructors' page.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub provides it)

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("BACKPROP_HUB_STATE", ROOT / "_build" / "hub"))
PORT = int(os.environ.get("BACKPROP_HUB_PORT", "8017"))
TEACHER, STUDENTS = "teacher", ["ada", "bea"]
PASSWORD = os.environ.get("BACKPROP_HUB_PASSWORD", "backprop-demo")
VENV_BIN = Path(sys.executable).parent

c.JupyterHub.bind_url = f"http://127.0.0.1:{PORT}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("BACKPROP_HUB_INTERNAL_PORT", PORT + 1))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.command = [str(ROOT / "hub" / "node_modules" / ".bin" /
                                       "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

# The same origin may frame the hub's pages (the singleuser servers allow it too, in each
# home's jupyter_server_config.py): Lab shows nbgrader's formgrader in a frame.
c.JupyterHub.tornado_settings = {
    "headers": {"Content-Security-Policy": "frame-ancestors 'self'"},
}

# Log in with the shared password; only the class's names are let in. (JupyterHub's own
# authenticator for this; DummyAuthenticator's password is deprecated.) No one is the hub's
# admin: nbgrader needs none, and an admin would need a second password of 32 characters.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = PASSWORD
c.Authenticator.allowed_users = {TEACHER, *STUDENTS}

# A JupyterLab server per person, as a local process, at home in the hub's state folder.
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.args = [
    "--allow-root",  # CI containers run as root
    "--LabApp.expose_app_in_browser=True",  # the class test runs Lab commands
    "--LabApp.news_url=",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
]
c.Spawner.environment = {
    "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
    "BACKPROP_BOOK_EXCHANGE": str(STATE / "exchange"),
}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# The class test stops the servers and reads the hub through this service's token.
token = os.environ.get("BACKPROP_HUB_API_TOKEN")
if token:
    c.JupyterHub.services = [{"name": "class-test", "api_token": token}]
    c.JupyterHub.load_roles = [{"name": "class-test", "services": ["class-test"],
                                "scopes": ["admin:users", "admin:servers"]}]
