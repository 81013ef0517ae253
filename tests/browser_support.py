"""Fixtures of the browser tests (tests/test_browser_*.py): the real app, Debian's chromium, pages.

The server is `python run.py` as a user starts it (migrations, demo data, embedded
Huey consumer, gunicorn) in a temporary data folder on a free port, once per test
session. Chromium is Debian's package (/usr/bin/chromium), driven by Playwright's
Python wheel, which carries its own driver: no browser is ever downloaded.

Without chromium (a developer's machine) the browser tests are skipped with the
reason; with MONASSURANCE_REQUIRE_SERVICES=1 (CI) they fail instead.
Each test saves a screenshot per step in tests/artifacts/browser/<test name>/.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.processes import (
    ROOT,
    Proc,
    backing_services,
    clean_env,
    free_port,
    stop,
    wait_for_http,
    wait_until_gone,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserType, Page

ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "Navigateur-e2e-2026!"  # noqa: S105 (a throwaway server's admin)
# Flags that keep a headless chromium quiet on a machine with no network: without the
# background-networking ones it keeps trying (and failing) to reach Google's hosts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the tests may run as root (CI), where chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Chromium draws parts of a page in its own language, not the page's: the date inputs
# (jj/mm/aaaa in French), the file input's button. On Linux it takes that language from
# LANGUAGE, and knows no other than American English without Debian's chromium-l10n.
BROWSER_LANGUAGES = {"fr": "fr_FR", "en": "en_GB"}
START_TIMEOUT = 120  # run.py migrates and loads the demo data first; a loaded machine is slow
# Waits for the page are generous: other processes share the 2 cores, and a wait only
# lasts as long as the page takes, so a high ceiling costs nothing when all is well.
STEP_TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class Site:
    url: str  # ends with "/"
    username: str
    password: str


def chromium_path() -> str | None:
    """Debian's chromium, or CHROMIUM_PATH when a developer points elsewhere."""
    candidate = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    return candidate if candidate and os.access(candidate, os.X_OK) else None


def _missing(reason: str) -> None:
    if os.environ.get("MONASSURANCE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and MONASSURANCE_REQUIRE_SERVICES=1 requires the browser tests")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's chromium and the playwright package, or the browser tests are skipped."""
    path = chromium_path()
    if path is None:
        _missing(
            "browser tests need Debian's chromium (apt-get install chromium, "
            "or scripts/install-apt-packages.sh test)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("browser tests need the playwright package (requirements-dev.txt)")
    return path


def launch_chromium(browser_type: BrowserType, executable: str, language: str) -> Browser:
    """A headless chromium speaking ``language`` ("fr", "en"), as its user's would."""
    # launch() gives the browser a fresh, empty user-data-dir of its own.
    return browser_type.launch(
        executable_path=executable,
        args=CHROMIUM_ARGS,
        headless=True,
        env={**os.environ, "LANGUAGE": BROWSER_LANGUAGES[language]},
    )


@pytest.fixture(scope="session")
def chromium(chromium_executable: str, site: Site) -> Iterator[Browser]:
    """One headless French chromium for the session; each test opens its own context in it.

    It depends on `site` so that it closes first: gunicorn then has no open
    keep-alive connection to wait for when it is stopped.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright.chromium, chromium_executable, "fr")
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def site(chromium_executable: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`python run.py` on a fresh data folder and a free port, stopped at the end."""
    folder = tmp_path_factory.mktemp("browser-site")
    with backing_services() as services:
        port = free_port()
        env = clean_env(
            folder / "data",
            PORT=str(port),
            HOST="127.0.0.1",
            ADMIN_USERNAME=ADMIN_USERNAME,
            ADMIN_PASSWORD=ADMIN_PASSWORD,
            **services,
        )
        proc = Proc([sys.executable, "run.py"], env, folder / "logs", "run")
        try:
            output = proc.wait_for_output("Press Ctrl-C to stop.", START_TIMEOUT)
            url = re.search(r"MonAssurance is running at (\S+)", output).group(1)
            assert "Demo data loaded" in output, output
            wait_for_http(url + "health", 30, proc)
            yield Site(url=url, username=ADMIN_USERNAME, password=ADMIN_PASSWORD)
        finally:
            if proc.process.poll() is None:
                try:
                    stop(proc, signal.SIGINT, timeout=30)
                except Exception:  # noqa: BLE001 (never leave a server behind)
                    proc.kill()
            wait_until_gone(Path(env["DATA_DIR"]))


class Shots:
    """Numbered screenshots of one test's steps, kept as CI artefacts."""

    def __init__(self, page: Page, test_name: str) -> None:
        self.page = page
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0

    def __call__(self, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """Remember a failed test body, so its page gets a last screenshot."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture
def browser_page(
    chromium: Browser, site: Site, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, Shots]]:
    """A fresh French-speaking browser context (no cookies) and its screenshot helper."""
    context = chromium.new_context(
        base_url=site.url,
        locale="fr-FR",
        accept_downloads=True,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    shots = Shots(page, request.node.name)
    yield page, shots
    if request.node.stash.get(_FAILED, False):
        shots("failure")
    context.close()


def log_in(page: Page, site: Site, shots: Shots) -> None:
    """Log in through the French login form, as a user does."""
    page.goto("login/")
    page.locator("#username").fill(site.username)
    page.locator("#password").fill(site.password)
    page.locator("input[type=submit]").click()
    # The navbar names the signed-in user once the session cookie is set.
    page.locator("a[href='/logout/']").wait_for(state="attached")
    shots("logged-in")


def record_count(page: Page) -> int:
    """The "Record Count" (Nombre de record) that FAB's list screens show."""
    text = page.locator("div.pull-right", has=page.locator("strong")).first.inner_text()
    return int(re.search(r"(\d+)\s*$", text).group(1))
