#!/usr/bin/env bash
# Validates dashboards/*.json against @grafana/schema (pinned in package.json): installs the
# pinned npm packages into tests/dashboards/node_modules (not in git) when missing, then runs
# validate.mjs. SCHEMA_CACHE_DIR keeps the generated JSON schemas between runs.
#   run_schema.sh [SCHEMA_CACHE_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
command -v node >/dev/null || { echo "node is not installed" >&2; exit 1; }
if [ ! -d node_modules/@grafana/schema ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
exec node validate.mjs "$here/../../dashboards" "${1:-}"
