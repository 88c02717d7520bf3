#!/usr/bin/env bash
# Tools the test suite needs beyond the venv: Debian's Chromium for the widget tests and the
# widget's npm packages; Debian's nginx for the cluster tests. Idempotent, so `make test` can
# call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/install_browser.sh ]; then
  bash scripts/install_browser.sh
fi
bash scripts/install_nginx.sh
