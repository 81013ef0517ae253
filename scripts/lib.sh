# shellcheck shell=bash
# Sourced by run.sh, test.sh and .ci/run: find Python >= 3.11, create .venv once,
# and pip-install a requirements file only when it (or a file it includes) changed.
#
# Every wheel we pin is a binary wheel (psycopg[binary] carries its own libpq), so
# Python with venv and pip is the only thing a machine needs from its OS.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MONASSURANCE_VENV:-$ROOT/.venv}"
MIN_PYTHON="3.11"

say() { printf '%s\n' "$*" >&2; }

is_root() { [ "$(id -u)" = "0" ]; }

python_is_recent() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3 python; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if python_is_recent "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

explain_missing_python() {
    say "MonAssurance needs Python $MIN_PYTHON or newer, with its venv and pip modules."
    say "Install it, then run this command again:"
    say "  Debian 12 / Ubuntu 24.04:  sudo apt-get install python3 python3-venv"
    say "  Ubuntu 22.04:              sudo apt-get install python3.11 python3.11-venv"
    say "  Fedora / RHEL 9:           sudo dnf install python3.11"
    say "  macOS (Homebrew):          brew install python@3.11"
    say "Or point PYTHON at an interpreter: PYTHON=/path/to/python3.11 $0"
}

# Debian and Ubuntu split venv/ensurepip out of the interpreter package.
ensure_venv_module() {
    local python="$1" version
    if "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        return 0
    fi
    version="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    if is_root && command -v apt-get >/dev/null 2>&1; then
        say "Python $version has no venv module: installing python$version-venv with apt-get."
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "python$version-venv" || apt-get install -y -qq python3-venv
        "$python" -c 'import ensurepip, venv' >/dev/null 2>&1 && return 0
    fi
    say "Python $version ($python) lacks the venv module."
    say "  Debian/Ubuntu: sudo apt-get install python$version-venv"
    say "  Other systems: install your distribution's python venv/pip package."
    return 1
}

ensure_virtualenv() {
    local python
    if [ -x "$VENV/bin/python" ] && python_is_recent "$VENV/bin/python" \
        && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        return 0
    fi
    if ! python="$(find_python)"; then
        explain_missing_python
        return 1
    fi
    ensure_venv_module "$python" || return 1
    if [ -e "$VENV" ]; then
        say "Recreating $VENV (it is incomplete or its Python is older than $MIN_PYTHON)."
        rm -rf "$VENV"
    fi
    say "Creating $VENV with $python ($("$python" --version 2>&1))."
    "$python" -m venv "$VENV"
}

# Hash of a requirements file and of every file it pulls in with -r, plus the
# interpreter version: a change to any of them means pip has work to do.
requirements_hash() {
    "$VENV/bin/python" - "$1" <<'PY'
import hashlib
import sys
from pathlib import Path

digest = hashlib.sha256(sys.version.encode())
seen = set()


def feed(path: Path) -> None:
    path = path.resolve()
    if path in seen:
        return
    seen.add(path)
    text = path.read_text()
    digest.update(str(path.name).encode() + b"\0" + text.encode())
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("-r", "--requirement"):
            feed(path.parent / parts[1])


feed(Path(sys.argv[1]))
print(digest.hexdigest())
PY
}

# ensure_venv FILE: the venv exists and FILE's pins are installed in it.
ensure_venv() {
    local requirements="$ROOT/$1" stamp wanted
    ensure_virtualenv || return 1
    stamp="$VENV/.installed-$(basename "$requirements").sha256"
    wanted="$(requirements_hash "$requirements")" || return 1
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        compile_translations
        return 0
    fi
    say "Installing Python packages from $1 into $VENV (the first time takes a minute or two)."
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$requirements" \
        || return 1
    printf '%s\n' "$wanted" >"$stamp"
    compile_translations
}

# The .mo catalogues are built from the committed .po files when missing or stale.
compile_translations() {
    local folder="$ROOT/app/translations" po mo stale=""
    [ -d "$folder" ] || return 0
    while IFS= read -r po; do
        mo="${po%.po}.mo"
        if [ ! -f "$mo" ] || [ "$po" -nt "$mo" ]; then
            stale=1
        fi
    done < <(find "$folder" -name '*.po' -path '*/LC_MESSAGES/*')
    [ -n "$stale" ] || return 0
    "$VENV/bin/pybabel" --quiet compile -d "$folder" >&2 || say "warning: pybabel compile failed"
}
