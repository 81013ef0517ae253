"""The README's test command (scripts/test.sh) and its summary, run as a developer runs them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="{errors}" failures="{failures}"
 skipped="{skipped}" tests="{tests}" time="1.0"></testsuite></testsuites>"""


def summarise(folder: Path, legs: list[str], reports: dict[str, dict[str, int]]):
    (folder / "legs").write_text("".join(f"{leg}\n" for leg in legs))
    for name, counts in reports.items():
        values = {"errors": 0, "failures": 0, "skipped": 0, "tests": 0, **counts}
        (folder / f"{name}.xml").write_text(JUNIT.format(**values))
    return subprocess.run(
        [sys.executable, "scripts/summarise.py", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_summary_adds_up_both_legs(tmp_path):
    result = summarise(
        tmp_path,
        ["sqlite 0 12", "postgresql 0 20"],
        {"sqlite": {"tests": 10, "skipped": 1}, "postgresql": {"tests": 10}},
    )
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "total: 19 passed, 0 failed, 1 skipped"


def test_summary_fails_when_no_test_ran(tmp_path):
    result = summarise(tmp_path, ["sqlite 5 1"], {"sqlite": {"tests": 0}})
    assert result.returncode == 1
    assert "no tests ran" in result.stdout


def test_summary_counts_errors_as_failures(tmp_path):
    result = summarise(
        tmp_path, ["sqlite 1 3"], {"sqlite": {"tests": 5, "failures": 1, "errors": 1}}
    )
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == "total: 3 passed, 2 failed, 0 skipped"


def test_summary_fails_when_required_services_were_missing(tmp_path):
    result = summarise(
        tmp_path, ["sqlite 0 3", "postgresql unreachable 0"], {"sqlite": {"tests": 4}}
    )
    assert result.returncode == 1
    assert "services not reachable" in result.stdout


def test_summary_fails_when_pytest_left_no_report(tmp_path):
    result = summarise(tmp_path, ["sqlite 4 0"], {})
    assert result.returncode == 1
    assert "without a report" in result.stdout


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_test_command(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """scripts/test.sh with this interpreter's venv and unreachable leg-2 services."""
    environment = {
        **os.environ,
        "MONASSURANCE_VENV": sys.prefix,
        "TEST_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{closed_port()}/test",
        "TEST_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
        "MONASSURANCE_REQUIRE_SERVICES": "0",
        **env,
    }
    return subprocess.run(
        ["bash", "scripts/test.sh", "-p", "no:cacheprovider", "-q", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.one_leg
def test_unreachable_services_skip_leg_two_plainly():
    result = run_test_command("tests/test_smoke.py", "-k", "health")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SKIPPED: PostgreSQL/Redis leg (not reachable at postgresql://" in result.stdout
    assert result.stdout.splitlines()[-1] == "total: 1 passed, 0 failed, 0 skipped"


@pytest.mark.slow
@pytest.mark.one_leg
def test_no_test_ran_and_missing_required_services_both_fail():
    result = run_test_command(
        "tests/test_smoke.py", "-k", "no_such_test_anywhere", MONASSURANCE_REQUIRE_SERVICES="1"
    )
    assert result.returncode == 1
    assert "SQLite, no Redis     FAILED: no tests ran" in result.stdout
    assert "ERROR: PostgreSQL/Redis leg cannot run" in result.stderr
    assert "PostgreSQL + Redis   FAILED: services not reachable" in result.stdout
