#!/usr/bin/env python3
"""Measurements for bench/exporters/run.sh: one program at a time, figures as JSON lines.

  measure.py program NAME --pid PID --url URL --mode scrape|passive --cycles K --interval S
             [--psql "psql args"] [--role ROLE] [--redis-port P] [--lat-requests N]
             [--lat-seconds S] --out FILE [--tag KEY=VALUE ...]
  measure.py vigil-extras --url URL --out FILE [--tag ...]
  measure.py prom-rules --url PROM_METRICS_URL --samples N --interval S --out FILE [--tag ...]
  measure.py report FILE            (the markdown table)

mode scrape: one GET /metrics per cycle, every S seconds (exporters collect on scrape).
mode passive: the program collects on its own schedule; cycles are counted from the
role's calls of pg_stat_statements(false) (or, with --redis-port and no --role, from that
Redis's INFO calls). Every loop is bounded in count and time.
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime (fields 14, 15)


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def psql(args, sql):
    out = subprocess.run(args.split() + ["-qAtX", "-F", " ", "-c", sql], check=True,
                         capture_output=True, text=True, timeout=30).stdout
    return out.strip()


def pg_role_times(args, role):
    """(total ms, ms in statements touching pg_stat_statements, calls of the (false) read)."""
    sql = ("SELECT coalesce(sum(total_exec_time + total_plan_time), 0), "
           "coalesce(sum(total_exec_time + total_plan_time) FILTER (WHERE query ILIKE "
           "'%pg_stat_statements%'), 0), coalesce(sum(calls) FILTER (WHERE query ILIKE "
           "'%pg_stat_statements($1) WHERE queryid IS NOT NULL%' OR query ILIKE '%FROM pg_stat_statements t1%'), 0) "
           f"FROM pg_stat_statements WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = '{role}')")
    a, b, c = psql(args, sql).split()
    return float(a), float(b), int(float(c))


def redis_info_calls(port):
    out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "info", "commandstats"],
                         check=True, capture_output=True, text=True, timeout=10).stdout
    for line in out.splitlines():
        if line.startswith("cmdstat_info:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


class Client:
    """Keep-alive HTTP client; get() returns (seconds, body)."""

    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port, self.path = u.hostname, u.port, u.path or "/"
        self.conn = None

    def get(self):
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                t0 = time.perf_counter()
                self.conn.request("GET", self.path, headers={"Accept": "text/plain;version=0.0.4"})
                r = self.conn.getresponse()
                body = r.read()
                dt = time.perf_counter() - t0
                if r.status != 200:
                    raise RuntimeError(f"{self.path}: HTTP {r.status}")
                return dt, body
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn = None
                if attempt:
                    raise


def series_of(body):
    lines = [l for l in body.decode("utf-8", "replace").splitlines() if l and not l.startswith("#")]
    stmt = sum(1 for l in lines if l.startswith(("pg_stat_statements_", "vigil_pg_statement")))
    return len(lines), stmt


def pct(values, q):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def tags(a):
    return dict(t.split("=", 1) for t in (a.tag or []))


def cmd_program(a):
    rec = {"name": a.name, **tags(a)}
    client = Client(a.url)
    rec["rss_idle"] = proc_status(a.pid, "VmRSS")
    counter = None
    if a.mode == "passive":
        if a.role:
            counter = lambda: pg_role_times(a.psql, a.role)[2]
        else:
            counter = lambda: redis_info_calls(a.redis_port)
    # Warm-up: two cycles.
    if a.mode == "scrape":
        for _ in range(2):
            client.get()
    else:
        wait_cycles(counter, 2, a.interval, 0)

    def snapshot():
        pg = pg_role_times(a.psql, a.role) if a.role else (0.0, 0.0, 0)
        return proc_cpu(a.pid), pg, time.monotonic()

    scrape_lat = []
    if a.mode == "scrape":
        cpu0, pg0, t0 = snapshot()
        next_t = time.monotonic()
        for _ in range(a.cycles):
            next_t += a.interval
            dt, body = client.get()
            scrape_lat.append(dt)
            time.sleep(max(0.0, next_t - time.monotonic()))
        cycles = a.cycles
        cpu1, pg1, t1 = snapshot()
    else:
        wait_cycles(counter, 1, a.interval, 0)  # align with a cycle that just happened
        cpu0, pg0, t0 = snapshot()
        c0 = counter()
        c1 = wait_cycles(counter, a.cycles, a.interval, c0)
        cpu1, pg1, t1 = snapshot()
        cycles = c1 - c0
        if not a.role:  # our own INFO calls counted too: one per poll
            cycles = round((t1 - t0) / a.interval)
    cycles = max(cycles, 1)
    rec["cycles"] = cycles
    rec["cpu_ms_per_cycle"] = (cpu1 - cpu0) * 1000 / cycles
    rec["cpu_share"] = (cpu1 - cpu0) / (t1 - t0)
    rec["pg_ms_per_cycle"] = (pg1[0] - pg0[0]) / cycles
    rec["pg_stmt_ms_per_cycle"] = (pg1[1] - pg0[1]) / cycles
    if scrape_lat:
        rec["scrape_p50_ms"] = pct(scrape_lat, 0.5) * 1000
    # /metrics latency: back-to-back requests, bounded in count and time.
    lat, body, deadline = [], b"", time.monotonic() + a.lat_seconds
    for _ in range(a.lat_requests):
        dt, body = client.get()
        lat.append(dt)
        if time.monotonic() > deadline:
            break
    rec["lat_n"] = len(lat)
    rec["lat_p50_ms"] = pct(lat, 0.5) * 1000
    rec["lat_p95_ms"] = pct(lat, 0.95) * 1000
    rec["series"], rec["stmt_series"] = series_of(body)
    rec["bytes"] = len(body)
    rec["rss_peak"] = proc_status(a.pid, "VmHWM")
    rec["rss_end"] = proc_status(a.pid, "VmRSS")
    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(f"  {a.name:<22} cpu/cycle {rec['cpu_ms_per_cycle']:8.2f} ms  pg/cycle "
          f"{rec['pg_ms_per_cycle']:7.2f} ms (stmts {rec['pg_stmt_ms_per_cycle']:.2f})  "
          f"peak RSS {rec['rss_peak'] / 2**20:6.1f} MiB  p95 {rec['lat_p95_ms']:8.2f} ms  "
          f"series {rec['series']}  bytes {rec['bytes']}  ({cycles} cycles)", flush=True)


def wait_cycles(counter, n, interval, base):
    """Polls counter() until it has grown by n from base (base 0: from its first value)."""
    start = counter() if base == 0 else base
    deadline = time.monotonic() + n * interval * 2 + 15
    value = start
    while time.monotonic() < deadline:
        value = counter()
        if value - start >= n:
            return value
        time.sleep(min(0.25, interval / 8))
    print(f"  warning: only {value - start} of {n} cycles seen", file=sys.stderr)
    return value


def metric_values(body, name):
    out = []
    for line in body.decode().splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            out.append((line.rsplit(" ", 1)[0], float(line.rsplit(" ", 1)[1])))
    return out


def cmd_vigil_extras(a):
    """Rule group durations (summed per evaluation round), window bytes per sample."""
    client = Client(a.url)
    sums, seen = [], set()
    deadline = time.monotonic() + a.samples * a.interval + 10
    while len(sums) < a.samples and time.monotonic() < deadline:
        _, body = client.get()
        ts = tuple(v for _, v in metric_values(body, "vigil_rule_group_last_evaluation_timestamp_seconds"))
        if ts and ts not in seen:
            seen.add(ts)
            sums.append(sum(v for _, v in metric_values(body, "vigil_rule_group_last_duration_seconds")))
        time.sleep(a.interval / 4)
    _, body = client.get()
    wb = sum(v for _, v in metric_values(body, "vigil_window_bytes"))
    ws = sum(v for _, v in metric_values(body, "vigil_window_samples"))
    wser = sum(v for _, v in metric_values(body, "vigil_window_series"))
    rules = sum(v for _, v in metric_values(body, "vigil_rule_group_rules"))
    rec = {"name": "vigil-extras", **tags(a), "rule_eval_ms": [s * 1000 for s in sums],
           "rules": rules, "window_bytes": wb, "window_samples": ws, "window_series": wser}
    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    med = statistics.median(rec["rule_eval_ms"]) if sums else float("nan")
    print(f"  vigil rules: {int(rules)} rules, median {med:.3f} ms per evaluation of all groups "
          f"({len(sums)} evaluations); window {int(ws)} samples in {int(wser)} series, "
          f"{wb / max(ws, 1):.2f} bytes/sample", flush=True)


def cmd_prom_rules(a):
    client = Client(a.url)
    sums, seen = [], set()
    deadline = time.monotonic() + a.samples * a.interval * 2 + 20
    while len(sums) < a.samples and time.monotonic() < deadline:
        _, body = client.get()
        ts = tuple(v for _, v in metric_values(body, "prometheus_rule_group_last_evaluation_timestamp_seconds"))
        if ts and all(t > 0 for t in ts) and ts not in seen:
            seen.add(ts)
            sums.append(sum(v for _, v in metric_values(body, "prometheus_rule_group_last_duration_seconds")))
        time.sleep(a.interval / 4)
    series = sum(v for _, v in metric_values(body, "prometheus_tsdb_head_series"))
    rec = {"name": "prometheus-rules", **tags(a), "rule_eval_ms": [s * 1000 for s in sums],
           "head_series": series}
    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    med = statistics.median(rec["rule_eval_ms"]) if sums else float("nan")
    print(f"  prometheus rules: median {med:.3f} ms per evaluation of all groups "
          f"({len(sums)} evaluations, {int(series)} head series)", flush=True)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("program")
    q.add_argument("name")
    q.add_argument("--pid", type=int, required=True)
    q.add_argument("--url", required=True)
    q.add_argument("--mode", choices=["scrape", "passive"], required=True)
    q.add_argument("--cycles", type=int, default=20)
    q.add_argument("--interval", type=float, default=2.0)
    q.add_argument("--psql", default="")
    q.add_argument("--role", default="")
    q.add_argument("--redis-port", type=int, default=0)
    q.add_argument("--lat-requests", type=int, default=200)
    q.add_argument("--lat-seconds", type=float, default=15.0)
    q.add_argument("--out", required=True)
    q.add_argument("--tag", action="append")
    v = sub.add_parser("vigil-extras")
    v.add_argument("--url", required=True)
    v.add_argument("--samples", type=int, default=8)
    v.add_argument("--interval", type=float, default=2.0)
    v.add_argument("--out", required=True)
    v.add_argument("--tag", action="append")
    r = sub.add_parser("prom-rules")
    r.add_argument("--url", required=True)
    r.add_argument("--samples", type=int, default=8)
    r.add_argument("--interval", type=float, default=2.0)
    r.add_argument("--out", required=True)
    r.add_argument("--tag", action="append")
    a = p.parse_args()
    {"program": cmd_program, "vigil-extras": cmd_vigil_extras, "prom-rules": cmd_prom_rules}[a.cmd](a)


if __name__ == "__main__":
    main()
