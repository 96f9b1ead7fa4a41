#!/usr/bin/env bash
# Installs Debian's prometheus package (prometheus + promtool) when missing. Idempotent; needs root or sudo.
set -euo pipefail
if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-prometheus: not root and no sudo; install the Debian package 'prometheus' yourself" >&2; exit 2
  fi
fi
echo "install-prometheus: installing Debian package 'prometheus' (prometheus + promtool)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends prometheus >&2
# The package may start a system service on machines with an init system; the lab starts its own servers.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  $SUDO systemctl stop prometheus || true
  $SUDO systemctl disable prometheus >/dev/null 2>&1 || true
fi
prometheus --version 2>&1 | head -1 >&2
