#!/usr/bin/env bash
# Brings up the demo on this machine (Debian 12, as root): builds vigil and runs it on
# deploy/vigil.yml, watching itself and any PostgreSQL, Redis and shop processes, until Ctrl-C.
# (The full stack with shop, load scenarios and alerts firing is being built; see docs.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target vigil
echo "vigil: http://127.0.0.1:9633/metrics  (Ctrl-C stops it)"
exec build/release/agent/app/vigil --config.file=deploy/vigil.yml "$@"
