"""The class's image and hub: binder/ (repo2docker, Binder) and hub/z2jh-values.yaml.

What can be checked without Kubernetes: the files parse, the values have the keys the Zero
to JupyterHub chart reads, the Python they mount compiles and does what it says, and the
image's pins are the book's.
"""

from __future__ import annotations

import os
import re

import yaml

from bookkit.paths import ROOT

Z2JH_TOP = {"hub", "proxy", "singleuser", "prePuller", "scheduling", "cull", "ingress",
            "imagePullSecret", "debug", "rbac", "global", "custom"}


def pins(path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", path.read_text(), re.M)
    return {name.lower(): version for name, version in found}


def test_the_image_pins_are_the_books():
    book, image = pins(ROOT / "requirements.txt"), pins(ROOT / "binder" / "requirements.txt")
    assert image and all(book.get(name) == v for name, v in image.items()), (image, book)
    assert {"nbgrader", "jupyterlab-myst", "jupyterhub", "numpy", "sympy"} <= image.keys()
    lines = (ROOT / "binder" / "requirements.txt").read_text().split()
    assert "." in lines, "the image installs the book's own packages"
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK)


def test_the_z2jh_values_have_the_keys_the_chart_reads():
    values = yaml.safe_load((ROOT / "hub" / "z2jh-values.yaml").read_text())
    assert set(values) <= Z2JH_TOP, set(values) - Z2JH_TOP
    single = values["singleuser"]
    assert {"name", "tag"} <= set(single["image"]) and single["defaultUrl"] == "/lab"
    mounts = {m["mountPath"] for m in single["storage"]["extraVolumeMounts"]}
    assert single["extraEnv"]["BACKPROP_BOOK_EXCHANGE"] in mounts
    headers = values["hub"]["config"]["JupyterHub"]["tornado_settings"]["headers"]
    assert headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    for name, spec in single["extraFiles"].items():
        assert spec["mountPath"].startswith("/etc/jupyter/"), name
        compile(spec["stringData"], name, "exec")


def test_the_mounted_nbgrader_config_names_students_by_login_not_teachers(monkeypatch):
    from traitlets.config import Config

    values = yaml.safe_load((ROOT / "hub" / "z2jh-values.yaml").read_text())
    code = values["singleuser"]["extraFiles"]["nbgrader-config"]["stringData"]
    monkeypatch.setenv("BACKPROP_BOOK_EXCHANGE", "/srv/nbgrader/exchange")
    monkeypatch.setenv("BACKPROP_BOOK_INSTRUCTORS", "prof")
    for user, student in (("ada", "ada"), ("prof", None)):
        monkeypatch.setenv("JUPYTERHUB_USER", user)
        config = Config()
        exec(code, {"get_config": lambda c=config: c})
        assert config.Exchange.root == "/srv/nbgrader/exchange"
        got = config.CourseDirectory.student_id if "student_id" in config.CourseDirectory \
            else None
        assert got == student, (user, got)
