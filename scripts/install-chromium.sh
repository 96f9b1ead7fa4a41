#!/usr/bin/env bash
# Installs Debian's chromium-headless-shell when no Chromium is there: the migrate report test renders the
# HTML report in it through playwright-core (console errors, chart points, a screenshot; playwright downloads
# no browser). The paths are the ones test/migrate/browser.ts tries, in its order. Idempotent; needs root or sudo.
set -euo pipefail
for b in /usr/bin/chromium /usr/lib/chromium/chromium-headless-shell /usr/bin/chromium-headless-shell; do
  [ -x "$b" ] && exit 0
done
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-chromium: not root and no sudo; install the Debian package 'chromium-headless-shell' yourself" >&2; exit 2
  fi
fi
echo "install-chromium: installing Debian package 'chromium-headless-shell'" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends chromium-headless-shell >&2
