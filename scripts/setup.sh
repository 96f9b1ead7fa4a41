#!/usr/bin/env bash
# Everything stackshift needs on a fresh machine with Node and npm: npm packages, the build, and the real
# Prometheus + promtool the rehearsal and the tests run against. Idempotent and quiet when nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.stackshift-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  touch "$stamp"
fi
bash scripts/install-prometheus.sh
echo "setup: build" >&2
npx --no-install tsc -p tsconfig.json >&2
chmod +x dist/src/cli/main.js
