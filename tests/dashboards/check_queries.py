#!/usr/bin/env python3
"""Runs every panel query of dashboards/*.json against a Prometheus-compatible /api/v1/query
and fails when one returns nothing.

    check_queries.py --url http://127.0.0.1:9090 [--dashboards DIR] [--wait 90]
                     [--target prometheus|vigil] [--max-range 5m]

Grafana's variables are substituted: $__rate_interval -> --rate-interval (1m), ${datasource}
is dropped (the URL is the datasource), every other variable ($job, $instance, $target,
$groupname) -> ".*" (dashboards match them with =~). Queries are retried until --wait seconds
have passed (rates need a few scrapes). --target vigil is for vigil's own /api/v1/query:
queries whose range selectors reach further back than --max-range (vigil's window) are skipped.
Panels listed in EXCEPTIONS below return nothing by nature on the demo stack and are skipped
(with the reason printed).
"""
import argparse
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))

# (dashboard file, panel title, refId or "*") -> why the demo stack has no data for it.
EXCEPTIONS = {
    ("overview.json", "Active alerts (ALERTS)", "*"):
        "ALERTS exists only while an alert is pending or firing; the steady load fires none "
        "(the two counters beside it use `or vector(0)` and are checked)",
    ("postgres.json", "Replication lag (replicas)", "*"):
        "the demo's PostgreSQL is a primary without replicas",
    ("postgres.json", "WAL behind on replicas (primaries)", "*"):
        "the demo's primary has no replicas attached",
}

UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def substitute(expr, rate_interval):
    expr = expr.replace("$__rate_interval", rate_interval).replace("${__rate_interval}", rate_interval)
    expr = re.sub(r"\$\{datasource\}|\$datasource", "", expr)
    expr = re.sub(r"\$\{(\w+)(:\w+)?\}|\$(\w+)", ".*", expr)
    return expr


def longest_range(expr):
    """Seconds of the longest [range] or offset in expr (0 without any)."""
    longest = 0.0
    for m in re.finditer(r"\[([0-9a-z]+)(?::[0-9a-z]*)?\]|offset\s+([0-9a-z]+)", expr):
        text = m.group(1) or m.group(2)
        total = 0.0
        for n, unit in re.findall(r"(\d+)(ms|[smhdwy])", text):
            total += int(n) * UNITS[unit]
        longest = max(longest, total)
    return longest


def parse_duration(text):
    return sum(int(n) * UNITS[u] for n, u in re.findall(r"(\d+)(ms|[smhdwy])", text))


def query(url, expr):
    data = urllib.parse.urlencode({"query": expr}).encode()
    req = urllib.request.Request(url.rstrip("/") + "/api/v1/query", data=data,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        try:
            body = json.load(e)
        except Exception:  # noqa: BLE001
            return None, f"HTTP {e.code}"
    except OSError as e:
        return None, str(e)
    if body.get("status") != "success":
        return None, f"{body.get('errorType')}: {body.get('error')}"
    res = body["data"]
    if res["resultType"] in ("scalar", "string"):
        return 1, None
    return len(res["result"]), None


def collect(dashboards_dir):
    out = []
    for fname in sorted(os.listdir(dashboards_dir)):
        if not fname.endswith(".json"):
            continue
        with open(os.path.join(dashboards_dir, fname), encoding="utf-8") as f:
            board = json.load(f)
        panels = []
        for p in board.get("panels", []):
            panels.append(p)
            panels.extend(p.get("panels", []))  # collapsed rows
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((fname, p.get("title", ""), t.get("refId", "A"), t["expr"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--dashboards", default=os.path.join(HERE, "..", "..", "dashboards"))
    ap.add_argument("--target", choices=["prometheus", "vigil"], default="prometheus")
    ap.add_argument("--max-range", default="5m", help="with --target vigil: its window")
    ap.add_argument("--rate-interval", default="1m")
    ap.add_argument("--wait", type=float, default=90, help="seconds to retry queries without data")
    args = ap.parse_args()

    checks, skipped = [], []
    for fname, title, ref, expr in collect(args.dashboards):
        reason = EXCEPTIONS.get((fname, title, ref)) or EXCEPTIONS.get((fname, title, "*"))
        q = substitute(expr, args.rate_interval)
        if reason:
            skipped.append((fname, title, ref, reason))
            continue
        if args.target == "vigil" and longest_range(q) > parse_duration(args.max_range):
            skipped.append((fname, title, ref, f"range longer than vigil's window ({args.max_range})"))
            continue
        checks.append((fname, title, ref, q))
    if not checks:
        print("no queries found", file=sys.stderr)
        return 1

    pending = list(checks)
    last = {}
    deadline = time.monotonic() + args.wait
    while True:
        still = []
        for c in pending:
            n, err = query(args.url, c[3])
            last[c] = (n, err)
            if err or not n:
                still.append(c)
        pending = still
        # a query error never fixes itself: stop waiting when only errors remain
        if not pending or time.monotonic() >= deadline or all(last[c][1] for c in pending):
            break
        time.sleep(2)

    for fname, title, ref, reason in skipped:
        print(f"skip  {fname} / {title} / {ref}: {reason}")
    for c in pending:
        n, err = last[c]
        print(f"FAIL  {c[0]} / {c[1]} / {c[2]}: {err or 'no data'}\n      {c[3]}")
    print(f"{len(checks) - len(pending)} of {len(checks)} panel queries returned data "
          f"({len(skipped)} skipped) from {args.url}")
    return 1 if pending else 0


if __name__ == "__main__":
    sys.exit(main())
