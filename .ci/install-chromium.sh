#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for tests/test_view_browser.py, only when none is there.
# Non-interactive; safe to call more than once. Called from .ci/run.
set -euo pipefail

have_chromium() {
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}

if have_chromium; then
    echo "install-chromium: chromium found, nothing to install"
    exit 0
fi

. "$(dirname "$0")/apt.sh"
apt_install install-chromium chromium fonts-dejavu-core || { [ $? -eq 2 ] && { echo "install-chromium: the browser tests will skip" >&2; exit 0; }; exit 1; }
if have_chromium; then
    echo "install-chromium: installed: $(command -v chromium || command -v chromium-browser)"
else
    echo "install-chromium: chromium installed but not found on PATH" >&2
    exit 1
fi
