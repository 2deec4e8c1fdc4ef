"""Headless Chromium (Debian's) for the browser tests, and a plain origin for a front end."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from .project import BASE_DIR

# A real headless Chromium for the browser tests (the admin's, CORS): Debian's, which .ci/run installs.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


CHROMIUM_MISSING = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"no Chromium at {CHROMIUM}: apt-get install chromium chromium-driver (.ci/run does)",
)


ARTIFACTS = BASE_DIR / "test-artifacts"  # screenshots the browser tests save


# Without the background-networking flags Chromium keeps trying to reach the internet here.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@contextmanager
def static_site(directory: Path):
    """A front end's origin: a plain HTTP server on a free loopback port, serving `directory`."""
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium_page():
    """A page in headless Chromium. Open it after the test's database work: Playwright runs an event
    loop in this thread, and Django refuses ORM calls while one is running."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()
