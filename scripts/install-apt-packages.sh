#!/usr/bin/env bash
# Install the missing Debian packages of the named lists:
#   runtime -> scripts/apt-packages.txt       (what MonAssurance needs to run)
#   test    -> scripts/apt-packages-test.txt  (what the tests need beyond that)
# No argument: both. apt-get runs only when something is missing, so a prepared
# machine pays nothing. Not root and something missing: names the packages and the
# command to install them, and exits 1.
set -euo pipefail
HERE="$(dirname "${BASH_SOURCE[0]}")"

lists=()
for name in "${@:-runtime test}"; do
    for part in $name; do
        case "$part" in
            runtime) lists+=("$HERE/apt-packages.txt") ;;
            test) lists+=("$HERE/apt-packages-test.txt") ;;
            *) echo "unknown package list: $part (runtime or test)" >&2; exit 2 ;;
        esac
    done
done

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "Not a Debian-like system: install the equivalents of ${lists[*]} yourself." >&2
    exit 0
fi

wanted=0
missing=()
for list in "${lists[@]}"; do
    while read -r line; do
        package="${line%%#*}"
        package="${package//[[:space:]]/}"
        [ -n "$package" ] || continue
        wanted=$((wanted + 1))
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$package")
        fi
    done <"$list"
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "Debian packages: all $wanted present."
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
