#!/usr/bin/env bash
# Preseed debconf so the gridengine-* packages install unattended on a fresh
# machine: this host is the master, the cell is 'default', and the packages
# configure it (setup.sh runs this before apt-get install; idempotent).
set -euo pipefail
command -v debconf-set-selections >/dev/null || exit 0
host=$(hostname -s)
{
  for pkg in gridengine-common gridengine-client gridengine-master gridengine-exec; do
    echo "$pkg shared/gridenginemaster string $host"
    echo "$pkg shared/gridenginecell string default"
    echo "$pkg shared/gridengineconfig boolean true"
  done
} | debconf-set-selections
