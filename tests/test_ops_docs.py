"""The README's configuration table lists every variable the code reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["app", "bench", "scripts", "config.py", "run.py", "wsgi.py", "gunicorn.conf.py"]
READ = re.compile(
    r"""(?:env_str|env_bool|env_int|os\.environ\.get|os\.getenv|os\.environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']"""
)
# Set by one of our processes for its child, never by a person: the test command for its
# legs, bench/load.py for the bare app it starts.
INTERNAL = {"MONASSURANCE_TEST_RUN", "BARE_LIST_METADATA"}


def variables_read() -> dict[str, str]:
    found: dict[str, str] = {}
    paths: list[Path] = [ROOT / "tests" / "conftest.py"]
    for source in SOURCES:
        path = ROOT / source
        paths += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    for path in paths:
        if not path.exists():
            continue
        for name in READ.findall(path.read_text()):
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_every_environment_variable_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") :]
    table = table[: table.index("\n## ", 1)]
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", table, re.M))
    documented |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`, `[A-Z]", table))
    read = variables_read()
    missing = {name: where for name, where in read.items() if name not in documented | INTERNAL}
    assert not missing, f"add these to the README's configuration table: {missing}"
    # The ones the issue names explicitly, whichever module reads them.
    for name in ("DATABASE_URL", "REDIS_URL", "STORAGE_URL", "SECRET_KEY", "PORT", "LOG_LEVEL"):
        assert name in documented
