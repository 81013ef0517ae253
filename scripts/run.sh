#!/usr/bin/env bash
# The README's run command: install missing Debian packages, prepare .venv (once, and again when requirements.txt
# changes), then hand over to run.py, which migrates, seeds and serves on PORT.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The PDF engines' libraries and fonts (apt-get as root; otherwise the exact command).
bash "$ROOT/scripts/install-apt-packages.sh" runtime
ensure_venv requirements.txt
cd "$ROOT"
exec "$VENV/bin/python" run.py "$@"
