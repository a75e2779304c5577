#!/usr/bin/env bash
# Install a PostgreSQL server for tests/test_postgres.py, only when none is there.
# Non-interactive; safe to call more than once. Called from .ci/run.
set -euo pipefail

have_pg_ctl() {
    command -v pg_ctl >/dev/null 2>&1 && return 0
    ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && return 0
    [ -x /usr/local/bin/pg_ctl ] && return 0
    return 1
}

if have_pg_ctl; then
    echo "install-postgres: pg_ctl found, nothing to install"
    exit 0
fi

. "$(dirname "$0")/apt.sh"
apt_install install-postgres postgresql || { [ $? -eq 2 ] && { echo "install-postgres: tests/test_postgres.py will skip" >&2; exit 0; }; exit 1; }
# Debian's package may start a cluster service; the tests run their own throw-away cluster.
if have_pg_ctl; then
    echo "install-postgres: installed: $(ls -d /usr/lib/postgresql/*/bin | tail -1)"
else
    echo "install-postgres: postgresql installed but pg_ctl not found" >&2
    exit 1
fi
