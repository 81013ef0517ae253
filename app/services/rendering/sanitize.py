"""Strip from rendered HTML everything a PDF engine could fetch.

Defence in depth, applied before both engines: WeasyPrint already refuses
every URL but data: (its URL fetcher), and wkhtmltopdf runs without local file
access and behind a dead proxy; still, the HTML they get names no URL at all
except data: URIs and links a reader may click.

The inside of a data: URI is left as it is: an SVG image may still name a URL,
which WeasyPrint's fetcher refuses and which wkhtmltopdf, like browsers, does
not load for an image (tests/test_rendering_pdf.py checks both).

The document is re-serialised from the parser's tokens: every tag and
attribute is written by us and every text escaped, so the engines parse the
same tree we checked (no parser differential to smuggle a tag through).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import tinycss2
from tinycss2 import ast as css_ast

# Elements removed with their tags (their text content, if any, stays: it is escaped text).
DROPPED_ELEMENTS = frozenset(
    {
        "script",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "link",
        "base",
        "portal",
        "param",
    }
)
# Attributes that hold a URL: kept only when they hold a data: URI.
URL_ATTRIBUTES = frozenset(
    {
        "src",
        "href",
        "xlink:href",
        "poster",
        "data",
        "action",
        "formaction",
        "background",
        "cite",
        "longdesc",
        "lowsrc",
        "dynsrc",
        "codebase",
        "classid",
        "archive",
        "usemap",
        "manifest",
        "icon",
        "profile",
        "ping",
        "xml:base",
        "itemtype",
        "itemid",
    }
)
# Dropped whatever their value: they list several URLs or embed a document.
DROPPED_ATTRIBUTES = frozenset({"srcset", "imagesrcset", "srcdoc", "rel", "http-equiv"})
LINK_ELEMENTS = frozenset({"a", "area"})
LINK_SCHEMES = ("http:", "https:", "mailto:", "tel:")
URL_FUNCTIONS = frozenset(
    {
        "url",
        "src",
        "image",
        "image-set",
        "-webkit-image-set",
        "cross-fade",
        "-webkit-cross-fade",
        "element",
        "-moz-element",
    }
)
_ATTRIBUTE_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:.-]*$")
_NOT_IN_URL = re.compile(r"[\x00-\x20]+")
# Text inside these is not part of what a reader sees.
_INVISIBLE = frozenset({"style", "script", "title", "head"})


def _normalised(url: str) -> str:
    # Browsers ignore whitespace and control characters inside a URL scheme.
    return _NOT_IN_URL.sub("", url).lower()


def is_data_uri(url: str) -> bool:
    return _normalised(url).startswith("data:")


def _allowed_url(element: str, name: str, value: str) -> bool:
    url = _normalised(value)
    if url.startswith("data:"):
        return True
    if name in ("href", "xlink:href") and url.startswith("#"):
        return True  # a reference inside this document (SVG <use>, table of contents)
    return name == "href" and element in LINK_ELEMENTS and url.startswith(LINK_SCHEMES)


def _function_is_safe(token: css_ast.FunctionBlock) -> bool:
    for argument in token.arguments:
        if isinstance(argument, css_ast.StringToken | css_ast.URLToken):
            if not is_data_uri(argument.value):
                return False
        elif isinstance(argument, css_ast.FunctionBlock) and not _function_is_safe(argument):
            return False
    return True


def _scrub_tokens(tokens: list) -> list:
    result = []
    for token in tokens:
        if isinstance(token, css_ast.URLToken):
            if not is_data_uri(token.value):
                token = css_ast.IdentToken(token.source_line, token.source_column, "none")
        elif isinstance(token, css_ast.FunctionBlock):
            if token.lower_name in URL_FUNCTIONS and not _function_is_safe(token):
                token = css_ast.IdentToken(token.source_line, token.source_column, "none")
            else:
                token.arguments = _scrub_tokens(token.arguments)
        elif isinstance(
            token,
            css_ast.ParenthesesBlock | css_ast.SquareBracketsBlock | css_ast.CurlyBracketsBlock,
        ):
            token.content = _scrub_tokens(token.content)
        elif isinstance(token, css_ast.AtKeywordToken) and token.lower_value == "import":
            token = css_ast.AtKeywordToken(token.source_line, token.source_column, "x-removed")
        result.append(token)
    return result


def _css_for_html(css: str) -> str:
    # "<" could close the <style> element or, inside SVG, open a tag: escape it.
    return css.replace("<", "\\3c ")


def sanitize_css(css: str) -> str:
    """A stylesheet with every URL that is not a data: URI, and every @import, removed."""
    kept = []
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True):
        if rule.type == "error":
            continue
        if rule.type == "at-rule" and rule.lower_at_keyword in ("import", "namespace"):
            continue
        if rule.type in ("qualified-rule", "at-rule"):
            rule.prelude = _scrub_tokens(rule.prelude)
            if rule.content is not None:
                rule.content = _scrub_tokens(rule.content)
        kept.append(rule)
    return _css_for_html(tinycss2.serialize(kept))


def sanitize_style_attribute(style: str) -> str:
    tokens = tinycss2.parse_component_value_list(style, skip_comments=True)
    return _css_for_html(tinycss2.serialize(_scrub_tokens(tokens)))


@dataclass(frozen=True)
class SanitizedHtml:
    html: str
    text: str  # the visible text, to check what a reader will see (the ORIAS number)


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.text: list[str] = []
        self.open_invisible: list[str] = []
        self.in_script = False
        self.in_style = False
        self.style: list[str] = []

    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        parts = []
        if tag == "meta" and any(name == "http-equiv" for name, _ in attrs):
            return "\x00drop"
        for name, value in attrs:
            if not _ATTRIBUTE_NAME.match(name) or name.startswith("on"):
                continue
            if name in DROPPED_ATTRIBUTES:
                continue
            if name in URL_ATTRIBUTES and not _allowed_url(tag, name, value or ""):
                continue
            if name == "style" and value:
                value = sanitize_style_attribute(value)
            if value is None:
                parts.append(f" {name}")
            else:
                parts.append(f' {name}="{html.escape(value, quote=True)}"')
        return "".join(parts)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if tag in DROPPED_ELEMENTS:
            if tag == "script" and not closed:
                self.in_script = True
            return
        attributes = self._attributes(tag, attrs)
        if attributes == "\x00drop":
            return
        self.out.append(f"<{tag}{attributes}{' /' if closed else ''}>")
        if tag == "style" and not closed:
            self.in_style = True
        if tag in _INVISIBLE and not closed:
            self.open_invisible.append(tag)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False
        if tag in DROPPED_ELEMENTS:
            return
        if tag == "style" and self.in_style:
            self._flush_style()
        if tag in self.open_invisible:
            while self.open_invisible and self.open_invisible.pop() != tag:
                pass
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.in_script:
            return
        if self.in_style:
            # The parser may hand a stylesheet over in pieces: sanitise it whole.
            self.style.append(data)
            return
        self.out.append(html.escape(data, quote=False))
        if not self.open_invisible:
            self.text.append(data)

    def handle_decl(self, decl: str) -> None:
        if decl.lower().startswith("doctype"):
            self.out.append("<!DOCTYPE html>")

    def _flush_style(self) -> None:
        self.out.append(sanitize_css("".join(self.style)))
        self.style = []
        self.in_style = False

    def close(self) -> None:
        super().close()
        if self.in_style:
            self._flush_style()

    # Comments, processing instructions and CDATA sections are dropped.
    def handle_comment(self, data: str) -> None:
        return

    def handle_pi(self, data: str) -> None:
        return

    def unknown_decl(self, data: str) -> None:
        return


def sanitize_html(document: str) -> SanitizedHtml:
    parser = _Sanitizer()
    parser.feed(document)
    parser.close()
    return SanitizedHtml(html="".join(parser.out), text=" ".join(parser.text))
