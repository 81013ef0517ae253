"""Benchmark the XLSX writers at 100,000 portfolio rows: ours next to the bare libraries.

Usage:
    python bench/xlsx.py                      # 100,000 rows, 3 rounds
    python bench/xlsx.py --rows 20000 --rounds 1

Each measure runs in a fresh child process (so one run's memory does not count in
another's), on the same rows: the portfolio report's 9 columns (policy number,
client, insurer, line of business, premium as Decimal with a money format, currency,
two dates, status), built by a generator so the rows themselves hold no memory.

- ``ours``: ``app.services.reports.tabular.write_tabular`` (the report jobs' writer,
  the path of the portfolio report) under ``force_locale("fr")``, as the job runs it;
- ``export``: ``app.services.exports.writers.xlsx_file`` (list, statement and
  remittance exports) with the same rows;
- ``xlsxwriter``: bare xlsxwriter in constant-memory mode, plain ``write_row``
  and one money format: the library's floor on this machine;
- ``openpyxl``: bare openpyxl write-only mode, plain values: the previous writer's floor.

Measures are interleaved round by round (the machine is shared); each reports the
wall time of writing the file and the child's peak RSS (VmHWM) with the RSS before
writing. The load average is printed with the results: compare ratios within a run.
Results: bench/results/xlsx-<rows>.json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
KINDS = ("ours", "export", "xlsxwriter", "openpyxl")
HEADER = [
    "N° de contrat",
    "Client",
    "Assureur",
    "Branche",
    "Prime annuelle TTC",
    "Devise",
    "Date d'effet",
    "Date d'échéance",
    "Statut",
]
MONEY = '#,##0.00\\ "€"'


def portfolio_rows(count: int) -> Iterator[tuple[Any, ...]]:
    """The portfolio report's row shape, deterministic."""
    start = dt.date(2024, 1, 1)
    lines = ("Automobile", "Habitation", "Santé", "Prévoyance", "Multirisque pro")
    statuses = ("En cours", "Résilié", "Suspendu")
    for index in range(count):
        effective = start + dt.timedelta(days=index % 700)
        yield (
            f"POL-{index:08d}",
            f"Client {index % 50_000:05d} Dupont-Martin",
            f"Assureur {index % 24:02d} Mutuelle",
            lines[index % 5],
            Decimal(index % 5000) + Decimal("0.37"),
            "EUR",
            effective,
            effective + dt.timedelta(days=365),
            statuses[index % 3],
        )


def _memory_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def child(kind: str, rows: int, out: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    if kind in ("ours", "export"):
        from flask import Flask
        from flask_babel import Babel, force_locale

        app = Flask("bench")  # the writers need a locale, not the whole application
        Babel(app)
        app.test_request_context().push()

        import xlsxwriter  # noqa: F401  (imported before the clock starts, like a warm worker)

        from app.models import OutputFormat
        from app.services.exports.writers import xlsx_file
        from app.services.reports.tabular import Sheet, Tabular, write_tabular
    elif kind == "xlsxwriter":
        import xlsxwriter
    else:
        from openpyxl import Workbook
    before = _memory_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak from here on
    started = time.perf_counter()
    if kind == "ours":
        tabular = Tabular(
            "portfolio",
            [Sheet("Contrats", HEADER, lambda: portfolio_rows(rows), rows, (18,) * 9, {4: MONEY})],
        )
        with force_locale("fr"):
            write_tabular(tabular, OutputFormat.xlsx, out, lambda done: None)
    elif kind == "export":
        spool = xlsx_file(HEADER, portfolio_rows(rows), title="Contrats")
        with out.open("wb") as handle:
            while chunk := spool.read(1 << 20):
                handle.write(chunk)
        spool.close()
    elif kind == "xlsxwriter":
        book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
        sheet = book.add_worksheet("Contrats")
        money = book.add_format({"num_format": MONEY})
        date = book.add_format({"num_format": "dd/mm/yyyy"})
        sheet.write_row(0, 0, HEADER)
        for number, row in enumerate(portfolio_rows(rows), start=1):
            sheet.write_row(number, 0, row[:4])
            sheet.write_number(number, 4, row[4], money)
            sheet.write_string(number, 5, row[5])
            sheet.write_datetime(number, 6, row[6], date)
            sheet.write_datetime(number, 7, row[7], date)
            sheet.write_string(number, 8, row[8])
        book.close()
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Contrats")
        sheet.append(HEADER)
        for row in portfolio_rows(rows):
            sheet.append(row)
        book.save(str(out))
    seconds = time.perf_counter() - started
    return {
        "kind": kind,
        "seconds": round(seconds, 2),
        "rss_before_mib": round(before / 1024, 1),
        "peak_rss_mib": round(_memory_kib("VmHWM") / 1024, 1),
        "size_mib": round(out.stat().st_size / 2**20, 2),
    }


def check(path: Path, rows: int) -> None:
    """The file holds every row, the premium a number and the dates dates."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    sheet = book.worksheets[0]
    count = 0
    second = None
    for index, row in enumerate(sheet.iter_rows(values_only=True)):
        count += 1
        if index == 1:
            second = row
    book.close()
    assert count == rows + 1, (path, count)
    assert isinstance(second[4], int | float) and isinstance(second[6], dt.datetime), second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, Path(args.out))))
        return 0
    kinds = args.kinds.split(",")
    results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-xlsx-") as folder:
        for _round in range(args.rounds):
            for kind in kinds:
                out = Path(folder) / f"{kind}.xlsx"
                command = [sys.executable, __file__, "--child", kind, "--rows", str(args.rows)]
                done = subprocess.run(
                    [*command, "--out", str(out)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                    env={**os.environ, "PYTHONWARNINGS": "ignore"},
                )
                results[kind].append(json.loads(done.stdout.strip().splitlines()[-1]))
                check(out, args.rows)
                out.unlink()
    load_after = os.getloadavg()
    reference = statistics.median(r["seconds"] for r in results[kinds[-1]])
    lines = [
        f"## XLSX writers, {args.rows:,} portfolio rows × 9 columns, {args.rounds} rounds",
        "",
        f"Load average (1, 5, 15 min) before {load_before}, after {load_after}.",
        "",
        "| writer | median s | runs (s) | vs " + kinds[-1] + " | peak RSS | RSS before | file |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for kind in kinds:
        runs = results[kind]
        median = statistics.median(r["seconds"] for r in runs)
        lines.append(
            f"| {kind} | **{median:.2f}** | {', '.join(str(r['seconds']) for r in runs)} "
            f"| {median / reference:.2f}× | {max(r['peak_rss_mib'] for r in runs)} MiB "
            f"| {runs[0]['rss_before_mib']} MiB | {runs[0]['size_mib']} MiB |"
        )
    RESULTS.mkdir(exist_ok=True)
    report = {"rows": args.rows, "load": [load_before, load_after], "results": results}
    (RESULTS / f"xlsx-{args.rows}.json").write_text(json.dumps(report, indent=2))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
