#!/usr/bin/env python3
"""The demo's timeline and live view (python3 standard library only; run by scripts/demo.sh).

Runs shop-load scenarios one after another against the stack deploy/stack.sh started and, every
few seconds, shows shop's request rate, p95 latency, error ratio, cache hit ratio and pool usage
(from Prometheus), the top statement (vigil's /api/v1/postgres/statements), and the alerts:
pending/firing from vigil's /api/v1/alerts (when the agent serves it) and what Alertmanager
holds (/api/v2/alerts), with the times they started and resolved, and the notifications the
on-call receivers got (deploy/receivers.py: pager, chat, email), as they arrive. Ends with a
summary that lists each page with its delay from the start of the timeline item (the fault) it
arrived in, and when its resolved notification came.

    demo_timeline.py STACK_ENV SHOP_LOAD ITEM[:SECONDS],... [--refresh 3] [--rate 150]

An ITEM is a shop-load scenario, or a fault injected into the stack while shop gets steady load
(redis-freeze: Redis stopped with SIGSTOP, resumed at the item's end; lock-wait: one session
holds a row lock and another waits for it), or several joined by '+' that run at once
(e.g. redis-freeze+lock-wait:120; the shipped rules evaluate every 15 s and RedisDown and
PostgresLockWaitLong have `for: 1m`, so they fire 60-105 s into the fault).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from faults import FAULTS

# Default seconds per scenario; a scenario's interesting phase is a share of its run (see
# service/README.md): cache-flush a third, slow-query and pool-exhaustion a half.
DEFAULT_SECONDS = {"steady": 60, "redis-freeze": 120, "lock-wait": 120, "cache-flush": 360, "slow-query": 360,
                   "pool-exhaustion": 360, "recovery": 120, "error-burst": 180, "spike": 120, "stress": 150}
LOAD_SCENARIO = {"recovery": "steady"}  # timeline names that are shop-load scenarios by another name


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v.strip("'")
    return env


def get_json(url, timeout=2.0, data=None):
    try:
        req = urllib.request.Request(url, data=data)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.load(r)
    except (OSError, ValueError):
        return None


class Stack:
    def __init__(self, env):
        self.prom = env["PROMETHEUS_URL"]
        self.vigil = env["VIGIL_URL"]
        self.am = env["ALERTMANAGER_URL"]
        self.shop = env["SHOP_ADDR"]
        self.receivers = env.get("RECEIVERS_URL", "")
        if self.receivers.endswith(":"):  # stack.sh started no receivers
            self.receivers = ""

    def notifications(self):
        """What deploy/receivers.py recorded, oldest first ([] without receivers)."""
        body = get_json(self.receivers + "/notifications") if self.receivers else None
        return body if isinstance(body, list) else []

    def scalar(self, expr):
        body = get_json(self.prom + "/api/v1/query", data=urllib.parse.urlencode({"query": expr}).encode())
        try:
            res = body["data"]["result"]
            return float(res[0]["value"][1]) if res else None
        except (TypeError, KeyError, IndexError, ValueError):
            return None

    def top_statement(self):
        body = get_json(self.vigil + "/api/v1/postgres/statements")
        best = None
        try:
            for target in body["data"]:
                for st in target["data"]:
                    if st.get("datname") != "shop" or st.get("user") == "vigil":  # vigil's own reads
                        continue
                    if best is None or st["total_exec_seconds"] > best["total_exec_seconds"]:
                        best = st
        except (TypeError, KeyError):
            return None
        return best

    def vigil_alerts(self):
        """vigil's pending and firing alerts, or None while the agent has no /api/v1/alerts."""
        body = get_json(self.vigil + "/api/v1/alerts")
        try:
            return body["data"]["alerts"]
        except (TypeError, KeyError):
            return None

    def am_alerts(self):
        body = get_json(self.am + "/api/v2/alerts")
        return body if isinstance(body, list) else []


def fmt(v, kind):
    if v is None or v != v:
        return "-"
    if kind == "ms":
        return f"{v * 1000:.0f} ms" if v < 10 else f"{v:.1f} s"
    if kind == "pct":
        return f"{v * 100:.1f}%"
    if kind == "rate":
        return f"{v:.0f}/s"
    return f"{v:.0f}"


def alert_key(labels):
    name = labels.get("alertname", "?")
    rest = ",".join(f"{k}={v}" for k, v in sorted(labels.items())
                    if k not in ("alertname", "env", "severity", "service", "team", "job", "instance"))
    return f"{name}{{{rest}}}" if rest else name


class History:
    """Per alert: when vigil had it pending, when it fired, when it resolved."""

    def __init__(self, t0):
        self.t0 = t0
        self.alerts = {}  # key -> dict(state, pending, firing, resolved, severity)

    def rel(self, t):
        return f"+{int(t - self.t0)//60}:{int(t - self.t0)%60:02d}"

    def update(self, now, vigil_alerts, am_alerts):
        seen = set()
        for a in vigil_alerts or []:
            k = alert_key(a.get("labels", {}))
            seen.add(k)
            h = self.alerts.setdefault(k, {"pending": None, "firing": None, "resolved": None,
                                           "severity": a.get("labels", {}).get("severity", "")})
            state = a.get("state")
            if state == "pending" and h["pending"] is None:
                h["pending"] = now
            if state == "firing" and h["firing"] is None:
                h["firing"] = now
                h["pending"] = h["pending"] or now
            h["resolved"] = None
            h["state"] = state
        for a in am_alerts:
            k = alert_key(a.get("labels", {}))
            status = (a.get("status") or {}).get("state", "active")
            if status == "unprocessed":
                continue
            seen.add(k)
            h = self.alerts.setdefault(k, {"pending": None, "firing": None, "resolved": None,
                                           "severity": a.get("labels", {}).get("severity", "")})
            if h["firing"] is None:
                h["firing"] = now
            if h.get("am_firing") is None:
                h["am_firing"] = now
            h["resolved"] = None
            h["state"] = "firing"
        for k, h in self.alerts.items():
            if k not in seen and h["resolved"] is None:
                h["resolved"] = now
                h["state"] = "resolved" if h["firing"] else "inactive"

    def lines(self):
        out = []
        for k, h in sorted(self.alerts.items(), key=lambda kv: kv[1]["pending"] or kv[1]["firing"] or 0):
            parts = []
            if h["pending"]:
                parts.append(f"pending {self.rel(h['pending'])}")
            if h["firing"]:
                parts.append(f"firing {self.rel(h['firing'])}")
            if h["resolved"]:
                parts.append(f"{'resolved' if h['firing'] else 'cleared'} {self.rel(h['resolved'])}")
            out.append(f"  {h.get('state', '?'):9} {k:50.50} {h['severity']:8} {'  '.join(parts)}")
        return out


def item_at(ran, t):
    """The timeline item (name, start) that was running at time t (the last one started by then)."""
    current = None
    for name, start in ran:
        if start <= t:
            current = (name, start)
    return current


def notification_line(n, t0):
    rel = int(n["received"] - t0)
    return (f"  +{rel // 60}:{rel % 60:02d} {n.get('receiver', '?'):36.36} {n.get('status', '?'):8} "
            f"{','.join(n.get('alerts') or ['?'])}")


def pages(notifications, ran, t0):
    """Per receiver and alert: the first firing notification, the item it arrived in, the seconds
    from that item's start to it, and the first resolved notification after it (or None)."""
    out = {}
    for n in sorted(notifications, key=lambda n: n["received"]):
        for alert in n.get("alerts") or ["?"]:
            key = (n.get("receiver", "?"), alert)
            p = out.get(key)
            if n.get("status") == "firing" and p is None:
                item = item_at(ran, n["received"]) or ("before the timeline", t0)
                out[key] = {"receiver": key[0], "alert": alert, "kind": n.get("kind"), "at": n["received"] - t0,
                            "item": item[0], "after_item_start": n["received"] - item[1], "resolved_after_item_start": None,
                            "resolved_at": None, "_start": item[1]}
            elif n.get("status") == "resolved" and p is not None and p["resolved_at"] is None:
                p["resolved_at"] = n["received"] - t0
                p["resolved_after_item_start"] = n["received"] - p["_start"]
    return [{k: v for k, v in p.items() if k != "_start"} for p in out.values()]


def pages_summary(notifications, ran, t0):
    """The summary's lines about notifications: what the on-call engineer received."""
    got = pages(notifications, ran, t0)
    if not got:
        return ["no notification reached the receivers"]
    lines = [f"notifications the on-call engineer received ({len(notifications)} in all; delays from the start of "
             "the timeline item they arrived in):"]
    for p in sorted(got, key=lambda p: (p["kind"] != "pager", p["at"])):
        end = (f", resolved after {p['resolved_after_item_start']:.0f} s" if p["resolved_at"] is not None
               else ", not resolved by the end")
        lines.append(f"  {p['receiver']:36.36} {p['alert']:28} {p['after_item_start']:4.0f} s into {p['item']}{end}")
    return lines


def snapshot(stack):
    s = '{job="shop"}'
    w = "30s"
    return {
        "rate": stack.scalar(f"sum(rate(http_request_duration_seconds_count{s}[{w}]))"),
        "p95": stack.scalar(f"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{s}[{w}])))"),
        "errors": stack.scalar(f'(sum(rate(http_request_duration_seconds_count{{job="shop",status=~"5.."}}[{w}])) or vector(0))'
                               f" / (sum(rate(http_request_duration_seconds_count{s}[{w}])) > 0)"),
        "db_p95": stack.scalar(f"histogram_quantile(0.95, sum by (le) (rate(db_query_duration_seconds_bucket{s}[{w}])))"),
        "hit": stack.scalar(f'sum(rate(cache_requests_total{{job="shop",result="hit"}}[{w}]))'
                            f" / (sum(rate(cache_requests_total{s}[{w}])) > 0)"),
        "pool_used": stack.scalar(f'sum(db_client_connection_count{{job="shop",state="used"}})'),
        "pool_max": stack.scalar(f"sum(db_client_connection_max{s})"),
        "pending": stack.scalar(f"sum(db_client_connection_pending_requests{s})"),
        "timeouts": stack.scalar(f"sum(increase(db_client_connection_timeouts_total{s}[{w}]))"),
    }


def render(tty, stack, history, phase, elapsed, total, m, top, vigil_has_alerts, notes=(), new_notes=()):
    pool = "-"
    if m["pool_used"] is not None and m["pool_max"]:
        pool = f"{m['pool_used']:.0f}/{m['pool_max']:.0f} ({m['pool_used'] / m['pool_max'] * 100:.0f}%)"
    top_line = "-"
    if top:
        q = " ".join(top.get("query", "").split())
        top_line = (f"{top['total_exec_seconds'] / max(top.get('interval_seconds') or 1, 1e-9):.2f} s/s, "
                    f"mean {top['mean_exec_seconds'] * 1000:.1f} ms, {top['calls']:.0f} calls: {q[:90]}")
    firing = [k for k, h in history.alerts.items() if h.get("state") == "firing"]
    pending = [k for k, h in history.alerts.items() if h.get("state") == "pending"]
    if not tty:
        print(f"[{history.rel(time.time())}] {phase:16} req {fmt(m['rate'], 'rate'):>7}  p95 {fmt(m['p95'], 'ms'):>8}  "
              f"5xx {fmt(m['errors'], 'pct'):>6}  cache {fmt(m['hit'], 'pct'):>6}  pool {pool:>12} "
              f"waiting {fmt(m['pending'], 'n'):>3}  alerts: {len(firing)} firing, {len(pending)} pending  "
              f"top: {top_line[:60]}", flush=True)
        for n in new_notes:
            print("notification" + notification_line(n, history.t0)[1:], flush=True)
        return
    cols = shutil.get_terminal_size((120, 40)).columns
    lines = [
        f"vigil demo  phase: {phase}  ({elapsed:.0f}/{total:.0f} s)",
        "-" * min(cols, 110),
        f"requests  {fmt(m['rate'], 'rate'):>8}   p95 {fmt(m['p95'], 'ms'):>9}   5xx {fmt(m['errors'], 'pct'):>6}   "
        f"db p95 {fmt(m['db_p95'], 'ms'):>9}",
        f"cache hit {fmt(m['hit'], 'pct'):>8}   pool {pool:>14}   waiting {fmt(m['pending'], 'n'):>3}   "
        f"timeouts/30s {fmt(m['timeouts'], 'n')}",
        f"top statement  {top_line}"[: cols - 1],
        "",
        "alerts" + ("" if vigil_has_alerts else "  (vigil serves no /api/v1/alerts yet: Alertmanager's view only)"),
    ]
    lines += history.lines() or ["  none yet"]
    lines += ["", f"notifications received ({len(notes)}; the last 8; {stack.receivers}/)"]
    lines += [notification_line(n, history.t0) for n in list(notes)[-8:]] or ["  none yet"]
    lines += ["", f"vigil {stack.vigil}   Prometheus {stack.prom}   Alertmanager {stack.am}   (Ctrl-C stops)"]
    sys.stdout.write("\x1b[H\x1b[2J" + "\n".join(lines) + "\n")
    sys.stdout.flush()


def parse_timeline(spec, short):
    out = []
    for item in spec.split(","):
        name, _, secs = item.strip().partition(":")
        if not name:
            continue
        parts = name.split("+")
        seconds = float(secs) if secs else max(DEFAULT_SECONDS.get(p, 120) for p in parts)
        if short and not secs:
            seconds = max(SHORT_SECONDS.get(p, min(seconds, 60)) for p in parts)
        out.append((name, seconds))
    return out


# --short: about 11 minutes. slow-query is the longest: its slow half must outlast the shipped
# rules' `for: 2m` plus a rate window, so APILatencyP95High / DatabaseQueryLatencyHigh fire.
SHORT_SECONDS = {"steady": 20, "redis-freeze": 120, "lock-wait": 120, "cache-flush": 45, "slow-query": 330,
                 "pool-exhaustion": 90, "recovery": 60}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stack_env")
    ap.add_argument("shop_load")
    ap.add_argument("timeline")
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--refresh", type=float, default=3)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--summary-file")
    args = ap.parse_args()

    env = read_env(args.stack_env)
    stack = Stack(env)
    timeline = parse_timeline(args.timeline, args.short)
    tty = sys.stdout.isatty()
    t0 = time.time()
    history = History(t0)
    total = sum(s for _, s in timeline)
    log_dir = os.path.dirname(os.path.abspath(args.stack_env))
    child = None
    stopping = {"flag": False}

    def on_signal(signum, _frame):
        stopping["flag"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    vigil_has_alerts = False
    ran = []
    active_faults = []
    seen_notes = 0
    try:
        for name, seconds in timeline:
            if stopping["flag"]:
                break
            parts = name.split("+")
            loads = [LOAD_SCENARIO.get(p, p) for p in parts if p not in FAULTS]
            scenario = loads[0] if loads else "steady"
            faults = [FAULTS[p](env, seconds) for p in parts if p in FAULTS]
            cmd = [args.shop_load, "--target", stack.shop, "--scenario", scenario,
                   "--duration", f"{int(seconds)}s", "--quiet"]
            # pool-exhaustion: 8x the rate of slow reports, 24 connections against a pool of 10
            conc = 24 if scenario == "pool-exhaustion" else args.concurrency
            cmd += ["--rate", str(args.rate), "--concurrency", str(conc)]
            log = open(os.path.join(log_dir, f"load-{len(ran)}-{name}.log"), "w")
            child = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
            start = time.time()
            ran.append((name, start))
            for f in faults:
                active_faults.append(f)
                f.start()
            while child.poll() is None and not stopping["flag"]:
                now = time.time()
                valerts = stack.vigil_alerts()
                vigil_has_alerts = vigil_has_alerts or valerts is not None
                history.update(now, valerts, stack.am_alerts())
                notes = stack.notifications()
                render(tty, stack, history, name, now - t0, total, snapshot(stack), stack.top_statement(),
                       vigil_has_alerts, notes, notes[seen_notes:])
                seen_notes = len(notes)
                deadline = now + args.refresh
                while time.time() < deadline and child.poll() is None and not stopping["flag"]:
                    time.sleep(0.2)
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            log.close()
            child = None
            while active_faults:
                active_faults.pop().stop()
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        while active_faults:
            active_faults.pop().stop()

    # the last look: alerts still resolving are shown as they are now
    history.update(time.time(), stack.vigil_alerts(), stack.am_alerts())
    summary = ["", f"vigil demo: {'stopped' if stopping['flag'] else 'timeline done'} after "
                   f"{int(time.time() - t0)} s; scenarios: " + ", ".join(f"{n} at {history.rel(t)}" for n, t in ran)]
    fired = {k: h for k, h in history.alerts.items() if h["firing"]}
    if fired:
        summary.append("alerts that fired:")
        for k, h in fired.items():
            end = f"resolved {history.rel(h['resolved'])}" if h["resolved"] else "still firing"
            summary.append(f"  {k}: firing {history.rel(h['firing'])}, {end}")
    else:
        summary.append("no alert fired" + ("" if vigil_has_alerts else
                                           " (vigil does not evaluate rules yet: no /api/v1/alerts)"))
    only_pending = [k for k, h in history.alerts.items() if not h["firing"]]
    if only_pending:
        summary.append("pending but never fired: " + ", ".join(only_pending))
    notes = stack.notifications()
    summary += pages_summary(notes, ran, t0)
    text = "\n".join(summary)
    print(text, flush=True)
    if args.summary_file:
        with open(args.summary_file, "w") as f:
            json.dump({"scenarios": [n for n, _ in ran], "interrupted": stopping["flag"],
                       "alerts": {k: {x: (h[x] - t0 if h[x] else None) for x in ("pending", "firing", "resolved")}
                                  | {"alertmanager_firing": h["am_firing"] - t0 if h.get("am_firing") else None}
                                  for k, h in history.alerts.items()},
                       "notifications": pages(notes, ran, t0)}, f, indent=1)
    return 130 if stopping["flag"] else 0


if __name__ == "__main__":
    sys.exit(main())
