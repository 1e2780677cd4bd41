#!/usr/bin/env bash
# The Debian packages Boundary needs, installed if missing. Used by `make run` with
# "run", by `make test` (and `make venv`) with "test", and by .ci/run with "ci".
#
#   scripts/system-packages.sh run    psycopg2's build (libpq-dev, gcc, Python headers)
#   scripts/system-packages.sh test   the same, Chromium and poppler-utils for the
#                                     browser tests,
#                                     Pango, HarfBuzz and a font for PDF exports,
#                                     redis-server (integration tests start their own),
#                                     openssl (the tests' own timestamp authority)
#   scripts/system-packages.sh ci     the same, plus PostgreSQL, make and venv
#   scripts/system-packages.sh bench  psycopg2's build and wrk (make bench's load generator)
#
# As root, installs what is missing with apt-get. Otherwise, if anything is missing,
# prints the one command to run and exits 1. Without dpkg (not Debian), says what is
# needed and carries on.
set -euo pipefail

run_packages=(libpq-dev gcc python3.11-dev)
test_packages=(
    "${run_packages[@]}"
    chromium poppler-utils
    fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
    redis-server openssl
)
case "${1:-}" in
run) packages=("${run_packages[@]}") ;;
test) packages=("${test_packages[@]}") ;;
ci) packages=("${test_packages[@]}" postgresql make python3.11-venv) ;;
bench) packages=("${run_packages[@]}" wrk) ;;
*)
    echo "usage: $0 run|test|ci|bench" >&2
    exit 2
    ;;
esac

if ! command -v dpkg >/dev/null; then
    echo "Not a Debian system: make sure these (or their equivalents) are installed: ${packages[*]}" >&2
    exit 0
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done
((${#missing[@]})) || exit 0

if [[ $(id -u) != 0 ]]; then
    echo "Missing Debian packages. Install them, then run make again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "Installing missing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q </dev/null
apt-get install -y -q "${missing[@]}" </dev/null
