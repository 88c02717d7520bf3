#!/usr/bin/env bash
# Install what the browser tests need, only if it is missing (safe to run again):
#   * Debian's Chromium (Playwright's own browser download does not work on our machines);
#   * the widget's npm packages (socket.io-client, axe-core) into bot/web/node_modules.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    # Wait for another apt run (e.g. a parallel job) instead of failing on the lock.
    APT_OPTS=(-o DPkg::Lock::Timeout=300)
    $SUDO apt-get "${APT_OPTS[@]}" update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_OPTS[@]}" install -y --no-install-recommends \
        chromium fonts-dejavu-core
fi
/usr/bin/chromium --version 2>/dev/null  # its wrapper script prints a harmless shell warning

if [ ! -d "$ROOT/bot/web/node_modules" ]; then
    (cd "$ROOT/bot/web" && npm ci --no-audit --no-fund)
fi
