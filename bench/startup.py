"""Benchmark `python run.py`: first start on a fresh database, then a restart.

Usage:
    python bench/startup.py                # 3 rounds (each: a first start, then a restart)
    python bench/startup.py --rounds 5 --timeout 120

Each round makes a fresh temporary data folder (a new SQLite database, Huey queue
and file store) and a free port on 127.0.0.1, then:
  1. first start: runs `python run.py` (migrations, roles, demo data, the first
     administrator, then gunicorn and the Huey consumer) and times, from the spawn,
     until GET /login/ answers 200 and until the banner with the password is printed;
  2. stops it with SIGINT (Ctrl-C) and times the stop;
  3. restart on the same folder: the same two times again, then SIGINT.
Everything listens on loopback only; each start is bounded by --timeout, and
whatever is left is killed (process group) on the way out.

Before the first round the project's modules are byte-compiled, as pip does for
installed packages: "after install" then means what it means for a user, whose
second run finds the bytecode Python wrote on the first. The console of the last
first start is kept to report its line count (the banner should be most of it).
Results: bench/results/startup.json and a Markdown summary on stdout.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
BANNER = "Press Ctrl-C to stop."
GOAL_FIRST_S = 10.0
GOAL_RESTART_S = 3.0
# Variables that would point run.py elsewhere than the bench's own folder and port.
SCRUBBED = (
    "DATA_DIR",
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE_URL",
    "SECRET_KEY",
    "HUEY_IMMEDIATE",
    "HUEY_NAME",
    "HUEY_SQLITE_PATH",
    "ADMIN_USERNAME",
    "ADMIN_PASSWORD",
    "DEMO_DATA",
    "HOST",
    "PORT",
    "PROMETHEUS_MULTIPROC_DIR",
    "GUNICORN_CMD_ARGS",
    "WEB_CONCURRENCY",
    "LOG_JSON",
    "LOG_LEVEL",
    "PYTHONDONTWRITEBYTECODE",
)


@dataclass
class Start:
    login_ready_s: float  # spawn -> GET /login/ answers 200
    banner_s: float  # spawn -> the banner (URL, login, password) is on the console
    stop_s: float  # SIGINT -> run.py has exited
    cpu_s: float  # user + system CPU of run.py and its children, spawn to exit
    run_py_cpu_s: float  # run.py's own CPU when /login/ first answered (its set-up)
    web_cpu_s: float  # gunicorn's (master + worker) CPU then: import and build of the app
    exit_code: int
    console_lines: int  # stdout + stderr lines, start to stop


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tree_cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far of run.py itself and of the web server (gunicorn and its worker).

    Read from /proc at the moment /login/ answers: the two branches that run side by
    side until then. The longer one is the start's critical path, which an idle
    machine with two cores would run in about that many seconds.
    """
    tick = os.sysconf("SC_CLK_TCK")

    def own(task: int) -> float:
        fields = Path(f"/proc/{task}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime

    def children(task: int) -> list[int]:
        found: list[int] = []
        for thread in Path(f"/proc/{task}/task").iterdir():
            found += [int(child) for child in (thread / "children").read_text().split()]
        return found

    result = {"run.py": own(pid), "web": 0.0}
    try:
        for child in children(pid):
            if b"gunicorn" in Path(f"/proc/{child}/cmdline").read_bytes():
                result["web"] = own(child) + sum(own(worker) for worker in children(child))
    except OSError:  # a process ended meanwhile: the figure is left at what was read
        pass
    return result


def probe_login(
    url: str, deadline: float, answered: dict[str, float], pid: int, cpu: dict[str, float]
) -> None:
    """Time when GET /login/ first answers 200, to within a few milliseconds.

    One request at a time, each allowed to wait until the deadline: gunicorn listens
    from its first second and a request waits in its queue until the worker answers,
    so the answer comes the moment the page can be served. Refused (not listening
    yet) or not 200: try again 50 ms later.
    """
    while time.perf_counter() < deadline:
        try:
            wait = max(deadline - time.perf_counter(), 0.1)
            with urllib.request.urlopen(url, timeout=wait) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    answered["at"] = time.perf_counter()
                    cpu.update(tree_cpu(pid))
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)


def one_start(env: dict[str, str], port: int, console: Path, timeout: float) -> Start:
    """Start run.py, time login-ready and the banner, stop it with SIGINT."""
    url = f"http://127.0.0.1:{port}/login/"
    cpu_before = children_cpu()
    with console.open("wb") as out:
        began = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 (our own fixed command line)
            [sys.executable, "run.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        answered: dict[str, float] = {}
        branches: dict[str, float] = {}
        deadline = began + timeout
        prober = threading.Thread(
            target=probe_login,
            args=(url, deadline, answered, process.pid, branches),
            daemon=True,
        )
        prober.start()
        try:
            banner = None
            while (banner is None or prober.is_alive()) and time.perf_counter() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"run.py exited with {process.returncode}:\n{tail(console)}")
                if banner is None and BANNER in console.read_text(errors="replace"):
                    banner = time.perf_counter() - began
                time.sleep(0.02)
            if "at" not in answered or banner is None:
                raise RuntimeError(f"not ready within {timeout:.0f} s:\n{tail(console)}")
            login_ready = answered["at"] - began
            stop_began = time.perf_counter()
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=60)
            stopped = time.perf_counter() - stop_began
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    cpu = children_cpu() - cpu_before
    lines = len(console.read_text(errors="replace").splitlines())
    return Start(
        login_ready_s=round(login_ready, 2),
        banner_s=round(banner, 2),
        stop_s=round(stopped, 2),
        cpu_s=round(cpu, 2),
        run_py_cpu_s=round(branches.get("run.py", 0.0), 2),
        web_cpu_s=round(branches.get("web", 0.0), 2),
        exit_code=code,
        console_lines=lines,
    )


def children_cpu() -> float:
    """CPU seconds of every waited-for descendant: run.py reaps its children, gunicorn its worker.

    Unlike the wall-clock times, this hardly moves with the load other programs put on
    the machine: it says what a start costs, the wall clock what it took here.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def bench_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(DATA_DIR=str(data_dir), PORT=str(port), HOST="127.0.0.1", PYTHONUNBUFFERED="1")
    return env


def machine() -> dict[str, object]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load_before": round(os.getloadavg()[0], 2),
    }


def summary(rows: list[dict[str, Start]], facts: dict[str, object]) -> str:
    def med(kind: str, field: str) -> float:
        return round(statistics.median(getattr(r[kind], field) for r in rows), 2)

    lines = [
        f"Machine: {facts['cpu']}, {facts['cores']} cores, Python {facts['python']}, "
        f"{facts['os']}; load average (1 min) {facts['load_before']} before, "
        f"{facts['load_after']} after.",
        "",
        "| round | first start: /login/ 200 | banner | CPU run.py / web | CPU in all | stop "
        "| restart: /login/ 200 | banner | CPU run.py / web | CPU in all | stop |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def cells(start: Start) -> str:
        return (
            f"{start.login_ready_s} s | {start.banner_s} s "
            f"| {start.run_py_cpu_s} / {start.web_cpu_s} s | {start.cpu_s} s | {start.stop_s} s"
        )

    for number, row in enumerate(rows, 1):
        lines.append(f"| {number} | {cells(row['first'])} | {cells(row['restart'])} |")

    def median_cells(kind: str) -> str:
        return (
            f"**{med(kind, 'login_ready_s')} s** | {med(kind, 'banner_s')} s "
            f"| {med(kind, 'run_py_cpu_s')} / {med(kind, 'web_cpu_s')} s "
            f"| {med(kind, 'cpu_s')} s | {med(kind, 'stop_s')} s"
        )

    lines.append(f"| **median** | {median_cells('first')} | {median_cells('restart')} |")
    lines.append("")
    lines.append(
        f"Goals: first start ≤ {GOAL_FIRST_S:.0f} s, restart ≤ {GOAL_RESTART_S:.0f} s "
        f"(to /login/ 200). Console lines of the last first start: "
        f"{rows[-1]['first'].console_lines}, of its restart: {rows[-1]['restart'].console_lines}."
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="first start + restart pairs")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per start")
    args = parser.parse_args()

    # What pip does at install for every package: the first start then pays no compile.
    for target in ("app", "migrations", "config.py", "run.py", "wsgi.py"):
        path = ROOT / target
        if path.is_dir():
            compileall.compile_dir(path, quiet=1)
        else:
            compileall.compile_file(path, quiet=1)

    facts = machine()
    rows: list[dict[str, Start]] = []
    for number in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="monassurance-startup-") as folder:
            data_dir = Path(folder) / "data"
            data_dir.mkdir()
            port = free_port()
            env = bench_env(data_dir, port)
            first = one_start(env, port, Path(folder) / "first.log", args.timeout)
            again = one_start(env, port, Path(folder) / "restart.log", args.timeout)
            if number == args.rounds:
                print("--- console of the last first start", file=sys.stderr)
                print((Path(folder) / "first.log").read_text(errors="replace"), file=sys.stderr)
        rows.append({"first": first, "restart": again})
        print(
            f"round {number}: first {first.login_ready_s} s, restart {again.login_ready_s} s",
            file=sys.stderr,
            flush=True,
        )
    facts["load_after"] = round(os.getloadavg()[0], 2)

    RESULTS.mkdir(exist_ok=True)
    result = {
        "machine": facts,
        "rounds": [{kind: asdict(start) for kind, start in row.items()} for row in rows],
    }
    (RESULTS / "startup.json").write_text(json.dumps(result, indent=2) + "\n")
    print(summary(rows, facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
