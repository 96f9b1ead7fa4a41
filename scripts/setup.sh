#!/usr/bin/env bash
# Everything stackshift needs on a fresh machine with Node, npm and Go: npm packages, the build, Debian's
# Prometheus 2.42, and the lab's servers built from their Go modules (scripts/build-servers.sh, cached per user).
# Idempotent and quiet when nothing is to do.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v node >/dev/null 2>&1 || missing+=("Node.js >= 20.18 (https://nodejs.org or Debian's nodejs)")
command -v npm >/dev/null 2>&1 || missing+=("npm (comes with Node.js)")
command -v go >/dev/null 2>&1 || missing+=("Go >= 1.26 (https://go.dev/doc/install): the lab builds Prometheus, Jaeger, VictoriaMetrics, Alertmanager and VictoriaLogs from their Go modules")
if [ ${#missing[@]} -gt 0 ]; then
  for m in "${missing[@]}"; do echo "setup: missing prerequisite: $m" >&2; done
  exit 2
fi
stamp=node_modules/.stackshift-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  touch "$stamp"
fi
bash scripts/install-prometheus.sh
bash scripts/install-chromium.sh
bash scripts/build-servers.sh
echo "setup: build" >&2
npx --no-install tsc -p tsconfig.json >&2
chmod +x dist/src/cli/main.js
