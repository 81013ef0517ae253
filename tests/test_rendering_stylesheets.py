"""WeasyPrint's parsed <style> sheets, shared between renders by their exact text.

Each shared render is compared byte for byte with the same document rendered with
nothing shared (PDF_STYLESHEET_CACHE=0, the library's own path): a sheet served to
the wrong document, or a stale one, changes the PDF.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from app.services.rendering import render, sample_context, stylesheets
from app.services.rendering.pdf import WeasyPrintEngine, pdf_engine


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    stylesheets.clear()
    yield
    stylesheets.clear()


def agency_document(agency: str, css: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><style>{css}</style></head>"
        f"<body><h1>{agency}</h1><p>Conditions particulières</p></body></html>"
    )


RED = "h1 { color: #ff0000; font-size: 20pt } @page { size: A4; margin: 2cm }"
BLUE = "h1 { color: #0000ff; font-size: 12pt } @page { size: A5; margin: 1cm }"


def unshared(html: str) -> bytes:
    return WeasyPrintEngine(share_stylesheets=False).convert(html)


def fill_colours(pdf: bytes) -> set[str]:
    """The fill colours the pages' content streams set (``r g b rg``)."""
    import io

    from pypdf import PdfReader

    colours = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        words = page.get_contents().get_data().decode("latin-1").split()
        colours |= {" ".join(words[i - 3 : i]) for i, w in enumerate(words) if w == "rg"}
    return colours


def test_two_agencies_templates_in_turn_on_one_thread_never_bleed() -> None:
    engine = WeasyPrintEngine()
    red, blue = agency_document("Cabinet Rouge", RED), agency_document("Cabinet Bleu", BLUE)
    expected = {red: unshared(red), blue: unshared(blue)}
    assert expected[red] != expected[blue]
    for html in (red, blue, red, blue, red):
        assert engine.convert(html) == expected[html]
    assert "1 0 0" in fill_colours(expected[red]) and "0 0 1" in fill_colours(expected[blue])
    assert "0 0 1" not in fill_colours(expected[red])
    # Each sheet parsed once, then served to its own documents only.
    assert stylesheets.stats() | {"size": 0} == {
        "hits": 3,
        "misses": 2,
        "not_kept": 0,
        "size": 0,
    }


def test_a_changed_template_version_is_not_served_from_a_stale_sheet() -> None:
    engine = WeasyPrintEngine()
    version_1 = agency_document("Cabinet", "h1 { color: #ff0000 }")
    version_2 = agency_document("Cabinet", "h1 { color: #0000fe }")  # one byte changed
    first = engine.convert(version_1)
    second = engine.convert(version_2)
    assert first == unshared(version_1)
    assert second == unshared(version_2) != first
    assert stylesheets.stats()["misses"] == 2 and stylesheets.stats()["hits"] == 0


def test_the_same_sheet_in_two_agencies_documents_is_parsed_once() -> None:
    engine = WeasyPrintEngine()
    one, other = agency_document("Cabinet Un", RED), agency_document("Cabinet Deux", RED)
    assert engine.convert(one) == unshared(one)
    assert engine.convert(other) == unshared(other)
    assert stylesheets.stats()["misses"] == 1 and stylesheets.stats()["hits"] == 1


@pytest.mark.parametrize(
    "css",
    [
        "@font-face { font-family: x; src: url(data:font/ttf;base64,AAAA) }",
        r"@font-fac\65  { font-family: x; src: url(data:font/ttf;base64,AAAA) }",
        "@counter-style roman { system: fixed; symbols: a b c }",
        "@import url(data:text/css,h1{color:red});",
        "@layer base { h1 { color: red } }",
        "@color-profile --x { src: url(data:application/octet-stream,AA) }",
        "@media print { @font-face { font-family: x; src: url(data:font/ttf;base64,AA) } }",
        "@supports (color: red) { @counter-style x { system: cyclic; symbols: '*' } }",
    ],
)
def test_a_sheet_whose_parsing_reaches_beyond_itself_is_not_kept(css: str) -> None:
    assert not stylesheets.is_plain(css)
    html = agency_document("Cabinet", css + " h1 { color: #00ff00 }")
    engine = WeasyPrintEngine()
    assert engine.convert(html) == unshared(html)
    assert engine.convert(html) == unshared(html)
    assert stylesheets.stats()["hits"] == 0 and stylesheets.stats()["size"] == 1
    assert stylesheets.stats()["not_kept"] == 2


def test_page_media_and_supports_rules_are_kept() -> None:
    css = (
        '@page { @bottom-right { content: "Page " counter(page) } } '
        "@media print { h1 { color: #ff0000 } } @supports (display: grid) { p { margin: 0 } }"
    )
    assert stylesheets.is_plain(css)
    html = agency_document("Cabinet", css)
    engine = WeasyPrintEngine()
    assert engine.convert(html) == engine.convert(html) == unshared(html)
    assert stylesheets.stats()["hits"] == 1


def test_threads_rendering_different_agencies_at_once_get_their_own_sheets() -> None:
    documents = [agency_document(f"Cabinet {n}", RED if n % 2 else BLUE) for n in range(4)]
    expected = [unshared(html) for html in documents]
    results: dict[int, list[bytes]] = {}

    def work(index: int) -> None:
        engine = WeasyPrintEngine()
        results[index] = [engine.convert(documents[index]) for _ in range(3)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, outputs in results.items():
        assert outputs == [expected[index]] * 3


def test_the_cache_holds_a_bounded_number_of_sheets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stylesheets, "MAX_SHEETS", 2)
    engine = WeasyPrintEngine()
    for shade in range(4):
        engine.convert(agency_document("Cabinet", f"h1 {{ color: #0000{shade:02x} }}"))
    assert stylesheets.stats()["size"] == 2


def test_outside_our_renders_weasyprint_parses_as_before() -> None:
    from weasyprint import HTML

    WeasyPrintEngine().convert(agency_document("Cabinet", RED))  # installs the hook
    before = stylesheets.stats()
    HTML(string=agency_document("Cabinet", RED)).write_pdf()
    assert stylesheets.stats() == before


def test_the_setting_turns_sharing_off_for_the_app(app) -> None:
    context = sample_context(None)
    body = "<style>h1 { color: #123456 }</style><h1>{{ policy.number }}</h1>"
    with app.app_context():
        app.config["PDF_STYLESHEET_CACHE"] = False
        try:
            assert pdf_engine().share_stylesheets is False
            render(body, "pdf", context)
            assert stylesheets.stats()["misses"] == 0
        finally:
            app.config["PDF_STYLESHEET_CACHE"] = True
        assert pdf_engine().share_stylesheets is True
        render(body, "pdf", context)
        render(body, "pdf", context)
    assert stylesheets.stats()["misses"] == 1 and stylesheets.stats()["hits"] == 1
