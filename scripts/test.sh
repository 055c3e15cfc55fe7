#!/usr/bin/env bash
# The one command that runs every test on a fresh Debian 12 machine:
#   scripts/test.sh [PRESET [CTEST ARGS...]]   (PRESET: dev (default), asan, tsan or release)
# Installs what is missing, builds, starts real PostgreSQL/Redis/Prometheus/Alertmanager on
# loopback ports, runs ctest (unit and integration labels), and stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-dev}
shift || true

bash scripts/install-deps.sh
# ccache hits across clones: paths under the repository are hashed relative to it.
export CCACHE_BASEDIR="$PWD"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
tests/support/with-servers.sh ctest --preset "$preset" -j2 --timeout 600 "$@"
