"""In Debian's chromium, against `python run.py`: every screen in French, then in English, as a
manager and as the administrator meet them — no "None", no stored code, no English on a French
screen, one date format per language, no script error, no failed resource, a favicon.

A manager (made through the users screen) walks every screen the menus and pages link to;
the administrator then walks the ones a manager cannot reach (administration, security).
Each screen is kept as tests/artifacts/browser/<test name>/<locale>-<screen>-<kind>.png,
the artefacts issue 12 is judged on. What a screen shows is read after its scripts ran
(tests/browser_screens_support.py): text that select2 or our widgets add counts too.
"""

from __future__ import annotations

import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser_screens_support import (
    ENGLISH_DATE,
    FRENCH_DATE,
    NONE,
    Walker,
    date_problem,
    english_in_script_text,
    raw_code,
)
from tests.browser_support import ARTIFACTS, STEP_TIMEOUT_MS, Site, launch_chromium
from tests.screens_walk_support import reachable_screens
from tests.test_screens_words import UNLINKED, data_words, english_on_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# What each reader's browser asks for (Accept-Language, navigator.language); the browser's
# own language, which draws the date inputs, is set at launch (tests/browser_support.py).
BROWSER_LOCALES = {"fr": "fr-FR", "en": "en-GB"}
MANAGER_PASSWORD = "Une-promenade-sur-les-quais-2026"  # noqa: S105 (a throwaway account)
MANAGER_NAMES = ("Camille", "Lefèvre")


@dataclass
class Tour:
    """What both languages' walks share: the site, the accounts, where pictures go."""

    site: Site
    folder: Path
    admin_only: set[str]  # screens a manager cannot reach
    manager: str = ""


def log_in(page: Page, username: str, password: str) -> None:
    """Log out whoever is in, log in as ``username`` (the session keeps its language)."""
    if not page.url.endswith("/login/"):
        page.goto("logout/")
        page.goto("login/")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("input[type=submit]").click()
    page.locator("a[href='/logout/']").wait_for(state="attached")


def save(page: Page) -> None:
    page.locator("form [type=submit]").last.click()
    expect(page.locator(".alert-success")).to_be_visible()


def add_manager(page: Page) -> str:
    """A MANAGER of the administrator's agency, made through the users screen."""
    username = f"camille.{secrets.token_hex(3)}"
    page.goto("users/add")
    page.locator("#first_name").fill(MANAGER_NAMES[0])
    page.locator("#last_name").fill(MANAGER_NAMES[1])
    page.locator("#username").fill(username)
    page.locator("#email").fill(f"{username}@example.com")
    page.locator("#role").select_option("MANAGER", force=True)  # under select2's widget
    page.locator("#password").fill(MANAGER_PASSWORD)
    page.locator("#conf_password").fill(MANAGER_PASSWORD)
    save(page)
    return username


def add_group(page: Page) -> None:
    """A user group, so that the groups' show and edit screens have a row."""
    page.goto("groups/add")
    page.locator("#name").fill(f"lyon-{secrets.token_hex(3)}")
    page.locator("#label").fill("Cabinet de Lyon")
    save(page)


def add_template(page: Page) -> None:
    """A template of the manager's agency (the built-in ones are shared: read-only to a
    manager) with two versions, so that its edit, preview and diff screens are reached."""
    page.goto("templateview/add")
    page.locator("#name").fill(f"Attestation agence {secrets.token_hex(3)}")
    page.locator("form [type=submit]").last.click()
    for body, changelog in (
        ("<p>Attestation pour {{ client.full_name }}</p>", "Première version"),
        ("<p>Attestation d'assurance pour {{ client.full_name }}</p>", "Titre complet"),
    ):
        expect(page).to_have_url(re.compile(r"/templateview/new_version/\d+"))
        page.locator("#body").fill(body)
        page.locator("#changelog").fill(changelog)
        save(page)
        page.goto(page.url.replace("/versions/", "/new_version/"))


def request_document(page: Page) -> None:
    """A document of a policy, so that the document and job screens have rows."""
    page.goto("policyview/list/")
    page.locator("table tbody a[href*='/policyview/show/']").first.click()
    page.locator("#generate-document").click()
    page.locator("#template_id").select_option(index=1)
    save(page)


def send_email(page: Page) -> None:
    """An e-mail about a contract, so that the Boîte d'envoi has a message to show."""
    page.goto("policyview/list/")
    page.locator("table tbody a[href*='/policyview/show/']").first.click()
    page.locator("#send-email").click()
    page.locator("#to").fill("client@example.com")
    page.locator(".compose-form [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/outbox/show/\d+"))


def watch(page: Page, problems: list[str]) -> None:
    """Script errors, console errors (CSP violations among them) and failed resources."""
    page.on("pageerror", lambda error: problems.append(f"{page.url}: script error: {error}"))
    page.on(
        "console",
        lambda message: (
            message.type == "error" and problems.append(f"{page.url}: console: {message.text}")
        ),
    )
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and response.request.resource_type != "document"
            and problems.append(f"{page.url}: {response.status} {response.url}")
        ),
    )
    page.on(
        "requestfailed",
        lambda request: (
            # Leaving a page aborts what it still loads (a search still typing): no failure.
            request.failure != "net::ERR_ABORTED"
            and problems.append(f"{page.url}: failed {request.url} {request.failure}")
        ),
    )


def check_favicon(page: Page) -> None:
    """The icon the pages declare, and the one browsers ask for on their own, load."""
    icons = page.locator("link[rel~=icon]").evaluate_all("links => links.map(l => l.href)")
    assert icons, "no favicon declared"
    for icon in [*icons, "/favicon.ico"]:
        response = page.request.get(icon)
        assert response.ok, (icon, response.status)
        assert response.headers["content-type"].startswith("image/"), icon


def walk_locale(browser: Browser, tour: Tour, locale: str) -> tuple[list[Walker], list[str]]:
    """The login page, the manager's walk, then the administrator's over the screens left."""
    site = tour.site
    context = browser.new_context(
        base_url=site.url, locale=BROWSER_LOCALES[locale], viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    problems: list[str] = []
    try:
        page = context.new_page()
        watch(page, problems)
        manager = Walker(page, tour.folder, locale)
        page.goto(f"lang/{locale}")
        manager.visit("login/")
        if not tour.manager:  # the first walk makes the rows every screen needs
            log_in(page, site.username, site.password)
            tour.manager = add_manager(page)
            add_group(page)
            log_in(page, tour.manager, MANAGER_PASSWORD)
            request_document(page)
            add_template(page)
            send_email(page)
        else:
            log_in(page, tour.manager, MANAGER_PASSWORD)
        check_favicon(page)
        manager.walk("/")
        log_in(page, site.username, site.password)
        # The menus, and the lists where an administrator has links a manager has not.
        lists = {re.sub(r"^(/[^/]+)/.*", r"\1/list", screen) for screen in tour.admin_only}
        reread = frozenset({"/", *lists})
        admin = Walker(page, tour.folder, locale, frozenset(manager.screens), reread)
        admin.walk("/", extra=tuple(sorted(UNLINKED)))
    finally:
        context.close()
    return [manager, admin], problems


def offences(walkers: list[Walker], locale: str, data: list[str]) -> list[str]:
    checks = [
        lambda screen, text: NONE.search(text) and "None",
        lambda screen, text: raw_code(text) and "stored code",
        lambda screen, text: date_problem(screen, text, locale),
    ]
    if locale == "fr":
        checks.append(lambda screen, text: english_on_page([text], data) and "English")
        checks.append(lambda screen, text: english_in_script_text(text) and "English")
    return [
        f"[{locale}] {o}" for walker in walkers for check in checks for o in walker.offences(check)
    ]


def test_every_screen_in_french_then_english(
    app, site: Site, chromium: Browser, chromium_executable: str, request
):
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    manager_screens = reachable_screens(app, "MANAGER")
    admin_screens = reachable_screens(app, "SUPERADMIN")
    tour = Tour(site, folder, admin_screens - manager_screens)
    # Names that are data, not words: the users', and the security screens' technical names.
    data = [*data_words(app, "SUPERADMIN"), *MANAGER_NAMES, "Admin", "MonAssurance"]
    found: list[str] = []
    for locale in ("fr", "en"):
        # Each language's reader has a browser in that language: it draws the date inputs.
        browser = (
            chromium
            if locale == "fr"
            else launch_chromium(chromium.browser_type, chromium_executable, locale)
        )
        try:
            (manager, admin), problems = walk_locale(browser, tour, locale)
        finally:
            if browser is not chromium:
                browser.close()
        # Not vacuous: every list, show, add and edit screen of both roles was met.
        assert manager_screens - set(manager.screens) == set(), locale
        assert admin_screens - set(manager.screens) - set(admin.screens) == set(), locale
        policies = " ".join(manager.screens["/policyview/list"].strings)
        assert (FRENCH_DATE if locale == "fr" else ENGLISH_DATE).search(policies), locale
        found += [f"[{locale}] {problem}" for problem in problems]
        found += offences([manager, admin], locale, data)
    assert found == [], "\n".join(found)
