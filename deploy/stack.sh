#!/usr/bin/env bash
# The demo stack on this machine, from Debian packages, on 127.0.0.1 and free ports:
# PostgreSQL 15 (pg_stat_statements, role vigil with pg_monitor), Redis, shop (migrated and
# seeded), the on-call receivers (deploy/receivers.py: pager and Slack webhooks, SMTP sink),
# Alertmanager, vigil and Prometheus (scraping vigil and shop every 2 s). Shared by
# scripts/demo.sh and the dashboard tests (tests/dashboards/).
#
#   deploy/stack.sh start DIR   start everything with its state and logs under DIR (created);
#                               writes DIR/stack.env (addresses, sourced by callers)
#   deploy/stack.sh stop DIR    stop what start recorded in DIR/*/pid, newest first, by PID
#
# The configs are the files docker-compose.yml uses: deploy/vigil.yml (filled in from the
# environment), deploy/prometheus.yml (+ DIR/prometheus/targets/*.json), deploy/alertmanager.yml
# (its `receivers:9095` and `receivers:2525` pointed at the local receivers) and
# deploy/postgres/init.sql.
# Environment (all optional):
#   VIGIL_BUILD_DIR            where vigil, shop and shop-load are built (default build/release)
#   VIGIL_COLLECT_INTERVAL     vigil's collector interval (default 2s)
#   VIGIL_EVALUATION_INTERVAL  default rule group interval (default 2s)
#   VIGIL_STATEMENTS_INTERVAL  pg_stat_statements interval (default 4s)
#   VIGIL_RULES_DIR            rule files (default rules/shipped)
#   SHOP_SEED_ARGS             arguments of `shop seed` (default: its defaults, ~3 s)
#   SHOP_SERVE_ARGS            extra arguments of `shop serve`
#   STACK_COMPONENTS           subset to start, in this order (default: all)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BUILD=${VIGIL_BUILD_DIR:-$repo/build/release}
ALL=(postgres redis shop receivers alertmanager vigil prometheus)
# Debian's python3, where python3-aiosmtpd is installed (another python3 may come first on PATH)
PYTHON_DEBIAN=${PYTHON_DEBIAN:-/usr/bin/python3}

log() { printf 'stack: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for() {  # DESCRIPTION SECONDS COMMAND...
  local what=$1 secs=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

http_ok() { curl -fsS -m 2 -o /dev/null "$1"; }

# A process started in the background, its PID recorded in DIR/NAME/pid.
spawn() {  # NAME COMMAND...
  local name=$1
  shift
  mkdir -p "$dir/$name"
  "$@" >"$dir/$name/$name.log" 2>&1 &
  echo $! >"$dir/$name/pid"
  echo "$name" >>"$dir/started"
}

fail_start() {  # NAME
  log "$1 did not start; last lines of its log:"
  tail -n 20 "$dir/$1/$1.log" >&2 2>/dev/null || true
  exit 1
}

start_postgres() {
  PG_PORT=$(free_port)
  local d=$dir/postgres
  mkdir -p "$d"
  chown postgres "$d" 2>/dev/null || true
  chmod 755 "$dir" "$d"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$d/data" -U postgres -A trust --no-sync \
    >"$d/initdb.log" 2>&1 || { cat "$d/initdb.log" >&2; exit 1; }
  # cluster_name shows in every backend's process title: vigil's process group matches it.
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $d -c cluster_name=vigil-demo-$PG_PORT -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c track_io_timing=on -c max_connections=100" \
    start >/dev/null || fail_start postgres
  head -1 "$d/data/postmaster.pid" >"$d/pid"
  echo postgres >>"$dir/started"
  local psql=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qAt -v ON_ERROR_STOP=1)
  PGOPTIONS='-c client_min_messages=warning' "${psql[@]}" -d postgres -c "CREATE DATABASE shop" >/dev/null
  PGOPTIONS='-c client_min_messages=warning' "${psql[@]}" -d shop -f "$here/postgres/init.sql" >/dev/null
  PG_PROCESS="vigil-demo-$PG_PORT"
}

start_redis() {
  REDIS_PORT=$(free_port)
  mkdir -p "$dir/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$dir/redis" \
    --daemonize yes --pidfile "$dir/redis/pid" --logfile "$dir/redis/redis.log" \
    --latency-tracking yes --slowlog-log-slower-than 10000 >/dev/null
  echo redis >>"$dir/started"
  wait_for redis 10 sh -c "[ \"\$(redis-cli -h 127.0.0.1 -p $REDIS_PORT ping)\" = PONG ]" || fail_start redis
  REDIS_PROCESS="^redis-server 127\\.0\\.0\\.1:$REDIS_PORT"
}

start_shop() {
  local dsn="host=127.0.0.1 port=$PG_PORT dbname=shop user=postgres"
  mkdir -p "$dir/shop"
  local t0=$SECONDS
  # shellcheck disable=SC2086
  "$BUILD/service/shop" seed --pg-dsn "$dsn" ${SHOP_SEED_ARGS:-} >"$dir/shop/seed.log" 2>&1 ||
    { tail -n 20 "$dir/shop/seed.log" >&2; die "shop seed failed"; }
  log "shop seeded in $((SECONDS - t0)) s"
  # The port is picked just before shop binds it: picked before the seconds of seeding, it was
  # free to be taken meanwhile (seen in CI: "cannot listen", another client's ephemeral port).
  SHOP_PORT=$(free_port)
  # shellcheck disable=SC2086
  spawn shop "$BUILD/service/shop" serve --listen "127.0.0.1:$SHOP_PORT" --pg-dsn "$dsn" \
    --redis "127.0.0.1:$REDIS_PORT" --enable-admin --enable-fault-injection --drain-timeout-ms 500 ${SHOP_SERVE_ARGS:-}
  wait_for shop 30 http_ok "http://127.0.0.1:$SHOP_PORT/readyz" || fail_start shop
  SHOP_PROCESS="shop serve --listen 127\\.0\\.0\\.1:$SHOP_PORT"
}

start_receivers() {
  RECEIVERS_PORT=$(free_port)
  SMTP_PORT=$(free_port)
  spawn receivers "$PYTHON_DEBIAN" "$here/receivers.py" --http-port "$RECEIVERS_PORT" \
    --smtp-port "$SMTP_PORT" --log "$dir/receivers/notifications.jsonl"
  wait_for receivers 10 http_ok "http://127.0.0.1:$RECEIVERS_PORT/-/ready" || fail_start receivers
}

start_alertmanager() {
  AM_PORT=$(free_port)
  local d=$dir/alertmanager
  mkdir -p "$d/data"
  # the shipped routes and timings; only the receivers' addresses change (without receivers
  # started, notifications fail and Alertmanager logs it)
  sed -e "s/receivers:9095/127.0.0.1:${RECEIVERS_PORT:-9}/g" -e "s/receivers:2525/127.0.0.1:${SMTP_PORT:-9}/g" \
    "$here/alertmanager.yml" >"$d/alertmanager.yml"
  cp "$here/alertmanager.tmpl" "$d/"
  spawn alertmanager prometheus-alertmanager --config.file="$d/alertmanager.yml" \
    --storage.path="$dir/alertmanager/data" --web.listen-address="127.0.0.1:$AM_PORT" \
    --cluster.listen-address=""
  wait_for alertmanager 30 http_ok "http://127.0.0.1:$AM_PORT/-/ready" || fail_start alertmanager
}

start_vigil() {
  VIGIL_PORT=$(free_port)
  export VIGIL_LISTEN=127.0.0.1:$VIGIL_PORT
  export VIGIL_COLLECT_INTERVAL=${VIGIL_COLLECT_INTERVAL:-2s}
  export VIGIL_EVALUATION_INTERVAL=${VIGIL_EVALUATION_INTERVAL:-2s}
  export VIGIL_STATEMENTS_INTERVAL=${VIGIL_STATEMENTS_INTERVAL:-4s}
  export VIGIL_RULES_DIR=${VIGIL_RULES_DIR:-$repo/rules/shipped}
  export PG_HOST=127.0.0.1 PG_PORT PG_PASSWORD=vigil PG_PROCESS
  export REDIS_ADDR=127.0.0.1:$REDIS_PORT REDIS_PROCESS
  export SHOP_ADDR=127.0.0.1:$SHOP_PORT SHOP_PROCESS
  export ALERTMANAGER_URL=http://127.0.0.1:$AM_PORT
  "$BUILD/agent/app/vigil" check config "$here/vigil.yml" >&2 || die "vigil check config failed"
  spawn vigil "$BUILD/agent/app/vigil" --config.file="$here/vigil.yml" --web.enable-lifecycle
  wait_for vigil 30 http_ok "http://127.0.0.1:$VIGIL_PORT/-/ready" || fail_start vigil
}

start_prometheus() {
  PROM_PORT=$(free_port)
  local d=$dir/prometheus
  mkdir -p "$d/data" "$d/targets"
  cp "$here/prometheus.yml" "$d/prometheus.yml"  # targets/*.json and rules/ resolve next to it
  printf '[{"targets": ["127.0.0.1:%s"]}]\n' "$VIGIL_PORT" >"$d/targets/vigil.json"
  printf '[{"targets": ["127.0.0.1:%s"]}]\n' "$SHOP_PORT" >"$d/targets/shop.json"
  if [ -n "${AM_PORT:-}" ]; then
    printf '[{"targets": ["127.0.0.1:%s"]}]\n' "$AM_PORT" >"$d/targets/alertmanager.json"
  else
    echo '[]' >"$d/targets/alertmanager.json"
  fi
  mkdir -p "$d/rules"
  cp "$repo/rules/shipped/vigil.yml" "$d/rules/vigil.yml"
  spawn prometheus prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --rules.alert.resend-delay=1s \
    --storage.tsdb.retention.time=1d
  wait_for prometheus 30 http_ok "http://127.0.0.1:$PROM_PORT/-/ready" || fail_start prometheus
}

write_env() {
  {
    echo "STACK_DIR=$dir"
    echo "PG_PORT=${PG_PORT:-}"
    echo "PG_DSN='host=127.0.0.1 port=${PG_PORT:-} dbname=shop user=postgres'"
    echo "REDIS_PORT=${REDIS_PORT:-}"
    echo "SHOP_ADDR=127.0.0.1:${SHOP_PORT:-}"
    echo "SHOP_URL=http://127.0.0.1:${SHOP_PORT:-}"
    echo "VIGIL_URL=http://127.0.0.1:${VIGIL_PORT:-}"
    echo "PROMETHEUS_URL=http://127.0.0.1:${PROM_PORT:-}"
    echo "ALERTMANAGER_URL=http://127.0.0.1:${AM_PORT:-}"
    echo "RECEIVERS_URL=http://127.0.0.1:${RECEIVERS_PORT:-}"
    echo "SMTP_ADDR=127.0.0.1:${SMTP_PORT:-}"
  } >"$dir/stack.env"
}

start() {
  mkdir -p "$dir"
  [ ! -s "$dir/started" ] || die "$dir already holds a stack; stop it first"
  : >"$dir/started"
  for bin in agent/app/vigil service/shop; do
    [ -x "$BUILD/$bin" ] || die "$BUILD/$bin is missing: build vigil and shop first"
  done
  local comps
  read -r -a comps <<<"${STACK_COMPONENTS:-${ALL[*]}}"
  for c in "${comps[@]}"; do
    local t0=$SECONDS
    "start_$c"
    write_env
    log "$c up ($((SECONDS - t0)) s)"
  done
}

stop_one() {  # NAME
  local name=$1 pidf=$dir/$1/pid pid
  [ -f "$pidf" ] || return 0
  pid=$(cat "$pidf")
  if [ "$name" = postgres ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/postgres/data" -m fast -w -t 10 stop \
      >/dev/null 2>&1 || true
  fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidf"
}

stop() {
  [ -f "$dir/started" ] || return 0
  local names
  mapfile -t names < <(tac "$dir/started")
  # signal all at once (each takes a second or two to shut down), then wait for each in turn
  local n pid
  for n in "${names[@]}"; do
    [ "$n" != postgres ] && [ -f "$dir/$n/pid" ] || continue
    pid=$(cat "$dir/$n/pid")
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  done
  for n in "${names[@]}"; do stop_one "$n"; done
  rm -f "$dir/started"
}

case "${1:-}" in
  start | stop)
    [ $# -eq 2 ] || die "usage: stack.sh start|stop DIR"
    dir=$(mkdir -p "$2" && cd "$2" && pwd)
    "$1"
    ;;
  *) die "usage: stack.sh start|stop DIR" ;;
esac
