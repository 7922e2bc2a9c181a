"""The page log every browser test reads (tests/support/browser.py), on a page made to fail.

Each browser test asserts that its page logged no problem; that means something only if a
page that tries the network, asks for a missing file or throws is logged as doing so. The
browser's own flags refuse every host but 127.0.0.1 (``bookkit.browser.LAUNCH_ARGS``), so
a request to a remote host must fail without leaving the machine, and the log must say
the page tried.
"""

from __future__ import annotations

import time

import pytest
from browser import HANG_MS, open_logged_page

from bookkit.browser import serve

pytestmark = pytest.mark.browser

PLANTED = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>planted</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="https://cdn.example.org/theme.css"></head>
<body><img src="missing.png" alt="a file the server does not have">
<script>
  console.error('planted console error');
  Promise.allSettled([fetch('http://127.0.0.1:1/other-port'),
                      fetch(location.href.replace('127.0.0.1', 'localhost'))])
    .then(() => { window.fetched = true; });
  setTimeout(() => { window.thrown = true; throw new Error('planted uncaught error'); });
</script></body></html>"""


def test_the_log_names_each_problem_of_a_page_and_the_browser_refuses_remote_hosts(
        chromium, tmp_path):
    (tmp_path / "index.html").write_text(PLANTED)
    with serve(tmp_path) as base:
        page, log = open_logged_page(chromium, base)
        failed = {}
        page.on("requestfailed", lambda r: failed.setdefault(r.url, r.failure))
        page.goto(f"{base}/index.html")
        page.wait_for_function("() => window.fetched && window.thrown")
        same_server = f"{base}/index.html".replace("127.0.0.1", "localhost")
        # the browser reports the refused request and the error a moment later (the bound
        # only ends a hang)
        deadline = time.monotonic() + HANG_MS / 1000
        while (same_server not in failed or not log.page_errors) and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        problems = "\n".join(log.problems())
    assert "tried the network: https://cdn.example.org/theme.css" in problems, problems
    assert "tried the network: http://127.0.0.1:1/other-port" in problems, problems
    assert f"HTTP 404 {base}/missing.png" in problems, problems
    assert "console error: planted console error" in problems, problems
    assert "uncaught exception: planted uncaught error" in problems, problems
    # Refused by the browser, not fetched: no name resolves but 127.0.0.1, not even this
    # server's other name (which any machine resolves, network or not).
    assert f"tried the network: {same_server}" in problems, problems
    assert "ERR_NAME_NOT_RESOLVED" in (failed.get(same_server) or ""), failed


def test_a_page_without_problems_logs_none(chromium, tmp_path):
    """The book's pages link an icon of their own: without one a browser asks the server
    for /favicon.ico, and its 404 is a console error on every page."""
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>clean</title>'
        '<link rel="icon" href="data:,"></head><body><p>Nothing to see.</p></body></html>')
    with serve(tmp_path) as base:
        page, log = open_logged_page(chromium, base)
        page.goto(f"{base}/index.html")
        page.wait_for_function("() => document.readyState === 'complete'")
        assert not log.problems(), log.problems()
