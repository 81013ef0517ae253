"""PDF rendering with both engines: content, page footers, and nothing fetched.

The SSRF tests run a local HTTP server that counts requests: a template full of
URLs and file paths must not make a single one reach it, nor put a local file
in the PDF, with either engine.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import io
import re
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.services.rendering import (
    RenderError,
    RenderTimeout,
    load_policy_for_render,
    policy_context,
    render,
    sample_context,
)
from app.services.rendering.pdf import PdfkitEngine, pdf_engine
from app.services.rendering.sanitize import sanitize_css, sanitize_html

ENGINES = ["weasyprint", "pdfkit"]


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    # wkhtmltopdf's text comes back with tabs between words.
    return " ".join(text.split())


@pytest.fixture(scope="module")
def context() -> dict:
    return sample_context(None)


CONTRACT = """<!DOCTYPE html>
<html><head><style>
  @page { size: A4; margin: 2cm;
          @bottom-right { content: "Page " counter(page) " / " counter(pages); } }
  body { font-family: sans-serif; }
</style></head>
<body>
  <h1>Conditions particulières</h1>
  <p>Contrat n° {{ policy.number }} — {{ policy.line_label }}</p>
  <p>Souscripteur : {{ client.display_name }}</p>
  <p>Assureur : {{ insurer.name }}</p>
  <p>Prime annuelle : {{ policy.premium|money(policy.currency) }}</p>
</body></html>
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_contract_pdf_names_policy_client_insurer_and_orias(
    app, make_organisation, portfolio, engine: str
) -> None:
    organisation_id = make_organisation("Cabinet Durand")
    ids = portfolio(organisation_id, suffix="77")
    with app.app_context():
        policy = load_policy_for_render(db.session, ids["policy"], organisation_id)
        context = policy_context(policy)
        orias = policy.organisation.orias_number
        result = render(CONTRACT, "pdf", context, engine=engine)
    assert result.media_type == "application/pdf"
    assert result.extension == "pdf" and result.engine == engine
    text = flat(pdf_text(result.data))
    assert "POL-77" in text
    assert "Jeanne Martin77" in text
    assert "Assureur 77" in text
    assert orias in text
    assert "420,50" in text


def test_weasyprint_page_margin_boxes_number_the_pages(context: dict) -> None:
    body = CONTRACT.replace(
        "</body>", "{% for i in range(120) %}<p>Ligne {{ i }}</p>{% endfor %}</body>"
    )
    text = flat(pdf_text(render(body, "pdf", context, engine="weasyprint").data))
    assert "Page 1 / " in text and "Page 2 / " in text


@pytest.mark.parametrize("engine", ENGINES)
def test_orias_footer_is_added_when_the_template_does_not_show_it(
    context: dict, engine: str
) -> None:
    text = flat(pdf_text(render("<p>Bonjour</p>", "pdf", context, engine=engine).data))
    assert "immatriculé à l'ORIAS sous le n° 12345678" in text
    english = flat(
        pdf_text(render("<p>Hello</p>", "pdf", context, engine=engine, locale="en").data)
    )
    assert "registered with ORIAS under no. 12345678" in english


def test_orias_footer_is_not_added_when_the_template_shows_the_number(context: dict) -> None:
    html = render(
        "<html><body><p>ORIAS {{ organisation.orias_number }}</p></body></html>", "html", context
    ).data.decode()
    assert "orias-legal" not in html
    # A number hidden in an attribute or a comment is not shown: the footer is added.
    hidden = render(
        '<html><body><p title="{{ organisation.orias_number }}">x</p>'
        "<!-- {{ organisation.orias_number }} --></body></html>",
        "html",
        context,
    ).data.decode()
    assert hidden.index("orias-legal") < hidden.index("</body>")


def test_a_document_without_an_orias_number_is_refused(context: dict) -> None:
    data = {**context, "organisation": {**context["organisation"], "orias_number": None}}
    with pytest.raises(RenderError, match="ORIAS"):
        render("<p>x</p>", "pdf", data)


# --- nothing is fetched ------------------------------------------------------------


class CountingServer:
    def __init__(self) -> None:
        self.paths: list[str] = []
        counter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                counter.paths.append(self.path)
                payload = b"body { color: red }"
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the engine may hang up first
                    self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"


@pytest.fixture
def server() -> Iterator[CountingServer]:
    running = CountingServer()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


def red_png() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 0, 0)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def hostile_template(server: CountingServer) -> str:
    url = server.url
    return f"""<!DOCTYPE html>
<html><head>
<link rel="stylesheet" href="{url("link.css")}">
<link rel="attachment" href="file:///etc/passwd">
<base href="{url("base/")}">
<meta http-equiv="refresh" content="0; url={url("refresh")}">
<style>
  @import url({url("import.css")});
  @import "{url("import2.css")}";
  body {{ background: url({url("background.png")}); }}
  h1 {{ background-image: u\\72l({url("escaped.png")}); }}
  p::after {{ content: url("file:///etc/passwd"); }}
  @font-face {{ font-family: x; src: url({url("font.woff")}); }}
  div {{ background-image: image-set("{url("set.png")}" 1x); }}
</style>
<script src="{url("script.js")}"></script>
</head><body>
<h1>Contrat {{{{ policy.number }}}}</h1>
<img src="{url("img.png")}">
<img src="file:///etc/passwd">
<img srcset="{url("srcset.png")} 2x">
<iframe src="file:///etc/passwd"></iframe>
<iframe src="{url("frame")}"></iframe>
<object data="file:///etc/passwd"></object>
<embed src="{url("embed")}">
<video poster="{url("poster.png")}"></video>
<table background="{url("table.png")}"><tr><td>cell</td></tr></table>
<div style="background: url('{url("inline.png")}')">styled</div>
<svg width="10" height="10"><image href="{url("svg.png")}" width="10" height="10"/>
  <style><img src="{url("svg-style.png")}"></style></svg>
<a rel="attachment" href="file:///etc/passwd">attachment</a>
<img src="data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='9' \
height='9'><image href='{url("data-svg.png")}' width='9' height='9'/></svg>">
<img src="  jav&#x61;script:alert(1)">
<img src=" {url("spaced.png")}">
<p>Logo : <img alt="logo" src="{red_png()}"></p>
</body></html>"""


@pytest.mark.parametrize("engine", ENGINES)
def test_hostile_template_fetches_nothing_and_leaks_no_file(
    server: CountingServer, context: dict, engine: str
) -> None:
    result = render(hostile_template(server), "pdf", context, engine=engine)
    time.sleep(0.2)  # any late request would have arrived by now
    assert server.paths == []
    text = flat(pdf_text(result.data))
    assert "root:x:0:0" not in text and "/bin/bash" not in text
    assert context["policy"]["number"] in text
    reader = PdfReader(io.BytesIO(result.data))
    # WeasyPrint embeds <a rel="attachment"> targets as PDF attachments: none here.
    assert reader.attachments == {}
    # The data: URI image is still drawn.
    assert [image for page in reader.pages for image in page.images]


def test_html_output_keeps_no_url_but_data_and_links(server: CountingServer, context: dict) -> None:
    html = render(hostile_template(server), "html", context).data.decode()
    # The inside of a data: URI is not rewritten (an SVG image may name a URL; neither
    # engine nor a browser fetches for an image): look at everything else.
    outside_data = re.sub(r'"data:[^"]*"', '""', html)
    assert f"127.0.0.1:{server.port}" not in outside_data
    assert "/etc/passwd" not in html and "javascript" not in html.lower()
    assert "<script" not in html and "<iframe" not in html and "<link" not in html
    assert "data:image/png;base64," in html


def test_wkhtmltopdf_behind_the_dead_proxy_fetches_nothing_even_unsanitised(
    server: CountingServer,
) -> None:
    raw = f'<html><body><img src="{server.url("raw.png")}"><p>raw</p></body></html>'
    engine = PdfkitEngine()
    # Control: without the proxy this HTML does reach the server, so the check below can fail.
    command = engine.command()
    at = command.index("--proxy")
    del command[at : at + 2]
    subprocess.run(command, input=raw.encode(), capture_output=True, timeout=60, check=False)  # noqa: S603
    assert server.paths == ["/raw.png"]
    server.paths.clear()
    assert engine.convert(raw).startswith(b"%PDF")
    time.sleep(0.2)
    assert server.paths == []


def test_wkhtmltopdf_command_has_the_safety_options() -> None:
    command = PdfkitEngine().command()
    for option in ("--disable-local-file-access", "--disable-javascript", "--quiet", "--proxy"):
        assert option in command
    assert command[command.index("--encoding") + 1] == "UTF-8"
    assert "--enable-local-file-access" not in command


# --- sanitiser ---------------------------------------------------------------------


def test_sanitiser_keeps_data_uris_fragments_and_reader_links() -> None:
    result = sanitize_html(
        '<a href="https://www.orias.fr">orias</a><a href="#top">top</a>'
        '<a href="mailto:a@b.fr">mail</a><img src="data:image/png;base64,AAAA" alt="x">'
        '<svg><use href="#shape"/></svg>'
    )
    assert 'href="https://www.orias.fr"' in result.html
    assert 'href="#top"' in result.html and 'href="mailto:a@b.fr"' in result.html
    assert 'src="data:image/png;base64,AAAA"' in result.html
    assert 'href="#shape"' in result.html


@pytest.mark.parametrize(
    "fragment",
    [
        '<img src="http://x/a.png">',
        '<img src="//x/a.png">',
        '<img src="a.png">',
        '<img src="fi&#x6c;e:///etc/passwd">',
        '<img src="\tfile:///etc/passwd">',
        '<image xlink:href="http://x/a.png"/>',
        '<a href="file:///etc/passwd">x</a>',
        '<a href="javascript:alert(1)">x</a>',
        '<div style="background:url(http://x/a.png)">x</div>',
        "<div style=\"background:URL( 'http://x/a.png' )\">x</div>",
        '<form action="http://x/"><button formaction="http://x/">b</button></form>',
        '<body background="http://x/a.png">',
        '<input type="image" src="http://x/a.png">',
        '<img onerror="fetch(\'http://x/\')" src="data:,">',
    ],
)
def test_sanitiser_drops_every_fetchable_url(fragment: str) -> None:
    cleaned = sanitize_html(fragment).html
    assert "http://x" not in cleaned and "file:" not in cleaned and "//x/" not in cleaned
    assert "a.png" not in cleaned and "javascript" not in cleaned and "onerror" not in cleaned


def test_css_sanitiser_removes_imports_and_urls_but_keeps_styles() -> None:
    css = sanitize_css(
        '@import url("http://x/a.css"); @import "http://x/b.css";'
        "@media print { @import url(http://x/c.css);"
        " h1 { color: red; background: url(http://x/d) } }"
        'p { background: url("data:image/png;base64,AAAA"); margin: 1cm }'
        "@page { @bottom-center { content: counter(page) } }"
    )
    assert "http://x" not in css and "@import" not in css
    assert "color: red" in css and "margin: 1cm" in css and "counter(page)" in css
    assert 'url("data:image/png;base64,AAAA")' in css


def test_style_element_cannot_smuggle_markup() -> None:
    cleaned = sanitize_html('<svg><style><img src="http://x/a.png"></style></svg>').html
    style = cleaned[cleaned.index("<style>") + 7 : cleaned.index("</style>")]
    assert "<" not in style and "http://x" not in style


def test_visible_text_excludes_comments_attributes_and_styles() -> None:
    result = sanitize_html(
        '<html><head><title>T 111</title><style>p{content:"222"}</style></head>'
        '<body><!-- 333 --><p title="444">555</p></body></html>'
    )
    assert "555" in result.text
    for hidden in ("111", "222", "333", "444"):
        assert hidden not in result.text


# --- engines and limits ------------------------------------------------------------


def test_unknown_engine_is_a_render_error(context: dict) -> None:
    with pytest.raises(RenderError, match="Unknown PDF engine 'princexml'"):
        render("<p>x</p>", "pdf", context, engine="princexml")


def test_engine_and_binary_come_from_the_app_config(app, context: dict) -> None:
    saved = app.config["PDF_ENGINE"], app.config["WKHTMLTOPDF_PATH"]
    try:
        app.config["PDF_ENGINE"] = "pdfkit"
        with app.app_context():
            assert pdf_engine().name == "pdfkit"
            assert render("<p>x</p>", "pdf", context).engine == "pdfkit"
            app.config["WKHTMLTOPDF_PATH"] = "/nonexistent/wkhtmltopdf"
            with pytest.raises(RenderError, match="WKHTMLTOPDF_PATH"):
                render("<p>x</p>", "pdf", context)
            assert render("<p>x</p>", "pdf", context, engine="weasyprint").engine == "weasyprint"
    finally:
        app.config["PDF_ENGINE"], app.config["WKHTMLTOPDF_PATH"] = saved


# Far more layout than a 1 s limit allows, for either engine (12,000 rows take seconds).
LONG_TABLE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><table>"
    + "".join(f"<tr><td>{i}</td><td>ligne</td></tr>" for i in range(30_000))
    + "</table></body></html>"
)


@pytest.mark.parametrize("engine", ENGINES)
def test_time_limit_covers_the_pdf_conversion(context: dict, engine: str, monkeypatch) -> None:
    """The limit stops the conversion itself: it was entered and never returned a PDF.

    Checked on the mechanism, not on the seconds a loaded machine stretches. The
    template is tiny (its render cannot use up the limit) and the engine is handed
    a long table instead, so the limit can only strike inside the conversion.
    """
    engine_class = type(pdf_engine(engine))
    convert = engine_class.convert
    conversions = {"started": 0, "finished": 0}

    def long_conversion(self, html: str) -> bytes:
        conversions["started"] += 1
        data = convert(self, LONG_TABLE)
        conversions["finished"] += 1
        return data

    monkeypatch.setattr(engine_class, "convert", long_conversion)
    with pytest.raises(RenderTimeout):
        render("<p>{{ policy.number }}</p>", "pdf", context, engine=engine, timeout=1)
    assert conversions == {"started": 1, "finished": 0}


def test_weasyprint_keeps_one_font_configuration_per_thread(context: dict) -> None:
    from app.services.rendering import pdf

    engine = pdf.WeasyPrintEngine()
    engine.convert("<p>Bonjour</p>")
    first = pdf._font_config()
    engine.convert("<p>Encore</p>")
    assert pdf._font_config() is first
    other: list = []
    worker = threading.Thread(target=lambda: other.append(pdf._font_config()))
    worker.start()
    worker.join()
    assert other[0] is not first  # Pango's font maps are not shared between threads


@pytest.mark.parametrize("at_rule", ["@font-face", "@FONT-FACE", r"@font-fac\65 "])
def test_a_document_with_its_own_fonts_leaves_them_to_itself(context: dict, at_rule: str) -> None:
    # Another agency's later document must not find this document's fonts, whatever
    # way the at-rule is spelled.
    from app.services.rendering import pdf

    engine = pdf.WeasyPrintEngine()
    engine.convert("<p>Avant</p>")
    shared = pdf._font_config()
    own_fonts = (
        f"<style>{at_rule} {{ font-family: 'DejaVu Sans'; src: url(data:font/ttf;base64,AAAA) }}"
        "</style><p>x</p>"
    )
    engine.convert(own_fonts)
    assert getattr(pdf._thread_fonts, "config", None) is None
    assert "Après" in pdf_text(engine.convert("<p>Après</p>"))
    assert pdf._font_config() is not shared


def test_a_conversion_stopped_half_way_leaves_the_next_one_whole(context: dict) -> None:
    from app.services.rendering import pdf

    engine = pdf.WeasyPrintEngine()
    real_html = engine._html

    class StoppedHalfWay:
        def __init__(self, **kwargs: object) -> None:
            pass

        def write_pdf(self, **kwargs: object) -> bytes:
            raise RenderTimeout()

    pdf._font_config()  # this thread's configuration exists
    engine._html = StoppedHalfWay
    with pytest.raises(RenderTimeout):
        engine.convert("<p>x</p>")
    # The interrupted conversion's configuration is dropped; the next one is right.
    assert getattr(pdf._thread_fonts, "config", None) is None
    engine._html = real_html
    assert "Bonjour" in pdf_text(engine.convert("<p>Bonjour</p>"))
    assert pdf._thread_fonts.config is not None


IMPORTED_BEFORE_THE_LIMIT = """
import sys

from app.services.rendering import pipeline, render, sample_context

seen = []
timed = pipeline.run_with_time_limit


def spy(work, seconds):
    seen.append("weasyprint.text.fonts" in sys.modules)
    return timed(work, seconds)


pipeline.run_with_time_limit = spy
render("<p>{{ policy.number }}</p>", "pdf", sample_context(None), engine="weasyprint")
print(seen)
"""


def test_weasyprint_is_imported_before_the_time_limit_starts() -> None:
    # A limit striking in the middle of WeasyPrint's first import (the first render of a
    # process) left it half-imported for the process's whole life ("module 'pycparser'
    # has no attribute 'c_ast'" on every later PDF). A fresh process shows the order.
    import os
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", IMPORTED_BEFORE_THE_LIMIT],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[True]"
