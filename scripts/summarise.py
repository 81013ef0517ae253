"""Print the summary of scripts/test.sh from its legs file and pytest's JUnit reports.

Usage: python scripts/summarise.py REPORTS_DIR
REPORTS_DIR/legs has one line per leg: "<name> <exit status|skipped|unreachable> <seconds>",
and REPORTS_DIR/<name>.xml is that leg's report. The last line is the plain
"total: N passed, N failed, N skipped" that CI reads; the exit status is 1 when a
leg failed, could not run, or ran no test.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET  # noqa: N817 (the usual alias)
from dataclasses import dataclass
from pathlib import Path

TITLES = {"sqlite": "SQLite, no Redis", "postgresql": "PostgreSQL + Redis"}


@dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, other: Counts) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped

    def __str__(self) -> str:
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"


def read_report(path: Path) -> Counts | None:
    if not path.exists():
        return None
    root = ET.parse(path).getroot()  # noqa: S314 (pytest's own report, written just now)
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    counts = Counts()
    for suite in suites:
        tests = int(suite.get("tests", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        counts.add(Counts(tests - failed - skipped, failed, skipped))
    return counts


def main(folder: Path) -> int:
    total = Counts()
    ok = True
    print("\n===== summary =====")
    for line in (folder / "legs").read_text().splitlines():
        name, status, seconds = line.split()
        title = TITLES.get(name, name)
        if status == "skipped":
            print(f"{title:<20} SKIPPED (services not reachable)")
            continue
        if status == "unreachable":
            print(f"{title:<20} FAILED: services not reachable")
            ok = False
            continue
        counts = read_report(folder / f"{name}.xml")
        if counts is None:
            print(f"{title:<20} FAILED: pytest exited {status} without a report")
            ok = False
            continue
        total.add(counts)
        ran = counts.passed + counts.failed
        verdict = "ok" if status == "0" and ran > 0 else "FAILED"
        if status == "5" or ran == 0:
            verdict = "FAILED: no tests ran"
        ok = ok and verdict == "ok"
        print(f"{title:<20} {verdict}: {counts} in {seconds}s (pytest exit {status})")
    print(f"total: {total}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
