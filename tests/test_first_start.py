"""The first start as a new user meets it: the Debian packages, the worker, the imports.

scripts/install-apt-packages.sh installs the second PDF engine (wkhtmltopdf, ~30
Qt/WebKit packages) only when PDF_ENGINE selects it, and keeps apt's output off the
console unless it fails. worker.py (run.py's consumer) stops cleanly on an early
Ctrl-C. Building the app imports no document library: they wait for the first document.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import ROOT, Proc, clean_env

SCRIPT = ROOT / "scripts" / "install-apt-packages.sh"


def packages(*groups: str, **env: str) -> list[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("PDF_ENGINE", "WKHTMLTOPDF_PATH")
    }
    result = subprocess.run(  # noqa: S603
        ["bash", str(SCRIPT), "--print", *groups],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.split()


def test_the_default_engine_needs_no_wkhtmltopdf():
    runtime = packages("runtime")
    assert "libpango-1.0-0" in runtime and "fonts-dejavu-core" in runtime
    assert "wkhtmltopdf" not in runtime
    assert "wkhtmltopdf" not in packages("runtime", PDF_ENGINE="weasyprint")


@pytest.mark.parametrize("engine", ["pdfkit", " PDFKit ", "wkhtmltopdf"])
def test_pdf_engine_pdfkit_brings_wkhtmltopdf(engine):
    assert "wkhtmltopdf" in packages("runtime", PDF_ENGINE=engine)


def test_a_wkhtmltopdf_of_ones_own_is_not_installed_again():
    assert "wkhtmltopdf" not in packages(
        "runtime", PDF_ENGINE="pdfkit", WKHTMLTOPDF_PATH="/opt/wkhtmltopdf/bin/wkhtmltopdf"
    )


def test_the_tests_and_ci_get_wkhtmltopdf_for_the_pdfkit_tests():
    assert "wkhtmltopdf" in packages("test")
    assert "wkhtmltopdf" in packages("runtime", "test")  # what .ci/run asks for
    assert "wkhtmltopdf" in packages()  # no argument: runtime and test
    assert packages("pdfkit") == ["wkhtmltopdf"]


def fake_debian(tmp_path: Path, apt_exit: int) -> dict[str, str]:
    """dpkg-query that finds nothing installed, apt-get as chatty as dpkg, id that says root."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        "dpkg-query": "exit 1",
        "id": "echo 0",
        "apt-get": (
            'echo "apt-get $*" >> "$APT_CALLS"\n'
            'for i in $(seq 1 40); do echo "Selecting previously unselected package lib$i."; '
            'echo "Unpacking lib$i (1.0) ..."; done\n'
            f"exit {apt_exit}"
        ),
    }
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return {
        **{k: v for k, v in os.environ.items() if k != "PDF_ENGINE"},
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "APT_CALLS": str(tmp_path / "calls"),
        "TMPDIR": str(tmp_path),
    }


def test_apt_output_stays_off_the_console_when_it_works(tmp_path):
    env = fake_debian(tmp_path, apt_exit=0)
    result = subprocess.run(  # noqa: S603
        ["bash", str(SCRIPT), "runtime"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    console = (result.stdout + result.stderr).splitlines()
    assert len(console) == 1, console
    assert console[0].startswith("Installing Debian packages: python3 ")
    assert "wkhtmltopdf" not in console[0]
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0] == "apt-get update -qq"
    assert calls[1].startswith("apt-get install -y -qq --no-install-recommends")
    assert not list(tmp_path.glob("monassurance-apt.*")), "the log of a good run is removed"


def test_apt_output_is_shown_when_it_fails(tmp_path):
    env = fake_debian(tmp_path, apt_exit=100)
    result = subprocess.run(  # noqa: S603
        ["bash", str(SCRIPT), "runtime"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "apt-get failed; its output" in result.stderr
    assert "Unpacking lib40 (1.0) ..." in result.stderr


@pytest.mark.slow
@pytest.mark.one_leg
def test_worker_stops_cleanly_on_a_ctrl_c_during_its_start(tmp_path):
    env = clean_env(tmp_path / "data")
    worker = Proc([sys.executable, "worker.py", "-w", "1"], env, tmp_path / "logs", "worker")
    try:
        # Its own SIGTERM handler is the first thing worker.py installs (Python has none):
        # from then on a stop is remembered, whether the app is still importing or not.
        status = Path(f"/proc/{worker.pid}/status")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            caught = next(
                line for line in status.read_text().splitlines() if line.startswith("SigCgt:")
            )
            if int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)):
                break
            time.sleep(0.01)
        worker.send(signal.SIGINT)
        code = worker.wait(60)
    finally:
        worker.kill()
    assert code == 0, worker.stderr
    assert "Traceback" not in worker.stderr
    assert "KeyboardInterrupt" not in worker.stderr


@pytest.mark.slow
@pytest.mark.one_leg
def test_building_the_app_imports_no_document_library(tmp_path):
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('error', UserWarning)\n"  # pkg_resources' warning, too
        "from app import create_app\n"
        "create_app()\n"
        "heavy = ('openpyxl', 'xlsxwriter', 'weasyprint', 'googleapiclient', 'boto3')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert result.stderr == ""
