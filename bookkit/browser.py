"""Debian's headless Chromium, offline, and a quiet local web server: for the kit and the tests.

One set of launch flags and one server, used by the print edition, the screenshots, the
benchmarks and the browser tests alike (``tests/support/browser.py`` adds the tests' page
log on top). Never ``playwright install``: the system Chromium (``apt-get install chromium``)
is what CI installs and what runs here.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Chromium resolves Google hosts in the background even when every page request is
    # blocked; map every name but localhost to "not found".
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
#: Requests a page may make besides its own server: inline data, blobs, a blank page.
LOCAL_SCHEMES = ("data:", "blob:", "about:")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the output readable
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A browser that closes a page mid-download is not an error of the book."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port); yield its base URL; stop on exit."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's headless Chromium driven by playwright, with the offline flags."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise SystemExit("Chromium is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def note_outside_requests(page, base_url: str, outside: list[str]) -> None:
    """Note in ``outside`` every request of ``page`` (a page, or a browser context: all its
    pages) not served by ``base_url`` (or inline).

    The browser itself refuses the network: ``LAUNCH_ARGS`` resolve no host but 127.0.0.1,
    so such a request fails without leaving the machine; this says that the page tried.
    Requests are watched, not intercepted: routing every request through playwright turns
    off the browser's cache and its request for the site's icon, so the page was not loaded
    as a reader's browser loads it (it hid the 404 of a missing favicon.ico on every page),
    and it cost each page load about 0.08 s more CPU (three pages, loaded four times each).
    """

    def seen(request):
        if not request.url.startswith((base_url, *LOCAL_SCHEMES)):
            outside.append(request.url)

    page.on("request", seen)


def offline_page(browser, width: int = 1000, height: int = 1400):
    """A new page of ``browser`` (whose flags refuse every host but 127.0.0.1)."""
    return browser.new_page(viewport={"width": width, "height": height})
