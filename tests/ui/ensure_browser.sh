#!/usr/bin/env bash
# Make sure the screenshot tests (tests/ui) have a Chromium to drive: $CHROMIUM_PATH, the system
# Chromium, or Playwright's own. When none is found: as root on a Debian-like system, install
# the `chromium` package; otherwise print the one command to run and fail.
# Usage: tests/ui/ensure_browser.sh [PYTHON]   (PYTHON: the venv's python, default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${1:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3

if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] && exit 0
  echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file" >&2
  exit 1
fi
for browser in /usr/bin/chromium /usr/bin/chromium-browser "$(command -v chromium || true)"; do
  [ -n "$browser" ] && [ -x "$browser" ] && exit 0
done
if "$PY" - 2>/dev/null <<'PYEOF'
import os, sys
from playwright.sync_api import sync_playwright
with sync_playwright() as p:
    sys.exit(0 if os.path.exists(p.chromium.executable_path) else 1)
PYEOF
then
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "No Chromium found: installing the chromium package for the screenshot tests (tests/ui)."
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  exit 0
fi
echo "The screenshot tests (tests/ui) need Chromium. Install it with:" >&2
if command -v apt-get >/dev/null; then
  echo "    sudo apt-get install -y chromium" >&2
else
  echo "    $PY -m playwright install --with-deps chromium" >&2
fi
exit 1
