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

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo -n"
    else
        echo "install-chromium: not root and no sudo; skipping (the browser tests will skip)" >&2
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-chromium: installing Debian's chromium"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
if have_chromium; then
    echo "install-chromium: installed: $(command -v chromium || command -v chromium-browser)"
else
    echo "install-chromium: chromium installed but not found on PATH" >&2
    exit 1
fi
