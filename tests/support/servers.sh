#!/usr/bin/env bash
# Starts and stops the real servers tests run against, on 127.0.0.1 and free ports.
#
#   servers.sh start KIND DIR      start one server with its state in DIR; prints "PORT PID"
#   servers.sh stop KIND DIR       stop the server started in DIR (by the PID it recorded)
#   servers.sh free-port           print a free loopback port
# VIGIL_PORT=N makes start use port N (to restart a server where it was); VIGIL_PG_OPTS adds
# PostgreSQL server options (e.g. "-c pg_stat_statements.max=100").
#
# KIND is postgres, redis, alertmanager or prometheus. Every server records its PID in
# DIR/pid; stop signals only that PID. Nothing here touches a server it did not start.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

free_port() {
  if [ -n "${VIGIL_PORT:-}" ]; then echo "$VIGIL_PORT"; return; fi
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() {  # URL TRIES
  for _ in $(seq "$2"); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "servers.sh: $1 did not become ready" >&2
  return 1
}

start_postgres() {
  local dir=$1 port
  port=$(free_port)
  mkdir -p "$dir"
  chown postgres "$dir" 2>/dev/null || true
  chmod 755 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.max=10000 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c track_io_timing=on ${VIGIL_PG_OPTS:-}" \
    start >/dev/null || { cat "$dir/postgres.log" >&2; return 1; }
  head -1 "$dir/data/postmaster.pid" >"$dir/pid"
  echo "$port" >"$dir/port"
  # A standby (DIR/data from pg_basebackup -R) is read-only: it has its primary's extensions.
  if [ ! -f "$dir/data/standby.signal" ]; then
    PGOPTIONS='-c client_min_messages=warning' psql -h 127.0.0.1 -p "$port" -U postgres \
      -d postgres -qAt -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
  fi
  echo "$port $(cat "$dir/pid")"
}

start_redis() {
  local dir=$1 port
  port=$(free_port)
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$dir" \
    --daemonize yes --pidfile "$dir/pid" --logfile "$dir/redis.log" --latency-tracking yes
  for _ in $(seq 50); do
    [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
  done
  echo "$port" >"$dir/port"
  echo "$port $(cat "$dir/pid")"
}

start_alertmanager() {
  local dir=$1 port
  port=$(free_port)
  mkdir -p "$dir/data"
  cat >"$dir/am.yml" <<YML
route: {receiver: "null", group_wait: 1s, group_interval: 1s, repeat_interval: 1h}
receivers: [{name: "null"}]
YML
  prometheus-alertmanager --config.file="$dir/am.yml" --storage.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" --cluster.listen-address="" \
    >"$dir/alertmanager.log" 2>&1 &
  echo $! >"$dir/pid"
  echo "$port" >"$dir/port"
  wait_http "http://127.0.0.1:$port/-/ready" 100
  echo "$port $(cat "$dir/pid")"
}

start_prometheus() {
  local dir=$1 port
  port=$(free_port)
  mkdir -p "$dir/data"
  [ -f "$dir/targets.json" ] || echo '[]' >"$dir/targets.json"
  [ -f "$dir/prometheus.yml" ] || cat >"$dir/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: tests
    file_sd_configs: [{files: ["$dir/targets.json"], refresh_interval: 1s}]
YML
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" --rules.alert.resend-delay=1s \
    --web.enable-lifecycle --web.enable-remote-write-receiver \
    --storage.tsdb.retention.time=100y >"$dir/prometheus.log" 2>&1 &
  echo $! >"$dir/pid"
  echo "$port" >"$dir/port"
  wait_http "http://127.0.0.1:$port/-/ready" 200
  echo "$port $(cat "$dir/pid")"
}

stop_server() {
  local kind=$1 dir=$2 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  if [ "$kind" = postgres ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pid"
}

case "${1:-}" in
  start) "start_$2" "$3" ;;
  stop) stop_server "$2" "$3" ;;
  free-port) free_port ;;
  *) echo "usage: servers.sh start|stop KIND DIR | free-port" >&2; exit 2 ;;
esac
