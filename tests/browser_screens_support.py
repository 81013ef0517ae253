"""Helpers of tests/test_browser_screens.py: walk every screen in chromium, read what it
shows, and name what it must not show. No tests here.

The walk is tests/screens_walk_support.py's, done by the browser: from the home page it
follows the links of each page (the menus first), one page per URL shape, and keeps a
full-page screenshot of each. What a page shows is read after its scripts ran (select2,
our widgets), so text they add is read too: every text node outside scripts, styles and
elements in another language (the language menu's "English"), the labels screen readers
and tooltips give, the text of buttons written as inputs and the window's title. The
values of inputs are not read: a date input's value is ISO, its display is the browser's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from app.services.roles import ROLE_NAMES
from app.services.vocabulary import ACTION_LABELS, ENUM_LABELS, SYSTEM_ACTORS
from tests.dates_support import ISO_DATE, MICROSECONDS, UTC_OFFSET
from tests.screens_walk_support import LABEL_ATTRIBUTES, MAX_PAGES, SKIPPED, shape

READ_PAGE = """
attributes => {
  const skipped = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT']);
  // Elements in another language are skipped with all they hold.
  const filter = node => node.nodeType === Node.ELEMENT_NODE
    && (skipped.has(node.tagName.toUpperCase()) || node.hasAttribute('lang'))
    ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
  const walker = document.createTreeWalker(
    document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, filter);
  const strings = [document.title.trim()];
  const keep = value => {
    value = (value || '').replace(/\\s+/g, ' ').trim();
    if (value) strings.push(value);
  };
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeType === Node.TEXT_NODE) { keep(node.nodeValue); continue; }
    for (const name of attributes) keep(node.getAttribute(name));
    if (node.tagName === 'INPUT' && ['submit', 'button'].includes(node.type)) keep(node.value);
  }
  const links = [...document.querySelectorAll('a[href]')].map(link => link.getAttribute('href'));
  return {strings: strings.filter(Boolean), links};
}
"""
NOT_SCREENS = (
    SKIPPED,  # leaving, switching language, files, Swagger, the API
    re.compile(r"/[^/]+\.[a-z0-9]{2,5}$"),  # a download (template.xlsx)
    re.compile(r"^/back$"),  # FAB's "back": the previous page again
)
# Links of one shape followed before giving up on its screen (see Walker.walk).
TRIES = 3

# What the database stores and a screen must say in words: audit action codes, enum
# values (statuses, lines of business, formats…), the names tasks write as their user.
RAW_CODES = frozenset(
    [*ACTION_LABELS, *SYSTEM_ACTORS]
    + [member.value for labels in ENUM_LABELS.values() for member in labels]
) - set(ROLE_NAMES)  # a task's team is a role: the role names are the roles' own, shown as such
# Codes no sentence contains: "document.download", "new_version", "login_failed".
DOTTED_CODES = re.compile(
    r"(?<![\w.@/-])("
    + "|".join(
        re.escape(code)
        for code in sorted(RAW_CODES, key=len, reverse=True)
        if "." in code or "_" in code
    )
    + r")(?![\w.-])"
)
NONE = re.compile(r"\bNone\b")
# select2's English defaults (FAB's ab.js and ab_filters.js set the last two).
SCRIPT_ENGLISH = re.compile(
    r"Remove all items|No results found|Searching…|Loading more results…"
    r"|The results could not be loaded|Please enter|Please delete|You can only select"
    r"|Select a State|^Select$"
)
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
ENGLISH_DATE = re.compile(rf"\b\d{{1,2}} ({MONTHS}) \d{{4}}\b")
FRENCH_DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")
SLASHED_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
SHORT_YEAR = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2}\b")


def date_problem(screen: str, text: str, locale: str) -> str | None:
    """Why a string breaks the locale's one date format, or None."""
    if ISO_DATE.search(text) or MICROSECONDS.search(text) or UTC_OFFSET in text:
        return "ISO date or time"
    if locale == "fr" and (ENGLISH_DATE.search(text) or SHORT_YEAR.search(text)):
        return "not day-first dd/mm/yyyy"
    # The import screens show the files' format, day-first in either language (they say so).
    if locale == "en" and SLASHED_DATE.search(text) and not screen.startswith("/import/"):
        return "numeric date in English"
    return None


def english_in_script_text(text: str) -> str | None:
    """English that scripts write into French pages (select2's own texts), or None."""
    found = SCRIPT_ENGLISH.search(text)
    return found.group(0) if found else None


def raw_code(text: str) -> str | None:
    """The stored code a string shows as it is, or None."""
    if text in RAW_CODES:
        return text
    found = DOTTED_CODES.search(text)
    return found.group(1) if found else None


def screen_name(path_shape: str) -> str:
    """/clientview/show/<n> -> clientview-show; / -> home (the screenshot's name)."""
    parts = [part for part in path_shape.strip("/").split("/") if part and part != "<n>"]
    return re.sub(r"[^\w.-]+", "_", "-".join(parts)) or "home"


@dataclass
class Screen:
    url: str
    strings: list[str]
    screenshot: Path


@dataclass
class Walker:
    """Visits screens in one browser page, screenshots each as <locale>-<screen>.png.

    ``known`` screens were met by an earlier walk (another role's): they are not visited
    again, except ``reread`` ones, read again for the links this role has there (the
    menus of the home page, an administrator's "add" button on the insurers list)."""

    page: Page
    folder: Path
    locale: str
    known: frozenset[str] = frozenset()
    reread: frozenset[str] = frozenset()
    screens: dict[str, Screen] = field(default_factory=dict)

    def open(self, target: str) -> bool:
        """Go to ``target``; False when it is no screen (an error, a file)."""
        try:
            response = self.page.goto(target)  # until "load": images and fonts in
        except PlaywrightError as error:
            if "Download is starting" in error.message:
                return False  # a file, not a screen
            raise
        return (
            response is not None
            and response.status == 200
            and response.headers.get("content-type", "").startswith("text/html")
        )

    def visit(self, target: str) -> list[str] | None:
        """Open one screen, read it and screenshot it unless known: its links, or None
        when the link leads to no screen (a file, an error, a JSON answer)."""
        if not self.open(target):
            return None
        found = shape(urlsplit(self.page.url).path)
        read = self.page.evaluate(READ_PAGE, list(LABEL_ATTRIBUTES))
        if found not in self.known and found not in self.screens:
            picture = self.folder / f"{self.locale}-{screen_name(found)}.png"
            self.page.screenshot(path=str(picture), full_page=True)
            self.screens[found] = Screen(self.page.url, read["strings"], picture)
        return read["links"]

    def walk(self, start: str = "/", extra: tuple[str, ...] = ()) -> None:
        """Every screen reachable by links from ``start`` (and ``extra``).

        A link that lands on another screen (the edit button of a read-only row sends
        back with a message) did not show its own: a few more of its shape are tried."""
        base = self.page.url
        host = urlsplit(base).netloc
        queue = [start, *extra]
        tries: Counter[str] = Counter()
        while queue and sum(tries.values()) < MAX_PAGES:
            target = urljoin(base, queue.pop(0))
            parts = urlsplit(target)
            screen = shape(parts.path)
            if parts.netloc != host or any(rule.search(parts.path) for rule in NOT_SCREENS):
                continue
            if screen in self.screens or tries[screen] >= TRIES:
                continue
            if screen in self.known and (screen not in self.reread or tries[screen]):
                continue
            tries[screen] += 1
            links = self.visit(target)
            if links is None:
                tries[screen] = TRIES
                continue
            base = self.page.url  # where the links are, after any redirect
            queue.extend(urljoin(base, link) for link in links if link)

    def offences(self, check: Callable[[str, str], str | None]) -> list[str]:
        """'screen: string (why)' for every string of every screen ``check(screen, string)``
        objects to."""
        return [
            f"{screen}: {text!r} ({why})"
            for screen, visited in sorted(self.screens.items())
            for text in visited.strings
            if (why := check(screen, text))
        ]
