#!/usr/bin/env bash
# The native demo as CI runs it: scripts/demo.sh on this build's binaries with a short timeline
# (an incident: Redis frozen while a session waits on a row lock, then recovery), then
# check_demo_run.py asserts that at least three distinct shipped alerts reached Alertmanager
# firing and later resolved, and that nothing the demo started is still running.
#   run_demo.sh REPO BUILD_DIR
set -euo pipefail
repo=$1 build=$2
record=$(mktemp -d /tmp/vigil-demo-test.XXXXXX)
trap 'rm -rf "$record"' EXIT
"$repo/scripts/demo.sh" --build-dir "$build" --record "$record" \
  --scenarios steady:10,redis-freeze+lock-wait:120,recovery:40
python3 "$repo/tests/demo/check_demo_run.py" "$record" "$repo/rules/shipped"
