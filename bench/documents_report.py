"""The Markdown report of bench/documents.py (pasted into docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

TARGET_MEDIAN_MS = 60.0  # WeasyPrint, one-page document
TARGET_QUEUE_SECONDS = 30.0  # 1,000 documents, 2 workers
TARGET_SPEED_UP = 1.8
TARGET_XLSX_SECONDS = 8.0


def markdown(report: dict[str, Any]) -> str:
    host = report["machine"]
    lines = [
        "# Documents benchmark",
        "",
        f"Command: `{report['command']}` ({report['seconds']} s in all), "
        f"commit `{host['commit']}`.",
        "",
        f"Machine: {host['nproc']} CPUs ({host['cpu']}), {host['ram_gib']} GiB RAM, {host['os']}, "
        f"Python {host['python']}, WeasyPrint {host['weasyprint']}, {host['wkhtmltopdf']}.",
        "",
        "Load average (1, 5, 15 min) before: "
        + ", ".join(f"{value:.2f}" for value in report["load_before"])
        + "; after: "
        + ", ".join(f"{value:.2f}" for value in report["load_after"])
        + ".",
        "",
    ]
    if "engines" in report:
        lines += [
            "## One document, each PDF engine (in process)",
            "",
            "| document | engine | pages | size | renders | median | p95 | HTML alone (median) |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in report["engines"]:
            flag = ""
            if row["engine"] == "weasyprint" and row["pages"] == 1:
                flag = " ✓" if row["median_ms"] <= TARGET_MEDIAN_MS else " ✗"
            size = f"{row['bytes'] / 1024:.0f} KiB"
            lines.append(
                f"| {row['document']} | {row['engine']} | {row['pages']} | {size} "
                f"| {row['renders']} | **{row['median_ms']:.0f} ms**{flag} "
                f"| {row['p95_ms']:.0f} ms | {row['html_median_ms']:.0f} ms |"
            )
        lines += ["", f"Target: WeasyPrint, one page, median ≤ {TARGET_MEDIAN_MS:.0f} ms.", ""]
    if "queue" in report:
        runs = report["queue"]
        lines += [
            "## Documents through the queue (a real huey_consumer)",
            "",
            "| engine | shared sheets | workers | documents | seconds | documents/s | speed-up "
            "| CPU per document | request | warm-up | render median | render p95 | load |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for run in runs:
            single = next(
                (
                    r
                    for r in runs
                    if r["engine"] == run["engine"]
                    and r["workers"] == 1
                    and r.get("sheets") == run.get("sheets")
                ),
                None,
            )
            speed_up = f"{single['seconds'] / run['seconds']:.2f}×" if single else "—"
            lines.append(
                f"| {run['engine']} | {run.get('sheets', 'on')} "
                f"| {run['workers']} {run['worker_type']} "
                f"| {run['documents']:,} ({run['template']}) "
                f"| **{run['seconds']:.1f}** | {run['per_second']} | {speed_up} "
                f"| {run.get('cpu_ms_per_document', 0):.0f} ms "
                f"| {run['request_seconds']:.2f} s | {run['warm_up_seconds']:.1f} s "
                f"| {run['render_median_ms']:.0f} ms | {run['render_p95_ms']:.0f} ms "
                f"| {run.get('load_average', 0):.1f} |"
            )
        lines += [
            "",
            f"Targets: 1,000 documents ≤ {TARGET_QUEUE_SECONDS:.0f} s with 2 workers, "
            f"≥ {TARGET_SPEED_UP}× one worker. Every run ended with all documents ready, one "
            "stored file each.",
            "",
        ]
    if "xlsx" in report:
        lines += [
            "## XLSX through render() (xlsxwriter constant memory, rows from a generator)",
            "",
            "| rows | seconds | size | peak RSS | RSS after imports | rows read back |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for row in report["xlsx"]:
            size = f"{row['bytes'] / 1024 / 1024:.1f} MiB"
            lines.append(
                f"| {row['rows']:,} | **{row['seconds']:.2f}** | {size} "
                f"| {row['peak_rss_mib']:.0f} MiB | {row['rss_before_mib']:.0f} MiB "
                f"| {row['rows_read_back']:,} |"
            )
        lines += ["", f"Target: 100,000 rows ≤ {TARGET_XLSX_SECONDS:.0f} s at flat memory.", ""]
    return "\n".join(lines)
