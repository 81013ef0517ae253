"""Our PDF engines beside a warm headless Chromium, on the built-in contract and attestation.

Usage:
    python bench/pdf_engines.py                 # 30 rounds: about 2 min on 2 quiet cores
    python bench/pdf_engines.py --rounds 10 --chromium /usr/bin/chromium

The documents are the built-in templates rendered by the application's own pipeline
(sandboxed Jinja, sanitising, ORIAS footer) with the sample context of the previews, so
every engine converts the same final HTML. In one process, engines interleaved (the order
rotates every round) after 3 warm-up conversions each:

- weasyprint: the shipped engine (parsed <style> sheets shared between renders);
- weasyprint-unshared: the same with each document's sheet parsed afresh (the reference);
- pdfkit: wkhtmltopdf through the shipped engine, one child process per document;
- chromium: Debian's chromium through Playwright, launched once (as the browser tests do),
  one page reused; JavaScript off, every request but data: aborted by a route;
  page.set_content then page.pdf (A4, the document's own @page size and margins).

Per conversion: wall time, and CPU time of this process and all its descendants (the
Playwright driver, Chromium's browser and renderer processes, wkhtmltopdf), read from
/proc, since two workers on two cores are bound by the CPU a document costs, not by its
wall time. Then, for each engine: pages, size, and whether every page carries the ORIAS
footer and "Page n / N" (the look); and whether a document pointing at a local HTTP
listener (img, CSS url(), iframe, link) and at file:// paths made any request or printed a
local file's text (the isolation; the HTML is not sanitised here, so the engine alone
answers). Results: bench/results/pdf_engines.json and .md (printed as well).
"""

from __future__ import annotations

import argparse
import http.server
import io
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
DOCUMENTS = {"contract": "conditions_particulieres", "attestation": "attestation_assurance"}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SECRET_FILE = "/etc/hostname"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=30, help="timed conversions per engine")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    report: dict[str, Any] = {
        "command": " ".join(["python", "bench/pdf_engines.py", *(argv or sys.argv[1:])]),
        "load_before": os.getloadavg(),
    }
    started = time.perf_counter()
    with Chromium(args.chromium) as chromium:
        engines = shipped_engines() | {"chromium": chromium.convert}
        report["documents"] = [
            measure(label, final_html(key), engines, args.rounds)
            for label, key in DOCUMENTS.items()
        ]
        report["isolation"] = isolation(engines)
        report["chromium"] = chromium.version
    report["load_after"] = os.getloadavg()
    report["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pdf_engines.json").write_text(json.dumps(report, indent=2, default=str))
    text = markdown(report)
    (RESULTS / "pdf_engines.md").write_text(text)
    print(text)
    return 0


def final_html(key: str) -> str:
    """The built-in template ``key`` through our pipeline, as the engines receive it."""
    from app.services.rendering.context import plain_context, sample_context
    from app.services.rendering.pipeline import render_html_document
    from app.services.rendering.sandbox import render_locale
    from app.services.templates.builtin import BUILTINS, builtin_body

    builtin = next(item for item in BUILTINS if item.key == key)
    context = plain_context(sample_context(None))
    context["locale"] = "fr"
    token = render_locale.set("fr")
    try:
        return render_html_document(builtin_body(builtin), context, "fr")
    finally:
        render_locale.reset(token)


def shipped_engines() -> dict[str, Any]:
    from app.services.rendering.pdf import PdfkitEngine, WeasyPrintEngine

    return {
        "weasyprint": WeasyPrintEngine().convert,
        "weasyprint-unshared": WeasyPrintEngine(share_stylesheets=False).convert,
        "pdfkit": PdfkitEngine().convert,
    }


class Chromium:
    """One warm headless Chromium and one page, reused for every conversion."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.requests: list[str] = []

    def __enter__(self) -> Chromium:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=self.executable,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        self.version = self._browser.version
        context = self._browser.new_context(java_script_enabled=False)
        self._page = context.new_page()
        self._page.route("**/*", self._route)
        return self

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith("data:"):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def convert(self, html: str) -> bytes:
        self._page.set_content(html, wait_until="load")
        return self._page.pdf(format="A4", prefer_css_page_size=True, print_background=True)

    def __exit__(self, *exc: object) -> None:
        self._browser.close()
        self._playwright.stop()


def tree_cpu_seconds() -> float:
    """CPU time (user + system) of this process and every live descendant."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        pid, parent = int(entry), int(fields[1])
        children.setdefault(parent, []).append(pid)
        # utime, stime, and the waited-for children's cutime, cstime (wkhtmltopdf).
        times[pid] = sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
    total, todo = 0.0, [os.getpid()]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def measure(label: str, html: str, engines: dict[str, Any], rounds: int) -> dict[str, Any]:
    from pypdf import PdfReader

    files = {}
    for name, convert in engines.items():
        for _ in range(3):
            files[name] = convert(html)
    wall: dict[str, list[float]] = {name: [] for name in engines}
    cpu: dict[str, list[float]] = {name: [] for name in engines}
    names = list(engines)
    for index in range(rounds):
        turn = index % len(names)
        for name in names[turn:] + names[:turn]:
            cpu_began, began = tree_cpu_seconds(), time.perf_counter()
            engines[name](html)
            wall[name].append(1000 * (time.perf_counter() - began))
            cpu[name].append(1000 * (tree_cpu_seconds() - cpu_began))
    rows = []
    for name in engines:
        pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(files[name])).pages]
        rows.append(
            {
                "engine": name,
                "pages": len(pages),
                "bytes": len(files[name]),
                "wall_median_ms": statistics.median(wall[name]),
                "cpu_median_ms": statistics.median(cpu[name]),
                # /proc counts in clock ticks (10 ms): the mean over all rounds is finer.
                "cpu_mean_ms": statistics.fmean(cpu[name]),
                "orias_footer_every_page": all("immatriculé à l'ORIAS" in text for text in pages),
                "page_numbers": all(
                    f"Page {number} / {len(pages)}" in text
                    for number, text in enumerate(pages, start=1)
                ),
            }
        )
    return {"document": label, "rounds": rounds, "engines": rows}


class _Listener(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        _Listener.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args: object) -> None:
        return


def isolation(engines: dict[str, Any]) -> list[dict[str, Any]]:
    """Requests and local text that each engine let through, on a hostile raw document."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    secret = Path(SECRET_FILE).read_text().strip()
    html = (
        f'<html><head><link rel="stylesheet" href="{base}/link.css">'
        f"<style>@import url({base}/import.css); body {{ background: url({base}/bg.png) }}"
        f"</style></head><body><p>isolation</p>"
        f'<img src="{base}/img.png"><img src="file://{SECRET_FILE}">'
        f'<iframe src="file://{SECRET_FILE}"></iframe><iframe src="{base}/frame"></iframe>'
        f'<object data="file://{SECRET_FILE}"></object><embed src="file://{SECRET_FILE}">'
        "</body></html>"
    )
    from pypdf import PdfReader

    results = []
    try:
        for name, convert in engines.items():
            _Listener.hits.clear()
            try:
                data = convert(html)
                text = " ".join(
                    page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages
                )
                error = None
            except Exception as exception:  # an engine that refuses the whole document
                text, error = "", type(exception).__name__
            time.sleep(0.2)  # a request in flight reaches the listener
            results.append(
                {
                    "engine": name,
                    "requests_received": len(_Listener.hits),
                    "local_file_text_printed": bool(secret) and secret in text,
                    "error": error,
                }
            )
    finally:
        server.shutdown()
    return results


def markdown(report: dict[str, Any]) -> str:
    load = ", ".join(f"{value:.2f}" for value in report["load_before"])
    after = ", ".join(f"{value:.2f}" for value in report["load_after"])
    lines = [
        "# PDF engines beside Chromium",
        "",
        f"Command: `{report['command']}` ({report['seconds']} s), Chromium {report['chromium']}.",
        f"Load average before: {load}; after: {after}.",
        "",
        "| document | engine | pages | size | wall median | CPU mean (all processes) "
        "| ORIAS footer on every page | Page n / N |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for document in report["documents"]:
        for row in document["engines"]:
            lines.append(
                f"| {document['document']} | {row['engine']} | {row['pages']} "
                f"| {row['bytes'] / 1024:.0f} KiB | {row['wall_median_ms']:.0f} ms "
                f"| {row['cpu_mean_ms']:.0f} ms "
                f"| {'yes' if row['orias_footer_every_page'] else '**no**'} "
                f"| {'yes' if row['page_numbers'] else '**no**'} |"
            )
    lines += [
        "",
        "| engine | requests received | local file printed | error |",
        "|---|---:|---|---|",
    ]
    for row in report["isolation"]:
        lines.append(
            f"| {row['engine']} | {row['requests_received']} "
            f"| {'**yes**' if row['local_file_text_printed'] else 'no'} | {row['error'] or ''} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
