#!/usr/bin/env bash
# Install the Debian packages listed in scripts/apt-packages.txt that are missing.
# apt-get runs only when something is missing, so a prepared machine pays nothing.
set -euo pipefail
LIST="$(dirname "${BASH_SOURCE[0]}")/apt-packages.txt"

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "Not a Debian-like system: install the equivalents of $LIST yourself." >&2
    exit 0
fi

missing=()
while read -r line; do
    package="${line%%#*}"
    package="${package//[[:space:]]/}"
    [ -n "$package" ] || continue
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done <"$LIST"

if [ "${#missing[@]}" -eq 0 ]; then
    echo "Debian packages: all $(grep -cvE '^[[:space:]]*(#|$)' "$LIST") present."
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
