#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests; install it
# if we can (root with apt-get). `playwright install` cannot download here, so Playwright
# drives this Chromium instead. Exit 0 when it runs, 1 (with the reason) when not.
set -u
CHROMIUM=/usr/bin/chromium
runs() { [ -x "$CHROMIUM" ] && "$CHROMIUM" --headless --no-sandbox --version >/dev/null 2>&1; }
runs && exit 0
if [ ! -x "$CHROMIUM" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Chromium from Debian's packages for the browser tests…" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2 || true
fi
runs && exit 0
if [ -x "$CHROMIUM" ]; then
  echo "ERROR: $CHROMIUM is there but does not start ($CHROMIUM --version fails):" >&2
  "$CHROMIUM" --headless --no-sandbox --version >&2 || true
  echo "Reinstall it with apt-get install --reinstall chromium." >&2
else
  echo "ERROR: Browser tests need Debian's Chromium at $CHROMIUM:" \
    "install it with apt-get install chromium" >&2
fi
exit 1
