#!/usr/bin/env bash
# Install the missing Debian packages of the named groups:
#   runtime -> scripts/apt-packages.txt         (what MonAssurance needs to run), plus
#              scripts/apt-packages-pdfkit.txt  when PDF_ENGINE=pdfkit selects wkhtmltopdf
#              (and WKHTMLTOPDF_PATH does not name a binary of your own)
#   pdfkit  -> scripts/apt-packages-pdfkit.txt  (the second PDF engine, ~30 Qt/WebKit packages)
#   test    -> scripts/apt-packages-test.txt    (what the tests need beyond that), plus
#              scripts/apt-packages-pdfkit.txt  (the pdfkit engine's tests run wkhtmltopdf)
# No argument: runtime and test. apt-get runs only when something is missing, so a
# prepared machine pays nothing; its output goes to a log, shown only if it fails.
# Not root and something missing: names the packages and the command to install
# them, and exits 1.
#   --print GROUP...: list the packages of the groups, one a line, and do nothing else.
set -euo pipefail
HERE="$(dirname "${BASH_SOURCE[0]}")"

print_only=""
if [ "${1:-}" = "--print" ]; then
    print_only=1
    shift
fi

# PDF_ENGINE as the app reads it (app/services/rendering/pdf.py): trimmed, any case,
# "pdfkit" or "wkhtmltopdf". A WKHTMLTOPDF_PATH names a binary of the operator's own.
engine="$(printf '%s' "${PDF_ENGINE:-}" | tr '[:upper:]' '[:lower:]' | tr -d '[:space:]')"
wants_wkhtmltopdf=""
case "$engine" in
    pdfkit | wkhtmltopdf) [ -n "${WKHTMLTOPDF_PATH:-}" ] || wants_wkhtmltopdf=1 ;;
esac

lists=()
for name in "${@:-runtime test}"; do
    for part in $name; do
        case "$part" in
            runtime)
                lists+=("$HERE/apt-packages.txt")
                if [ -n "$wants_wkhtmltopdf" ]; then
                    lists+=("$HERE/apt-packages-pdfkit.txt")
                fi
                ;;
            pdfkit) lists+=("$HERE/apt-packages-pdfkit.txt") ;;
            test) lists+=("$HERE/apt-packages-test.txt" "$HERE/apt-packages-pdfkit.txt") ;;
            *) echo "unknown package group: $part (runtime, pdfkit or test)" >&2; exit 2 ;;
        esac
    done
done

packages=()
for list in "${lists[@]}"; do
    while read -r line; do
        package="${line%%#*}"
        package="${package//[[:space:]]/}"
        [ -n "$package" ] || continue
        case " ${packages[*]:-} " in
            *" $package "*) ;;
            *) packages+=("$package") ;;
        esac
    done <"$list"
done

if [ -n "$print_only" ]; then
    printf '%s\n' "${packages[@]}"
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "Not a Debian-like system: install the equivalents of ${packages[*]} yourself." >&2
    exit 0
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
# One line while apt works (dpkg prints a dozen lines per package, even with -qq).
echo "Installing Debian packages: ${missing[*]}…"
log="$(mktemp "${TMPDIR:-/tmp}/monassurance-apt.XXXXXX")"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq >"$log" 2>&1 \
    && apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" \
        >>"$log" 2>&1; then
    rm -f "$log"
    exit 0
fi
echo "apt-get failed; its output ($log):" >&2
tail -n 40 "$log" >&2
exit 1
