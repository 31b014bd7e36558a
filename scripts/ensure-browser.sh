#!/bin/sh
# Make sure a Chromium is available, in the same order as unbinder/browser/launch.py finds one.
# Usage: scripts/ensure-browser.sh VENV
set -u
venv=${1:-.venv}
py="$venv/bin/python"

if found=$("$py" -m unbinder.browser.launch 2>/dev/null); then
    echo "browser: $found"
    exit 0
fi

echo "browser: none found; trying Playwright's download (playwright install chromium)..."
if "$py" -m playwright install chromium >/dev/null 2>&1 && found=$("$py" -m unbinder.browser.launch 2>/dev/null); then
    echo "browser: $found"
    exit 0
fi

if [ -r /etc/debian_version ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "browser: Playwright's download failed; installing Debian's chromium package (apt-get)..."
    if { apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y chromium >/dev/null 2>&1; }; } \
        && found=$("$py" -m unbinder.browser.launch 2>/dev/null); then
        echo "browser: $found"
        exit 0
    fi
fi

cat >&2 <<'MSG'
unbinder: no Chromium could be found or installed.
Install one, then run make again:
  Debian/Ubuntu:  sudo apt-get install chromium
  Fedora:         sudo dnf install chromium
  macOS:          brew install --cask chromium   (or install Google Chrome or Microsoft Edge)
  any system:     .venv/bin/playwright install chromium   (needs internet access)
or point UNBINDER_BROWSER at a Chromium, Chrome or Edge executable.
MSG
exit 3
