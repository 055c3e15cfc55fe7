#!/usr/bin/env python3
"""Alert drills: make the shipped alerts (rules/shipped/) fire on a fresh demo stack and time them.

    drills.py list
    drills.py run NAME[,NAME...] [--timeout 1800] [--resolve-timeout 420] [--json FILE] [--dir DIR]

`run` starts a stack (deploy/stack.sh start DIR; stopped in a finally), gives shop a light steady
load, runs the drills phase by phase (drills of one phase run at once; a phase of faults that
take PostgreSQL, Redis or shop down comes after the quiet ones), polls Alertmanager's
/api/v2/alerts and vigil's /api/v1/alerts every 3 s, undoes each fault once its alerts reached
Alertmanager (or its time is up), waits (bounded) for them to resolve, and prints per alert:
the drill, and the seconds from the drill's start until vigil had it pending, until it was at
Alertmanager, and until it was gone again. Everything listens on 127.0.0.1; everything this
script starts is stopped by PID. Needs root (deploy/stack.sh runs PostgreSQL as postgres).
"""
import argparse
import datetime
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "deploy"))
from demo_timeline import read_env  # noqa: E402
from faults import LockWait, RedisFreeze  # noqa: E402

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
BUILD = os.environ.get("VIGIL_BUILD_DIR", os.path.join(REPO, "build", "release"))
POLL = 3.0


def log(msg):
    print(f"drills: {msg}", file=sys.stderr, flush=True)


def get_json(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.load(r)
    except (OSError, ValueError):
        return None


def quiet_popen(cmd, env=None, **kw):
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN), **kw)


def end(proc, timeout=5):
    """Stops a child this script started (by its PID) and reaps it."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Ctx:
    """The running stack: its env (stack.env) and helpers for PostgreSQL, Redis and shop."""

    def __init__(self, env, rules_dir=None):
        self.env = env
        self.dir = env["STACK_DIR"]
        self.dsn = env["PG_DSN"]
        self.rules_dir = rules_dir  # vigil's VIGIL_RULES_DIR when a drill adds rule files
        self.background = None  # the steady shop-load every run keeps going

    def post(self, url, body=None, timeout=10):
        data = json.dumps(body).encode() if body is not None else b""
        req = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read().decode()

    def shop_faults(self, **fields):
        return json.loads(self.post(self.env["SHOP_URL"] + "/api/admin/faults", fields))

    def vigil_metric(self, name, **labels):
        """The values of the series `name` in vigil whose labels match `labels` (regexes)."""
        sel = ",".join(f'{k}=~"{v}"' for k, v in labels.items())
        body = get_json(self.env["VIGIL_URL"] + "/api/v1/query?query=" +
                        urllib.parse.quote(f"{name}{{{sel}}}"))
        return [float(r["value"][1]) for r in ((body or {}).get("data") or {}).get("result") or []]

    def psql(self, sql, timeout=20):
        r = subprocess.run(["psql", self.dsn, "-qAtX", "-c", sql], capture_output=True, text=True,
                           timeout=timeout, env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"))
        return r.stdout.strip()

    def redis(self, *args):
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", self.env["REDIS_PORT"], *args],
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def redis_info(self, field):
        for line in self.redis("INFO").splitlines():
            k, _, v = line.partition(":")
            if k == field:
                return v.strip()
        return None

    def pid(self, name):
        with open(os.path.join(self.dir, name, "pid")) as f:
            return int(f.read().split()[0])

    # PostgreSQL: stack.sh starts it with pg_ctl and options; postmaster.opts keeps them.
    def pg_data(self):
        return os.path.join(self.dir, "postgres", "data")

    def pg_options(self):
        with open(os.path.join(self.pg_data(), "postmaster.opts")) as f:
            argv = shlex.split(f.read())
        i = argv.index("-D")
        return argv[1:i] + argv[i + 2:]

    def pg_ctl(self, *args):
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", self.pg_data(), *args],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=True)

    def pg_stop(self):
        self.pg_ctl("-m", "fast", "-w", "-t", "30", "stop")

    def pg_start(self, options):
        self.pg_ctl("-l", os.path.join(self.dir, "postgres", "postgres.log"), "-w", "-t", "30",
                    "-o", shlex.join(options), "start")
        with open(os.path.join(self.pg_data(), "postmaster.pid")) as f:
            pid = f.readline().strip()
        with open(os.path.join(self.dir, "postgres", "pid"), "w") as f:
            f.write(pid + "\n")


# --- the faults -------------------------------------------------------------------------------
# Each: __init__(ctx, drill), start(), stop(); stop() undoes what start() did and may be called
# after a failed start().

class Load:
    """A shop-load scenario; the drill ends when it does."""

    def __init__(self, ctx, drill):
        self.ctx, self.args, self.proc = ctx, drill["load"], None

    def start(self):
        self.proc = quiet_popen([f"{BUILD}/service/shop-load", "--target", self.ctx.env["SHOP_ADDR"], "--quiet",
                                 *self.args])

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        end(self.proc)


class IdleInTransaction:
    """A psql session: BEGIN; SELECT 1; then nothing, transaction left open."""

    def __init__(self, ctx, _drill):
        self.ctx, self.proc = ctx, None

    def start(self):
        self.proc = subprocess.Popen(["psql", self.ctx.dsn, "-qAtX"], stdin=subprocess.PIPE, text=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=dict(os.environ, PGAPPNAME="vigil-drill-idle-tx"))
        self.proc.stdin.write("BEGIN;\nSELECT 1;\n")
        self.proc.stdin.flush()

    def stop(self):
        if self.proc:
            self.proc.stdin.close()
            end(self.proc)


class Deadlock:
    """Two sessions update products 11 and 12 in opposite order; PostgreSQL aborts one."""

    def __init__(self, ctx, _drill):
        self.ctx, self.procs = ctx, []

    def start(self):
        for a, b in ((11, 12), (12, 11)):
            sql = (f"BEGIN; UPDATE products SET stock = stock WHERE id = {a}; SELECT pg_sleep(2); "
                   f"UPDATE products SET stock = stock WHERE id = {b}; COMMIT")
            self.procs.append(quiet_popen(["psql", self.ctx.dsn, "-qAtX", "-c", sql]))
            time.sleep(0.5)
        for p in self.procs:
            p.wait(timeout=30)

    def stop(self):
        for p in self.procs:
            end(p)


class RedisMemory:
    """maxmemory just above used_memory, allkeys-lru, then 5,000 1 KiB keys: evictions, memory ratio."""

    def __init__(self, ctx, _drill):
        self.ctx, self.saved = ctx, None

    def start(self):
        self.saved = (self.ctx.redis("CONFIG", "GET", "maxmemory").splitlines()[1],
                      self.ctx.redis("CONFIG", "GET", "maxmemory-policy").splitlines()[1])
        used = int(self.ctx.redis_info("used_memory"))
        self.ctx.redis("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        self.ctx.redis("CONFIG", "SET", "maxmemory", str(int(used * 1.02)))
        subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", self.ctx.env["REDIS_PORT"], "-q", "-t", "set",
                        "-n", "5000", "-r", "100000", "-d", "1024", "-c", "2"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def stop(self):
        if self.saved:
            self.ctx.redis("CONFIG", "SET", "maxmemory", self.saved[0])
            self.ctx.redis("CONFIG", "SET", "maxmemory-policy", self.saved[1])


class RedisMaxClients:
    """maxclients = connected clients + 2 for 30 s while redis-benchmark opens 30 connections."""

    def __init__(self, ctx, _drill):
        self.ctx, self.saved = ctx, None

    def start(self):
        self.saved = self.ctx.redis("CONFIG", "GET", "maxclients").splitlines()[1]
        clients = int(self.ctx.redis_info("connected_clients"))
        self.ctx.redis("CONFIG", "SET", "maxclients", str(clients + 2))
        subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", self.ctx.env["REDIS_PORT"], "-q", "-t", "ping",
                        "-n", "2000", "-c", "30"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)

    def stop(self):
        if self.saved:
            self.ctx.redis("CONFIG", "SET", "maxclients", self.saved)


class PostgresConnections:
    """pgbench clients that sleep between `SELECT 1`s until 98 of the 100 connections are in use."""

    def __init__(self, ctx, drill):
        self.ctx, self.seconds, self.proc = ctx, drill["hold"], None

    def start(self):
        used = int(self.ctx.psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"))
        n = max(1, 98 - used)  # vigil counts one fewer than pg_stat_activity; the critical line is > 95%
        script = os.path.join(self.ctx.dir, "drill-idle.sql")
        with open(script, "w") as f:
            f.write("\\sleep 2 s\nSELECT 1;\n")
        pe = self.ctx.env
        self.proc = quiet_popen([f"{PG_BIN}/pgbench", "-n", "-h", "127.0.0.1", "-p", pe["PG_PORT"], "-U", "postgres",
                                 "-c", str(n), "-j", "1", "-T", str(int(self.seconds) + 60), "-f", script, "shop"])

    def stop(self):
        end(self.proc)


class PostgresBusy:
    """Two pgbench sessions running a CPU-bound query back to back (runaway queries)."""

    def __init__(self, ctx, drill):
        self.ctx, self.seconds, self.proc = ctx, drill["hold"], None

    def start(self):
        script = os.path.join(self.ctx.dir, "drill-busy.sql")
        with open(script, "w") as f:
            f.write("SELECT sum(g) FROM generate_series(1, 5000000) g;\n")
        pe = self.ctx.env
        self.proc = quiet_popen([f"{PG_BIN}/pgbench", "-n", "-h", "127.0.0.1", "-p", pe["PG_PORT"], "-U", "postgres",
                                 "-c", "2", "-j", "2", "-T", str(int(self.seconds) + 60), "-f", script, "shop"])

    def stop(self):
        end(self.proc)


class PostgresStop:
    """PostgreSQL stopped (pg_ctl stop -m fast), started again with the same options."""

    def __init__(self, ctx, _drill):
        self.ctx, self.options = ctx, None

    def start(self):
        self.options = self.ctx.pg_options()
        self.ctx.pg_stop()

    def stop(self):
        if self.options is not None:
            self.ctx.pg_start(self.options)


class StatementsDeallocated:
    """PostgreSQL restarted with pg_stat_statements.max=100, then 300 statements of distinct shapes; undone by
    another restart with the original options."""

    def __init__(self, ctx, _drill):
        self.ctx, self.options = ctx, None

    def start(self):
        self.options = self.ctx.pg_options()
        self.ctx.pg_stop()
        self.ctx.pg_start(self.options + ["-c", "pg_stat_statements.max=100"])
        time.sleep(5)
        # distinct shapes (1..300 columns): an alias or a constant alone does not make a new queryid
        sql = "".join("SELECT " + ",".join(["1"] * i) + ";" for i in range(1, 301))
        self.ctx.psql(sql, timeout=60)

    def stop(self):
        if self.options is not None:
            self.ctx.pg_stop()
            self.ctx.pg_start(self.options)


class ShopKill:
    """shop stopped (SIGTERM), started again from its /proc/PID/cmdline."""

    def __init__(self, ctx, _drill):
        self.ctx, self.argv = ctx, None

    def start(self):
        pid = self.ctx.pid("shop")
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            self.argv = [a.decode() for a in f.read().split(b"\0") if a]
        self.cwd = os.readlink(f"/proc/{pid}/cwd")
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 15
        while time.time() < deadline and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.2)

    def stop(self):
        if not self.argv:
            return
        logf = open(os.path.join(self.ctx.dir, "shop", "shop.log"), "ab")
        p = subprocess.Popen(self.argv, cwd=self.cwd, stdout=logf, stderr=logf, start_new_session=True)
        with open(os.path.join(self.ctx.dir, "shop", "pid"), "w") as f:
            f.write(f"{p.pid}\n")  # deploy/stack.sh stop ends it


class FdLimit:
    """shop's open-files limit (prlimit) lowered to just above 95% use, restored after."""

    def __init__(self, ctx, _drill):
        self.ctx, self.pid, self.saved = ctx, None, None

    def start(self):
        self.pid = self.ctx.pid("shop")
        out = subprocess.run(["prlimit", "--pid", str(self.pid), "--nofile", "--raw", "--noheadings",
                              "--output", "SOFT,HARD"], capture_output=True, text=True, check=True).stdout.split()
        self.saved = f"{out[0]}:{out[1]}"
        n = len(os.listdir(f"/proc/{self.pid}/fd"))
        # above 95% for the critical: one spare while n >= 20, none below (18 of 19 is 94.7%)
        limit = n + 1 if n / (n + 1) > 0.95 else n
        subprocess.run(["prlimit", "--pid", str(self.pid), f"--nofile={limit}:{out[1]}"], check=True)

    def stop(self):
        if self.saved:
            subprocess.run(["prlimit", "--pid", str(self.pid), f"--nofile={self.saved}"], check=False)


class RuleFile:
    """A rule file added to vigil's rules directory and loaded with POST /-/reload; removed (and
    reloaded) to undo. The drill's `rules` is the file's text."""

    def __init__(self, ctx, drill):
        self.ctx, self.text = ctx, drill["rules"]
        self.path = os.path.join(ctx.rules_dir, f"drill-{drill['name']}.yml")

    def write(self, text):
        with open(self.path, "w") as f:
            f.write(text)
        self.reload()

    def reload(self):
        # tens of thousands of rules (rule-slow) take seconds to load
        self.ctx.post(self.ctx.env["VIGIL_URL"] + "/-/reload", timeout=120)

    def start(self):
        self.write(self.text)

    def stop(self):
        if os.path.exists(self.path):
            os.remove(self.path)
            self.reload()


class SlowRuleGroup(RuleFile):
    """A rule group with a 1 s interval whose rules take the median of every collected series over
    the last 30 minutes, one rule per metric name (a selector across names would give series that
    differ only in their name: an error); the set is repeated, doubling while an evaluation takes
    under 1.2 s (at most 512 times)."""

    def __init__(self, ctx, drill):
        super().__init__(ctx, dict(drill, rules=""))
        self.copies, self.names, self.checked = 2, [], time.time()

    def text_for(self, copies):
        rules = "".join(f"      - record: drill:slow_{c}_{i}:median30m\n"
                        f"        expr: sum(quantile_over_time(0.5, {n}[30m]))\n"
                        for c in range(copies) for i, n in enumerate(self.names))
        return "groups:\n  - name: drill-slow\n    interval: 1s\n    rules:\n" + rules

    def start(self):
        body = get_json(self.ctx.env["VIGIL_URL"] + "/api/v1/query?query=" +
                        urllib.parse.quote('count by (__name__) ({__name__=~"[a-z_]+"})'))
        self.names = sorted(r["metric"]["__name__"] for r in body["data"]["result"])
        log(f"rule-slow: {len(self.names)} metric names")
        self.write(self.text_for(self.copies))
        self.checked = time.time()

    def tick(self, _obs):
        if time.time() - self.checked < 20 or self.copies >= 512:
            return
        self.checked = time.time()
        last = self.ctx.vigil_metric("vigil_rule_group_last_duration_seconds", rule_group=".*;drill-slow")
        if last and last[0] < 1.2:
            self.copies *= 2
            log(f"rule-slow: {last[0]:.2f} s per evaluation, now {self.copies} rules per name")
            self.write(self.text_for(self.copies))


class CachePause:
    """Redis paused (CLIENT PAUSE 80 ALL) every 100 ms: most cache operations wait up to 80 ms."""

    def __init__(self, ctx, _drill):
        self.ctx, self.stopping, self.thread = ctx, False, None

    def loop(self):
        import socket
        with socket.create_connection(("127.0.0.1", int(self.ctx.env["REDIS_PORT"])), timeout=5) as s:
            while not self.stopping:
                s.sendall(b"CLIENT PAUSE 80 ALL\r\n")
                s.recv(64)
                time.sleep(0.1)

    def start(self):
        import threading
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping = True
        if self.thread:
            self.thread.join(timeout=5)


class TableScans:
    """A 1M-row table (~140 MB, over a quarter of shared_buffers, so sequential scans go through a
    small ring buffer) counted in a loop by one psql session every 0.5 s; dropped after."""

    def __init__(self, ctx, drill):
        self.ctx, self.seconds, self.proc = ctx, drill["hold"], None

    def start(self):
        self.ctx.psql("DROP TABLE IF EXISTS drill_scan; CREATE TABLE drill_scan AS SELECT g AS id, "
                      "repeat('x', 100) AS pad FROM generate_series(1, 1000000) g", timeout=120)
        script = os.path.join(self.ctx.dir, "drill-scan.sql")
        with open(script, "w") as f:
            f.write("SELECT count(*) FROM drill_scan;\n\\sleep 500 ms\n")
        pe = self.ctx.env
        self.proc = quiet_popen([f"{PG_BIN}/pgbench", "-n", "-h", "127.0.0.1", "-p", pe["PG_PORT"], "-U", "postgres",
                                 "-c", "1", "-T", str(int(self.seconds) + 60), "-f", script, "shop"])

    def stop(self):
        end(self.proc)
        self.ctx.psql("DROP TABLE IF EXISTS drill_scan")


class Leak:
    """shop leaks memory and threads at a steady rate (POST /api/admin/faults) until both growth
    alerts reached Alertmanager, then leaks 600 MiB and 10,000 threads at once; all released after."""

    def __init__(self, ctx, _drill):
        self.ctx, self.jumped = ctx, False

    def start(self):
        self.ctx.shop_faults(leak_mib_per_minute=4, leak_threads_per_minute=40)

    def tick(self, obs):
        if not self.jumped and obs.at_am("ProcessMemoryGrowing") and obs.at_am("ProcessThreadsGrowing"):
            self.jumped = True
            log("leak: both growth alerts at Alertmanager; leaking 600 MiB and 10,000 threads at once")
            self.ctx.shop_faults(leak_mib_per_minute=0, leak_threads_per_minute=0, leak_mib=600, leak_threads=10000)

    def stop(self):
        self.ctx.shop_faults(release_leak=True)


class RateCollapse:
    """The steady background load (20 requests/s) stopped (SIGSTOP) and continued after."""

    def __init__(self, ctx, _drill):
        self.ctx, self.stopped = ctx, False

    def start(self):
        os.kill(self.ctx.background.pid, signal.SIGSTOP)
        self.stopped = True

    def stop(self):
        if self.stopped:
            os.kill(self.ctx.background.pid, signal.SIGCONT)
            self.stopped = False


class Freeze:
    """A process of the stack stopped (SIGSTOP) and continued (SIGCONT) after."""

    def __init__(self, ctx, drill):
        self.ctx, self.name, self.pid = ctx, drill["process"], None

    def start(self):
        self.pid = self.ctx.pid(self.name)
        os.kill(self.pid, signal.SIGSTOP)

    def stop(self):
        if self.pid:
            os.kill(self.pid, signal.SIGCONT)


class AlertmanagerDown:
    """Alertmanager stopped (SIGTERM) for `down` seconds and started again with its arguments. When
    the drill has `rules`, that rule file is loaded 30 s in and removed 90 s in: alerts meant to
    overflow vigil's queue (the drill runs vigil with a small queue_capacity)."""

    def __init__(self, ctx, drill):
        self.ctx, self.down, self.argv, self.t0 = ctx, drill["down"], None, None
        self.rules = RuleFile(ctx, drill) if drill.get("rules") else None
        self.phase = 0

    def start(self):
        pid = self.ctx.pid("alertmanager")
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            self.argv = [a.decode() for a in f.read().split(b"\0") if a]
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 15
        while time.time() < deadline and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.2)
        self.t0 = time.time()

    def tick(self, _obs):
        held = time.time() - self.t0
        if self.rules and self.phase == 0 and held >= 30:
            self.phase = 1
            self.rules.start()
        if self.rules and self.phase == 1 and held >= 90:
            self.phase = 2
            self.rules.stop()
        if self.argv and held >= self.down:
            self.restart()

    def restart(self):
        logf = open(os.path.join(self.ctx.dir, "alertmanager", "alertmanager.log"), "ab")
        p = subprocess.Popen(self.argv, stdout=logf, stderr=logf, start_new_session=True)
        with open(os.path.join(self.ctx.dir, "alertmanager", "pid"), "w") as f:
            f.write(f"{p.pid}\n")  # deploy/stack.sh stop ends it
        self.argv = None
        log("alertmanager-down: Alertmanager started again")

    def stop(self):
        if self.rules:
            self.rules.stop()
        if self.argv:
            self.restart()


class Shared:
    """A fault class of deploy/faults.py (env, seconds)."""

    def __init__(self, cls):
        self.cls = cls

    def __call__(self, ctx, drill):
        return self.cls(ctx.env, drill["hold"])


# --- the catalog ------------------------------------------------------------------------------
# alerts: NAME or NAME/severity; the drill's fault is undone once each is at Alertmanager, or
# after hold seconds. phase: drills of one phase run at once, phases one after another (1: no
# component goes down; 2: components down; 3: PostgreSQL restarted with other settings; 4:
# Alertmanager down; 5: shop's connection queue full, which slows its every scrape); delay:
# seconds into its phase before it starts.
# stack_env: environment for deploy/stack.sh start (drills run together must agree).
DRILLS = {
    "idle-in-transaction": dict(fault=IdleInTransaction, phase=1, hold=480,
                                alerts=["PostgresIdleInTransaction", "PostgresLongTransaction"],
                                how="psql: BEGIN; SELECT 1; left open (idle in transaction)"),
    "deadlock": dict(fault=Deadlock, phase=1, hold=120, alerts=["PostgresDeadlocks"],
                     how="two psql sessions update products 11 and 12 in opposite order"),
    "lock-wait": dict(fault=Shared(LockWait), phase=1, hold=180, alerts=["PostgresLockWaitLong"],
                      how="deploy/faults.py LockWait: a row lock held, a second session waits"),
    "redis-memory": dict(fault=RedisMemory, phase=1, hold=480,
                         alerts=["RedisEvictions", "RedisMemoryHigh/warning", "RedisMemoryHigh/critical"],
                         how="CONFIG SET maxmemory used_memory+2%, allkeys-lru, redis-benchmark SETs 5,000 1 KiB keys"),
    "redis-maxclients": dict(fault=RedisMaxClients, phase=1, hold=30, min_hold=30, alerts=["RedisRejectedConnections"],
                             how="CONFIG SET maxclients connected+2, redis-benchmark -c 30 (restored after 30 s)"),
    "pg-connections": dict(fault=PostgresConnections, phase=1, hold=480, delay=20,
                           alerts=["PostgresConnectionsHigh/critical", "PostgresConnectionsHigh/warning"],
                           how="20 s into its phase (once shop's pool is open), pgbench clients sleeping between "
                               "SELECT 1 until 98 of max_connections 100 are used"),
    "error-burst": dict(fault=Load, phase=1, hold=600, load=["--scenario", "error-burst", "--duration", "540s",
                                                             "--rate", "40"],
                        alerts=["APIErrorRateHigh/critical", "APIErrorRateHigh/warning"],
                        how="shop-load --scenario error-burst --duration 540s --rate 40 (20% 500s in 180-360 s)"),
    "pool-exhaustion": dict(fault=Load, phase=1, hold=960,
                            load=["--scenario", "pool-exhaustion", "--rate", "0", "--concurrency", "24",
                                  "--duration", "900s"],
                            stack_env={"SHOP_POOL_ACQUIRE_TIMEOUT_MS": "250"},
                            alerts=["DatabasePoolAcquireTimeouts", "DatabasePoolRequestsWaiting", "DatabasePoolUsageHigh",
                                    "DatabaseQueryLatencyHigh", "PostgresStatementSlow", "APILatencyP95High",
                                    "APIWorkerThreadsSaturated"],
                            how="shop-load --scenario pool-exhaustion --rate 0 --concurrency 24 --duration 900s "
                                "(exhaustion in 225-675 s), "
                                "shop with SHOP_POOL_ACQUIRE_TIMEOUT_MS=250"),
    "slow-query": dict(fault=Load, phase=1, hold=1020, load=["--scenario", "slow-query", "--duration", "960s"],
                       alerts=["PostgresStatementSlow", "DatabaseQueryLatencyHigh", "APILatencyP95High",
                               "APILatencyP95VeryHigh", "APILatencyP99High", "DatabasePoolRequestsWaiting"],
                       how="shop-load --scenario slow-query --duration 960s (slow queries in 240-720 s)"),
    "cache-flush": dict(fault=Load, phase=1, hold=1260, load=["--scenario", "cache-flush", "--duration", "1200s"],
                        alerts=["CacheHitRatioLow", "RedisCacheHitRatioLow"],
                        how="shop-load --scenario cache-flush --duration 1200s"),
    "fd-limit": dict(fault=FdLimit, phase=1, hold=420, alerts=["ProcessFileDescriptorsHigh/critical",
                                                             "ProcessFileDescriptorsHigh/warning"],
                     how="prlimit --nofile on shop: its open descriptors (+ 1 if that stays above 95%), restored after"),
    "postgres-down": dict(fault=PostgresStop, phase=2, hold=180, alerts=["PostgresDown", "VigilCollectorDown"],
                          how="pg_ctl stop -m fast; pg_ctl start with the same options"),
    "shop-down": dict(fault=ShopKill, phase=2, hold=180, alerts=["ProcessDown", "VigilCollectorDown"],
                      how="SIGTERM shop; started again from its /proc/PID/cmdline"),
    "redis-down": dict(fault=Shared(RedisFreeze), phase=2, hold=180, alerts=["RedisDown", "VigilCollectorDown"],
                       how="deploy/faults.py RedisFreeze: SIGSTOP Redis, SIGCONT to undo"),
    "connection-queue": dict(fault=Load, phase=5, hold=600,
                             load=["--scenario", "steady", "--rate", "0", "--concurrency", "40", "--duration", "540s"],
                             stack_env={"SHOP_WORKERS": "4", "SHOP_MAX_QUEUED": "10", "SHOP_KEEP_ALIVE_MAX_REQUESTS": "1"},
                             alerts=["APIConnectionQueueHigh"],
                             how="shop with 4 workers, a queue of 10 and one request per connection "
                                 "(SHOP_WORKERS=4 SHOP_MAX_QUEUED=10 SHOP_KEEP_ALIVE_MAX_REQUESTS=1); "
                                 "shop-load --scenario steady --rate 0 --concurrency 40 --duration 540s"),
    "seq-scans": dict(fault=TableScans, phase=1, hold=900,
                      alerts=["PostgresCacheHitRatioLow", "PostgresTableLowIndexUsage"],
                      how="a 1M-row table (~140 MB, no index) counted by one session every 0.5 s: sequential "
                          "scans of a table over a quarter of shared_buffers read through a ring buffer"),
    "cache-latency": dict(fault=CachePause, phase=1, hold=600,
                          alerts=["CacheOperationLatencyHigh/warning", "CacheOperationLatencyHigh/critical"],
                          how="Redis CLIENT PAUSE 80 ALL every 100 ms"),
    "rule-failure": dict(fault=RuleFile, phase=1, hold=180, alerts=["VigilRuleEvaluationFailures"],
                         rules="groups:\n  - name: drill-failure\n    rules:\n"
                               "      - record: drill:vigil_collector_up:many_to_many\n"
                               "        expr: vigil_collector_up + on () vigil_collector_up\n",
                         how="a rule file whose rule fails at every evaluation (many-to-many matching), "
                             "loaded with POST /-/reload"),
    "rule-slow": dict(fault=SlowRuleGroup, phase=1, hold=1200,
                      alerts=["VigilRuleGroupSlow", "ProcessCPUHigh/warning", "ProcessCPUHigh/critical"],
                      how="a rule group (interval 1s): sum(quantile_over_time(0.5, NAME[30m])) for every metric "
                          "name, the set repeated (2..512 times) until an evaluation takes over 1.2 s: vigil's "
                          "evaluation thread busy all the time (ProcessCPUHigh for the vigil group)"),
    "cpu": dict(fault=PostgresBusy, phase=1, hold=900,
                alerts=["ProcessCPUHigh/warning", "ProcessCPUHigh/critical"],
                how="two sessions summing generate_series(1, 5000000) back to back: the postgres group "
                    "busy on up to two cores"),
    "leak": dict(fault=Leak, phase=1, hold=7200,
                 alerts=["ProcessMemoryGrowing", "ProcessThreadsGrowing", "ProcessMemoryHigh", "ProcessThreadsHigh"],
                 how="shop leaks 4 MiB and 40 threads a minute (POST /api/admin/faults) until both growth alerts "
                     "are at Alertmanager (~75 min: they judge groups up for an hour), then 600 MiB and "
                     "10,000 threads at once"),
    "rate-collapse": dict(fault=RateCollapse, phase=1, delay=2400, hold=900, alerts=["APIRequestRateCollapse"],
                          how="40 min into its phase, the steady 20 requests/s stopped (SIGSTOP of shop-load)"),
    "vigil-down": dict(fault=Freeze, process="vigil", phase=2, hold=180, alerts=["VigilDown"],
                       how="SIGSTOP vigil (Prometheus evaluates rules/shipped/vigil.yml and sends VigilDown)"),
    "alertmanager-down": dict(fault=AlertmanagerDown, phase=4, down=720, hold=1200, min_hold=720,
                              stack_env={"VIGIL_NOTIFICATION_QUEUE_CAPACITY": "50"},
                              rules="groups:\n  - name: drill-queue-filler\n    rules:\n"
                                    "      - alert: DrillQueueFiller\n"
                                    "        expr: label_replace(count by (__name__) ({__name__=~\"[a-z_]+\"}), "
                                    "\"metric\", \"$1\", \"__name__\", \"(.+)\")\n",
                              alerts=["VigilNotificationsFailing", "VigilNotificationsDropped"],
                              how="Alertmanager stopped for 12 min; vigil runs with queue_capacity 50 and an alert "
                                  "per metric name (~250) is loaded 30-90 s in"),
    "statements-deallocated": dict(fault=StatementsDeallocated, phase=3, hold=120,
                                   alerts=["PostgresStatementsDeallocated"],
                                   how="PostgreSQL restarted with pg_stat_statements.max=100, 300 SELECTs of 1..300 columns"),
}


# Drills that spoil each other's alerts on one stack: pg-connections (no free PostgreSQL
# connections) and fd-limit (no free descriptors) leave shop's pool nothing to grow into, so pool
# usage stays low and acquire timeouts come from the wrong cause. connection-queue runs shop with
# 4 workers, which the load drills saturate for other reasons.
LOAD_DRILLS = ("pool-exhaustion", "slow-query", "cache-flush", "error-burst")
CONFLICTS = ([{a, b} for a in ("pg-connections", "fd-limit") for b in ("pool-exhaustion", "slow-query", "cache-flush")] +
             [{"connection-queue", b} for b in LOAD_DRILLS + ("pg-connections", "fd-limit")])


# --- observing ---------------------------------------------------------------------------------

def iso_seconds(ts):
    """Epoch seconds of an RFC 3339 time as vigil and Alertmanager write it."""
    base, _, frac = ts.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
    return t + (float("0." + frac.split("+")[0]) if frac else 0.0)


def key(labels):
    rest = ",".join(f"{k}={v}" for k, v in sorted(labels.items())
                    if k not in ("alertname", "severity", "job", "instance", "env", "rule_group", "service", "team"))
    return f"{labels.get('alertname', '?')}/{labels.get('severity', '')}" + (f"{{{rest}}}" if rest else "")


def matches(expected, k):
    """expected: NAME or NAME/severity; k: a key()."""
    name_sev = k.split("{")[0]
    return name_sev == expected or name_sev.split("/")[0] == expected


class Observer:
    """Per alert (name/severity): first seen pending at vigil, first seen at Alertmanager, and when
    it was gone from both after that."""

    def __init__(self, ctx, t0):
        self.vigil, self.am, self.t0 = ctx.env["VIGIL_URL"], ctx.env["ALERTMANAGER_URL"], t0
        self.alerts = {}

    def poll(self):
        now = time.time() - self.t0
        seen = set()
        body = get_json(self.vigil + "/api/v1/alerts")
        for a in ((body or {}).get("data") or {}).get("alerts") or []:
            k = key(a.get("labels", {}))
            seen.add(k)
            h = self.alerts.setdefault(k, {"labels": a.get("labels", {})})
            if "resolved" in h and "am" not in h:  # a pending blip that cleared: a new episode
                for f in ("pending", "firing", "active_at"):
                    h.pop(f, None)
            h.setdefault("pending", now)
            if a.get("state") == "firing":
                h.setdefault("firing", now)
            if a.get("activeAt") and "active_at" not in h:
                h["active_at"] = iso_seconds(a["activeAt"]) - self.t0
            h.pop("resolved", None)
        for a in get_json(self.am + "/api/v2/alerts") or []:
            if (a.get("status") or {}).get("state") == "unprocessed":
                continue
            k = key(a.get("labels", {}))
            seen.add(k)
            h = self.alerts.setdefault(k, {"labels": a.get("labels", {})})
            h.setdefault("am", now)
            h.setdefault("pending", now)
            h.pop("resolved", None)
        for k, h in self.alerts.items():
            if k not in seen and "resolved" not in h:
                h["resolved"] = now

    def at_am(self, expected):
        return any(matches(expected, k) and "am" in h for k, h in self.alerts.items())

    def active(self):
        return [k for k, h in self.alerts.items() if "am" in h and "resolved" not in h]


def run(names, args):
    drills = {n: dict(DRILLS[n], name=n) for n in names}
    stack_env = {}
    for d in drills.values():
        stack_env.update(d.get("stack_env", {}))
    stack_dir = args.dir or tempfile.mkdtemp(prefix="vigil-drills-")
    rules_dir = None
    if any("rules" in d or d["fault"] is SlowRuleGroup for d in drills.values()):
        rules_dir = os.path.join(stack_dir, "rules")  # the shipped rules plus the drills' files
        shutil.copytree(os.path.join(REPO, "rules", "shipped"), rules_dir, ignore=shutil.ignore_patterns("tests"))
        stack_env["VIGIL_RULES_DIR"] = rules_dir
    env = dict(os.environ, VIGIL_BUILD_DIR=BUILD, **stack_env)
    stack = [os.path.join(REPO, "deploy", "stack.sh")]
    deadline = time.time() + args.timeout
    faults, background, results = {}, None, []
    try:
        log(f"starting the stack in {stack_dir} ({' '.join(f'{k}={v}' for k, v in stack_env.items()) or 'defaults'})")
        subprocess.run(stack + ["start", stack_dir], env=env, check=True, timeout=300)
        ctx = Ctx(read_env(os.path.join(stack_dir, "stack.env")), rules_dir)
        ctx.background = background = quiet_popen([f"{BUILD}/service/shop-load", "--target", ctx.env["SHOP_ADDR"], "--scenario", "steady",
                                  "--rate", "20", "--concurrency", "2", "--duration", f"{int(args.timeout)}s", "--quiet"])
        t0 = time.time()
        obs = Observer(ctx, t0)
        log(f"vigil {ctx.env['VIGIL_URL']}, alertmanager {ctx.env['ALERTMANAGER_URL']}; warming up {args.warmup} s")
        while time.time() < min(deadline, t0 + args.warmup):
            obs.poll()
            time.sleep(POLL)
        baseline = set(obs.alerts)
        times = {}
        for phase in sorted({d["phase"] for d in drills.values()}):
            batch = [n for n, d in drills.items() if d["phase"] == phase]
            log(f"phase {phase}: {', '.join(batch)}")
            phase_t0, waiting, pending = time.time(), sorted(batch, key=lambda n: drills[n].get("delay", 0)), set()
            while (waiting or pending) and time.time() < deadline:
                while waiting and time.time() - phase_t0 >= drills[waiting[0]].get("delay", 0):
                    n = waiting.pop(0)
                    times[n] = {"start": time.time() - t0}
                    faults[n] = drills[n]["fault"](ctx, drills[n])
                    pending.add(n)
                    try:
                        faults[n].start()
                    except Exception as e:  # noqa: BLE001 -- report and undo, go on with the others
                        log(f"{n}: start failed: {e}")
                        times[n]["error"] = str(e)
                obs.poll()
                now = time.time() - t0
                for n in sorted(pending):
                    d, f = drills[n], faults[n]
                    held = now - times[n]["start"]
                    if hasattr(f, "tick") and "error" not in times[n]:
                        try:
                            f.tick(obs)
                        except Exception as e:  # noqa: BLE001 -- report and undo, go on with the others
                            log(f"{n}: {e}")
                            times[n]["error"] = str(e)
                    if isinstance(f, Load):
                        done = not f.running()
                    else:
                        done = held >= d.get("min_hold", 0) and all(obs.at_am(a) for a in d["alerts"])
                    if done or held >= d["hold"] or "error" in times[n]:
                        f.stop()
                        times[n]["undone"] = time.time() - t0
                        pending.discard(n)
                        log(f"{n}: undone after {held:.0f} s")
                time.sleep(POLL)
            for n in pending:
                faults[n].stop()
                times[n]["undone"] = time.time() - t0
        resolve_end = min(deadline, time.time() + args.resolve_timeout)
        log(f"waiting up to {resolve_end - time.time():.0f} s for {len(obs.active())} alerts to resolve")
        while obs.active() and time.time() < resolve_end:
            obs.poll()
            time.sleep(POLL)
        obs.poll()
        results = report(drills, times, obs, baseline)
    finally:
        for f in faults.values():
            try:
                f.stop()
            except Exception:  # noqa: BLE001 -- best effort on the way out
                pass
        end(background)
        subprocess.run(stack + ["stop", stack_dir], env=env, timeout=120, check=False)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


def report(drills, times, obs, baseline):
    rows = []
    for k, h in sorted(obs.alerts.items(), key=lambda kv: kv[1].get("pending", 0)):
        owner = [n for n, d in drills.items() if any(matches(a, k) for a in d["alerts"])
                 and h.get("pending", 0) >= times.get(n, {}).get("start", 1e9) - 1]
        owner = min(owner, key=lambda n: h["pending"] - times[n]["start"]) if owner else None
        t = times[owner]["start"] if owner else 0
        rel = {f: (round(h[f] - t) if f in h else None) for f in ("pending", "active_at", "firing", "am", "resolved")}
        rows.append({"alert": k, "drill": owner or ("(before the drills)" if k in baseline else "(not expected)"),
                     "pending_s": rel["pending"], "vigil_active_at_s": rel["active_at"],
                     "vigil_firing_s": rel["firing"], "alertmanager_s": rel["am"], "resolved_s": rel["resolved"],
                     "fault_undone_s": round(times[owner]["undone"] - t) if owner and "undone" in times[owner] else None,
                     "labels": h["labels"]})
    for n, d in drills.items():
        for a in d["alerts"]:
            if not any(matches(a, r["alert"]) and r["alertmanager_s"] is not None for r in rows):
                rows.append({"alert": a, "drill": n, "pending_s": None, "vigil_active_at_s": None,
                             "vigil_firing_s": None, "alertmanager_s": None, "resolved_s": None,
                             "fault_undone_s": None, "labels": {}, "not_observed": True})
    fmt = "{:60} {:24} {:>8} {:>8} {:>8} {:>8} {:>8}"
    print(fmt.format("alert", "drill", "pending", "firing", "at AM", "undone", "resolved"))
    for r in rows:
        print(fmt.format(r["alert"], r["drill"], *("-" if r[c] is None else r[c] for c in
                                                   ("pending_s", "vigil_firing_s", "alertmanager_s", "fault_undone_s", "resolved_s"))))
    print("(seconds from the drill's start: pending/firing at vigil, at Alertmanager, fault undone, gone from both)")
    return {"drills": times, "alerts": rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list")
    r = sub.add_parser("run")
    r.add_argument("names", help="drills, comma-separated (drills.py list)")
    r.add_argument("--timeout", type=float, default=1800, help="seconds for the whole run")
    r.add_argument("--resolve-timeout", type=float, default=420, help="seconds to wait for resolution")
    r.add_argument("--warmup", type=float, default=30, help="seconds of steady load before the drills")
    r.add_argument("--json", help="also write the results here")
    r.add_argument("--dir", help="stack directory (default: a new one under /tmp)")
    args = ap.parse_args()
    if args.cmd == "list":
        for n, d in DRILLS.items():
            print(f"{n:24} phase {d['phase']}  {', '.join(d['alerts'])}\n{'':24} {d['how']}")
        return 0
    names = [n for n in args.names.split(",") if n]
    unknown = [n for n in names if n not in DRILLS]
    if unknown:
        ap.error(f"unknown drills: {', '.join(unknown)} (see drills.py list)")
    clash = [c for c in CONFLICTS if c <= set(names)]
    if clash:
        ap.error("these drills spoil each other, run them apart: " + "; ".join(" and ".join(sorted(c)) for c in clash))
    signal.signal(signal.SIGTERM, on_term)
    return run(names, args)


def on_term(*_):
    raise KeyboardInterrupt  # the finally of run() undoes the faults and stops the stack


if __name__ == "__main__":
    sys.exit(main())
