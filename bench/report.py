"""Markdown tables from the benchmark's JSON reports (pasted into docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

GOAL_RATIO = 2.0


def markdown(reports: list[dict[str, Any]], host: dict[str, str], command: str) -> str:
    lines = [
        "# GET /api/v1/policy/ — FAB against hand-written",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {host['cpus']} CPUs ({host['cpu']}), {host['memory']} RAM, "
        f"Python {host['python']}, {host['platform']}",
        "",
        f"Load average: {host['load']}",
        "",
    ]
    for report in reports:
        lines += _backend(report)
    return "\n".join(lines) + "\n"


def _backend(report: dict[str, Any]) -> list[str]:
    name = report["backend"]
    if "error" in report:
        return [f"## {name}", "", f"Failed: {report['error']}", ""]
    lines = [
        f"## {name} — {report['database']}, {report['size']:,} policies",
        "",
        f"Up to {report['requests']} timed requests per endpoint (fewer when a variant's "
        f"time budget ran out: see n) after {report['warmup']} warm-up, interleaved; "
        f"Flask test client; run took {report['seconds']} s.",
        "",
        "| request | FAB median | FAB p95 | hand median | hand p95 | n | ratio (median) "
        "| ratio (p95) | SQL FAB / hand | same body |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for variant in report["variants"]:
        fab, hand = variant["latency_ms"]["fab"], variant["latency_ms"]["hand"]
        ratio = variant["ratio_median"]
        flag = "" if ratio <= GOAL_RATIO else " ✗"
        lines.append(
            f"| {variant['title']} | {fab['median']:.1f} ms | {fab['p95']:.1f} ms "
            f"| {hand['median']:.1f} ms | {hand['p95']:.1f} ms | {fab['n']} "
            f"| **{ratio:.2f}×**{flag} "
            f"| {variant['ratio_p95']:.2f}× | {len(variant['queries']['fab'])} / "
            f"{len(variant['queries']['hand'])} | {'yes' if variant['identical_body'] else 'NO'} |"
        )
    lines += _ladder(report["ladder"])
    lines += ["", "### SQL statements per request (default request)", ""]
    first = report["variants"][0]
    for side in ("fab", "hand"):
        label = "FAB" if side == "fab" else "hand-written"
        lines += [f"{label}:", "", "| # | what | caller | ms (in request) |", "|---|---|---|---:|"]
        for index, item in enumerate(first["queries"][side], start=1):
            lines.append(f"| {index} | {item['kind']} | `{item['caller']}` | {item['ms']:.2f} |")
        lines.append("")
    lines += ["### Data queries: bare database time (median of repeated runs, no web layer)", ""]
    lines += [
        "| request | FAB count | FAB page | hand count | hand page |",
        "|---|---:|---:|---:|---:|",
    ]
    for variant in report["variants"]:
        cells = []
        for side in ("fab", "hand"):
            by_kind = {plan["kind"]: plan["db_ms"] for plan in variant["plans"][side]}
            cells += [f"{by_kind.get('count', 0):.2f} ms", f"{by_kind.get('page', 0):.2f} ms"]
        lines.append(f"| {variant['title']} | " + " | ".join(cells) + " |")
        if "without_index" in variant:
            check = variant["without_index"]
            lines.append(
                f"| {variant['title']}, page without {check['index']} | | "
                f"{check['db_ms']:.2f} ms | | |"
            )
        if "plain_offset" in variant:
            plain = variant["plain_offset"]["db_ms"]
            lines.append(
                f"| {variant['title']}, page as a plain OFFSET (before) | | | | {plain:.2f} ms |"
            )
    lines += ["", "### Plans", ""]
    for variant in report["variants"]:
        extra = [
            (side, variant[key])
            for side, key in (("hand", "plain_offset"), ("fab", "without_index"))
            if key in variant
        ]
        plans = [(side, plan) for side in ("fab", "hand") for plan in variant["plans"][side]]
        for side, plan in plans + extra:
            lines += [
                f"{variant['title']} — {side} {plan['kind']} ({plan['db_ms']:.2f} ms):",
                "",
                "```",
                plan["sql"][:600] + (" …" if len(plan["sql"]) > 600 else ""),
                "--",
                *plan["plan"],
                "```",
                "",
            ]
    lines += _profile(report["profile"])
    return lines


def _ladder(ladder: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "### From FAB's defaults to ours, default request (bench/tuned.py, steps add up)",
        "",
        "| step | median | p95 | n | SQL | ratio to hand-written | same body |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for rung in ladder["rungs"]:
        latency = rung["latency_ms"]
        lines.append(
            f"| {rung['label']} | {latency['median']:.1f} ms | {latency['p95']:.1f} ms "
            f"| {latency['n']} | {rung['queries']} | {rung['ratio_median']:.2f}× "
            f"| {'yes' if rung['identical_body'] else 'NO'} |"
        )
    return lines


def _profile(profile: dict[str, Any]) -> list[str]:
    lines = [
        f"### Profile of the default request (cProfile, {profile['requests']} requests each; "
        "self time per request by package)",
        "",
        "| package | FAB ms | hand ms |",
        "|---|---:|---:|",
    ]
    fab, hand = profile["fab"]["by_package_ms"], profile["hand"]["by_package_ms"]
    for package in sorted(set(fab) | set(hand), key=lambda key: -fab.get(key, 0)):
        lines.append(f"| {package} | {fab.get(package, 0):.2f} | {hand.get(package, 0):.2f} |")
    lines.append(f"| **total** | **{sum(fab.values()):.2f}** | **{sum(hand.values()):.2f}** |")
    lines += [
        "",
        "cProfile slows deep pure-Python code (jsonschema) more than C calls: read these shares "
        "as an order; the step-by-step table above has the unprofiled amounts.",
        "",
        "FAB functions with the most cumulative time per request:",
        "",
    ]
    lines += ["| function | ms |", "|---|---:|"]
    for label, ms in profile["fab"]["hotspots_ms"]:
        lines.append(f"| `{label}` | {ms:.2f} |")
    lines.append("")
    return lines
