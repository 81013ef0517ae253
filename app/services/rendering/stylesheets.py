"""Parsed ``<style>`` sheets kept between WeasyPrint renders, keyed by their exact text.

Every document of a template carries the same ``<style>`` element (the built-in
layout's is 4 KiB): WeasyPrint parses it again for each render, about a tenth of
a two-page contract here (docs/benchmarks.md, "Documents: 1,000 contracts with 2
workers"). A parsed sheet (cssselect2 matcher, @page rules) is a pure function of
its text, the media type and the base URL, and the cascade only reads it, so
renders may share one. What may be shared, and why one agency's template never
reaches another's document:

- The key is the SHA-256 of the sheet's text with the media type and base URL:
  a different sheet, or a template's next version whose CSS changed by one
  byte, is another key and is parsed afresh. Two agencies share a parsed sheet
  only when their texts are the same, byte for byte, so the result is the same.
- Only sheets whose parsing has no side effect on the render are kept: no
  @font-face (it adds fonts to the font configuration), @counter-style, @import,
  @layer, @color-profile or any other at-rule than @page, @media and @supports
  (looked into). Such a sheet is parsed for each render as before.
- Nothing is fetched while parsing a kept sheet; url() values are fetched later,
  at layout, through the render's own data:-only URL fetcher.

WeasyPrint builds the ``CSS`` objects of a document's ``<style>`` elements itself
(``weasyprint.css.find_stylesheets`` calls the module's ``CSS`` name); while one
of our renders runs on this thread, that name answers from the cache. Outside
our renders, and for sheets that are not kept, it builds a ``CSS`` as before.
PDF_STYLESHEET_CACHE=0 turns the cache off (the benchmark's reference).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

# Templates in use at once are few; each parsed sheet is some tens of KiB.
MAX_SHEETS = 64
# At-rules whose parsing only fills the sheet itself (@media and @supports are looked into).
PLAIN_AT_RULES = frozenset({"page", "media", "supports"})
_NOT_KEPT = object()

_lock = threading.Lock()
_sheets: OrderedDict[tuple[str, str, str | None], Any] = OrderedDict()
_thread = threading.local()
_stats = {"hits": 0, "misses": 0, "not_kept": 0}


def is_plain(text: str) -> bool:
    """True when parsing ``text`` touches nothing outside the sheet (see the module doc)."""
    import tinycss2

    return _plain_rules(tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True))


def _plain_rules(rules: list[Any]) -> bool:
    import tinycss2

    for rule in rules:
        if rule.type != "at-rule":
            continue  # qualified rules and parse errors: the sheet's own business
        keyword = rule.lower_at_keyword  # escapes decoded: @\66ont-face is @font-face
        if keyword not in PLAIN_AT_RULES:
            return False
        if keyword != "page" and rule.content is not None:
            inner = tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True)
            if not _plain_rules(inner):
                return False
    return True


@contextlib.contextmanager
def shared_sheets(enabled: bool = True) -> Iterator[None]:
    """While open on this thread, WeasyPrint's ``<style>`` sheets come from the cache."""
    _install()
    previous = getattr(_thread, "enabled", False)
    _thread.enabled = enabled
    try:
        yield
    finally:
        _thread.enabled = previous


def clear() -> None:
    with _lock:
        _sheets.clear()
        for name in _stats:
            _stats[name] = 0


def stats() -> dict[str, int]:
    """Hits, misses and sheets not kept since the last clear (tests and benchmark)."""
    with _lock:
        return dict(_stats, size=len(_sheets))


def _cached_css(css_class: type, *positional: Any, **arguments: Any) -> Any:
    text = arguments.get("string")
    plain_call = (
        getattr(_thread, "enabled", False)
        and not positional
        and isinstance(text, str)
        and set(arguments) <= _FIND_STYLESHEETS_ARGUMENTS
    )
    if not plain_call:
        return css_class(*positional, **arguments)
    media_type = arguments.get("media_type", "print")
    base_url = arguments.get("base_url")
    key = (hashlib.sha256(text.encode("utf-8")).hexdigest(), media_type, base_url)
    with _lock:
        sheet = _sheets.get(key)
        if sheet is not None:
            _sheets.move_to_end(key)
            _stats["not_kept" if sheet is _NOT_KEPT else "hits"] += 1
    if sheet is _NOT_KEPT:
        return css_class(**arguments)
    if sheet is not None:
        return sheet
    if not is_plain(text):
        _remember(key, _NOT_KEPT, "not_kept")
        return css_class(**arguments)
    # Parsed on its own: its @page rules and layers in lists of its own, not the
    # document's (the cascade reads each sheet's own lists), no fonts, counters or
    # colour profiles to register (is_plain), nothing fetched.
    sheet = css_class(
        string=text,
        base_url=base_url,
        url_fetcher=arguments.get("url_fetcher"),
        media_type=media_type,
    )
    _remember(key, sheet, "misses")
    return sheet


def _remember(key: tuple[str, str, str | None], value: Any, counter: str) -> None:
    with _lock:
        _stats[counter] += 1
        _sheets[key] = value
        _sheets.move_to_end(key)
        while len(_sheets) > MAX_SHEETS:
            _sheets.popitem(last=False)


# The keywords find_stylesheets passes for a <style> element (WeasyPrint 70); any other
# call (a <link>, an @import, a caller of our own) builds its CSS as before.
_FIND_STYLESHEETS_ARGUMENTS = frozenset(
    {
        "string",
        "base_url",
        "url_fetcher",
        "media_type",
        "font_config",
        "counter_style",
        "page_rules",
        "color_profiles",
        "layers",
    }
)


@functools.cache
def _install() -> None:
    """Point weasyprint.css's CSS name at the cache, once per process."""
    import weasyprint.css

    css_class = weasyprint.css.CSS
    weasyprint.css.CSS = functools.partial(_cached_css, css_class)
