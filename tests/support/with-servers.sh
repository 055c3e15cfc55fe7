#!/usr/bin/env bash
# Runs a command with real PostgreSQL 15 (pg_stat_statements), Redis, Alertmanager and
# Prometheus on loopback, and stops exactly what it started when the command ends, even when
# it fails or is interrupted. The command sees where they are through these variables:
#   VIGIL_TEST_PG_PORT, VIGIL_TEST_PG_SOCKET_DIR     (user postgres, trust auth)
#   VIGIL_TEST_REDIS_PORT
#   VIGIL_TEST_ALERTMANAGER_URL
#   VIGIL_TEST_PROMETHEUS_URL, VIGIL_TEST_PROMETHEUS_TARGETS  (a file_sd file it re-reads every 1s)
#   VIGIL_TEST_SERVERS_DIR                           (their state and logs)
# Usage: with-servers.sh COMMAND [ARGS...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d /tmp/vigil-servers.XXXXXX)
chmod 755 "$root"
kinds=(postgres redis alertmanager prometheus)

cleanup() {
  local rc=$?
  for k in "${kinds[@]}"; do "$here/servers.sh" stop "$k" "$root/$k" || true; done
  if [ $rc -ne 0 ] && [ -z "${VIGIL_KEEP_SERVER_LOGS:-}" ]; then
    for f in "$root"/*/*.log; do
      [ -f "$f" ] && { echo "--- last lines of $f" >&2; tail -n 15 "$f" >&2; }
    done
  fi
  rm -rf "$root"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for k in "${kinds[@]}"; do
  read -r port _pid < <("$here/servers.sh" start "$k" "$root/$k")
  case $k in
    postgres) export VIGIL_TEST_PG_PORT=$port VIGIL_TEST_PG_SOCKET_DIR=$root/postgres ;;
    redis) export VIGIL_TEST_REDIS_PORT=$port ;;
    alertmanager) export VIGIL_TEST_ALERTMANAGER_URL=http://127.0.0.1:$port ;;
    prometheus) export VIGIL_TEST_PROMETHEUS_URL=http://127.0.0.1:$port \
                       VIGIL_TEST_PROMETHEUS_TARGETS=$root/prometheus/targets.json ;;
  esac
done
export VIGIL_TEST_SERVERS_DIR=$root
echo "with-servers: postgres :$VIGIL_TEST_PG_PORT, redis :$VIGIL_TEST_REDIS_PORT," \
  "alertmanager $VIGIL_TEST_ALERTMANAGER_URL, prometheus $VIGIL_TEST_PROMETHEUS_URL" >&2
"$@"
