#!/usr/bin/env bash
# Install what director-jobs needs on Debian 12 (as root): system packages, a virtualenv in
# .venv, and the package itself. Re-running it is harmless.
# Usage: scripts/setup.sh [--example | --test]   (--example adds icinga2 for the example pipeline)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libsystemd-dev pkg-config gcc python3-venv python3-dev)
if [ "${1:-}" = "--example" ]; then
    packages+=(icinga2)  # `icinga2 daemon -C` validates what the example's deploy-config renders
fi
if [ "${1:-}" = "--test" ]; then
    # The tests start their own PostgreSQL server (as the postgres user).
    # icinga2: validation and REST API tests (kept out of /etc by the tests themselves).
    packages+=(postgresql-15 postgresql-contrib tzdata procps util-linux icinga2 systemd man-db openssl)
    # The web page's tests drive Debian's Chromium through its chromedriver (Selenium).
    packages+=(chromium chromium-driver)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: need root to install: ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Wait for another apt (unattended-upgrades on a fresh machine) instead of failing.
    lock=(-o DPkg::Lock::Timeout=300)
    apt-get "${lock[@]}" update -qq
    apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
extra=""
[ "${1:-}" = "--test" ] && extra="[test]"
log=$(mktemp)
# pip is chatty (mirror warnings, setuptools notices): keep its output for failures only.
if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e ".${extra}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
fi
rm -f "$log"
.venv/bin/director --version
