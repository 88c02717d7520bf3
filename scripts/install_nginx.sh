#!/usr/bin/env bash
# Install Debian's nginx for `make cluster` and the cluster tests, only if it is missing (safe to
# run again). Our nginx runs from a configuration the launcher writes (bot/cluster.py), never as
# the system service: if installing the package started the service (it listens on :80), it is
# stopped again.
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
# Wait for another apt run (e.g. a parallel job) instead of failing on the lock.
APT_OPTS=(-o DPkg::Lock::Timeout=300)
$SUDO apt-get "${APT_OPTS[@]}" update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_OPTS[@]}" install -y --no-install-recommends nginx
if [ -s /run/nginx.pid ]; then
    $SUDO /usr/sbin/nginx -s quit || true
fi
/usr/sbin/nginx -v
