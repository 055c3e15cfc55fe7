#!/usr/bin/env python3
"""A synthetic service fleet for bench/rules/run.sh: INSTANCES HTTP servers on 127.0.0.1,
each one instance of a service on PostgreSQL and Redis, serving ~1,000 series on /metrics in
the Prometheus text format (about 10,000 series for 10 instances).

  target.py --instances N --ports-file FILE [--seconds S]

Binds N free loopback ports, writes them (one a line) to FILE, and serves until S seconds
have passed (default 900) or it is signalled.

Counters are linear in wall time: counts grow by a whole number every second (of
round(t), t seconds since start, so a scraper whose scrapes are not near a half second sees
exactly linear values), *_seconds_total are linear floats, and each histogram bucket is such
a count. rate(), increase() and histogram_quantile() then give the same answer whenever two
scrapers sample them, to about 1e-3 (scrape jitter); gauges move (sine waves, a linear memory
leak on one instance), so *_over_time and predict_linear see changing data.
"""
import argparse
import bisect
import http.server
import math
import os
import threading
import time
import zlib

START = time.time()

ROUTES = ["/api/products", "/api/products/{id}", "/api/cart", "/api/cart/items",
          "/api/checkout", "/api/orders", "/api/orders/{id}", "/api/users/{id}",
          "/api/search", "/api/reviews", "/api/recommendations", "/api/inventory",
          "/api/payments", "/api/sessions", "/healthz", "/metrics"]
METHODS = ["GET", "POST"]
STATUSES = ["200", "400", "404", "500"]
LATENCY_LE = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
QUERIES = ["get_product", "list_products", "search_products", "get_cart", "add_cart_item",
           "create_order", "get_order", "list_orders", "get_user", "update_user",
           "list_reviews", "add_review", "get_inventory", "reserve_inventory",
           "release_inventory", "create_payment", "get_session", "touch_session",
           "recommend", "sales_report"]
DB_LE = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
STATEMENTS = [f"{q}_{i}" for q in QUERIES for i in (1, 2)]
REDIS_CMDS = ["get", "set", "del", "expire", "incr", "hget", "hset", "mget", "zadd", "zrange"]
CACHES = ["product", "cart", "session", "search", "recommendation"]


def unit(*key):
    """A stable pseudo-random number in [0, 1) for a key."""
    return (zlib.crc32("|".join(key).encode()) % 100003) / 100003


def lognormal_cdf(x, median, sigma):
    return 0.5 * (1 + math.erf(math.log(x / median) / (sigma * math.sqrt(2))))


class Instance:
    """One service instance: its series, as (name, labels, kind, params), built once."""

    def __init__(self, index, count):
        self.index = index
        self.count = count
        self.families = []  # (name, type, help, [(labels, fn(t))])
        self._build()

    def counter(self, rate, key, whole=True):
        """A counter growing by rate per second. whole: a count, growing by a whole number
        (at least 1) each whole second of round(t); otherwise a float, linear in t."""
        base = int(1000 + 1e5 * unit("base", *key))
        if not whole:
            return lambda t: base + rate * t
        step = max(1, round(rate))
        return lambda t: base + step * round(t)

    def histogram(self, name, helptext, labels_list):
        """labels_list: [(labels dict, rate per second, median seconds, sigma, le list)].
        Each bucket is a whole-count counter of its own (its share of the rate, rounded)."""
        rows = []
        for labels, rate, median, sigma, les in labels_list:
            base = int(1000 + 1e4 * unit("hbase", name, *labels.values()))
            total = max(1, round(rate))
            for le in les:
                f = lognormal_cdf(le, median, sigma)
                rows.append(({**labels, "le": fmt(le)},
                             (lambda b, s: lambda t: b + s * round(t))(int(f * base), round(f * total))))
            count = (lambda b, s: lambda t: b + s * round(t))(base, total)
            rows.append(({**labels, "le": "+Inf"}, count))
            mean = median * math.exp(sigma * sigma / 2)
            rows.append(({**labels, "__suffix": "_sum"},
                         (lambda b, s, m: lambda t: m * (b + s * t))(base, total, mean)))
            rows.append(({**labels, "__suffix": "_count"}, count))
        self.families.append((name, "histogram", helptext, rows))

    def _build(self):
        i = str(self.index)
        share = 1 / self.count
        # HTTP: requests by route, method, status; latency by route, method.
        reqs, lat = [], []
        for r_idx, route in enumerate(ROUTES):
            for method in METHODS:
                weight = 40 * share * (0.2 + 2 * unit("w", route, method))
                err = 0.05 if route == "/api/checkout" else 0.004 + 0.01 * unit("e", route)
                for status in STATUSES:
                    frac = {"200": 1 - 2 * err - 0.01, "400": 0.01, "404": err, "500": err}[status]
                    labels = {"route": route, "method": method, "status": status}
                    reqs.append((labels, self.counter(weight * frac * 10, (i, route, method, status))))
                median = 0.004 + 0.04 * unit("m", route)
                if route == "/api/search":
                    median = 0.3  # the slow route: its p99 is well above 0.5 s
                lat.append(({"route": route, "method": method}, weight * 10,
                            median, 0.6 + 0.4 * unit("s", route, method), LATENCY_LE))
        self.families.append(("http_requests_total", "counter", "HTTP requests.", reqs))
        self.histogram("http_request_duration_seconds", "HTTP request latency.", lat)
        inflight = [({}, lambda t, p=unit("if", i): 20 + 25 * math.sin(t / 40 + 6 * p))]
        self.families.append(("http_requests_in_flight", "gauge", "Requests in progress.", inflight))
        # PostgreSQL: query latency, pool, per-statement counters.
        db = [({"query": q}, 300 * share * (0.2 + unit("qr", q)),
               0.0008 + (0.08 if q == "sales_report" else 0.01) * unit("qm", q), 0.7, DB_LE)
              for q in QUERIES]
        self.histogram("db_query_duration_seconds", "Database query latency.", db)
        pool_max = 20
        phase = 6 * unit("pool", i)
        self.families.append(("db_pool_max_connections", "gauge", "Pool size.",
                              [({}, lambda t: pool_max)]))
        self.families.append(("db_pool_connections", "gauge", "Pool connections by state.", [
            ({"state": "used"}, lambda t: round(pool_max * (0.55 + 0.4 * math.sin(t / 30 + phase)))),
            ({"state": "idle"}, lambda t: pool_max - round(pool_max * (0.55 + 0.4 * math.sin(t / 30 + phase)))),
        ]))
        self.families.append(("db_pool_waiters", "gauge", "Callers waiting for a connection.", [
            ({}, lambda t: max(0, round(4 * math.sin(t / 30 + phase) - 1)))]))
        calls, secs = [], []
        for s in STATEMENTS:
            c = 200 * share * (0.05 + unit("sc", s))
            calls.append(({"statement": s}, self.counter(c, (i, "calls", s))))
            secs.append(({"statement": s}, self.counter(c * 0.01 * unit("sm", s), (i, "secs", s), False)))
        self.families.append(("db_statement_calls_total", "counter", "Statement executions.", calls))
        self.families.append(("db_statement_seconds_total", "counter", "Statement time.", secs))
        # Redis.
        cmds, cmd_secs = [], []
        for c in REDIS_CMDS:
            r = 400 * share * (0.1 + unit("rc", c))
            cmds.append(({"cmd": c}, self.counter(r, (i, "rc", c))))
            cmd_secs.append(({"cmd": c}, self.counter(r * 0.0002 * (1 + 10 * unit("rl", c)), (i, "rs", c), False)))
        self.families.append(("redis_commands_processed_total", "counter", "Redis commands.", cmds))
        self.families.append(("redis_commands_duration_seconds_total", "counter",
                              "Redis command time.", cmd_secs))
        hits, misses = [], []
        for c in CACHES:
            r = 200 * share * (0.2 + unit("cr", c))
            ratio = 0.8 if c == "search" else 0.95 + 0.04 * unit("ch", c)
            hits.append(({"cache": c}, self.counter(r * ratio, (i, "hit", c))))
            misses.append(({"cache": c}, self.counter(r * (1 - ratio), (i, "miss", c))))
        self.families.append(("cache_hits_total", "counter", "Cache hits.", hits))
        self.families.append(("cache_misses_total", "counter", "Cache misses.", misses))
        self.families.append(("redis_connected_clients", "gauge", "Redis client connections.", [
            ({}, lambda t: 10 + round(5 * math.sin(t / 50 + phase)))]))
        # Process.
        leak = 50e3 if self.index == 0 else 0.0  # instance 0 leaks 50 kB/s
        rss0 = 80e6 + 40e6 * unit("rss", i)
        started = START - (120 if self.index == 1 else 86400)  # instance 1 restarted lately
        self.families += [
            ("process_cpu_seconds_total", "counter", "CPU time.",
             [({}, self.counter(0.05 + 0.3 * unit("cpu", i), (i, "cpu"), False))]),
            ("process_resident_memory_bytes", "gauge", "Resident memory.",
             [({}, lambda t: round(rss0 + leak * t + 2e6 * math.sin(t / 20)))]),
            ("process_open_fds", "gauge", "Open file descriptors.",
             [({}, lambda t: 900 if self.index == 2 else 120 + round(10 * math.sin(t / 25)))]),
            ("process_max_fds", "gauge", "Maximum file descriptors.", [({}, lambda t: 1024)]),
            ("process_start_time_seconds", "gauge", "Start time.", [({}, lambda t: started)]),
        ]

    def render(self):
        t = time.time() - START
        out = []
        for name, kind, helptext, rows in self.families:
            out.append(f"# HELP {name} {helptext}\n# TYPE {name} {kind}\n")
            for labels, fn in rows:
                labels = dict(labels)
                suffix = labels.pop("__suffix", "_bucket" if "le" in labels else "")
                lbl = ",".join(f'{k}="{v}"' for k, v in labels.items())
                out.append(f"{name}{suffix}{{{lbl}}} {fmt(fn(t))}\n" if lbl
                           else f"{name}{suffix} {fmt(fn(t))}\n")
        return "".join(out).encode()


def fmt(v):
    return repr(float(v)) if v != int(v) or abs(v) >= 1e15 else str(int(v))


def serve(instance, sock_server):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server's name)
            body = instance.render() if self.path == "/metrics" else b"not found\n"
            self.send_response(200 if self.path == "/metrics" else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    sock_server.RequestHandlerClass = Handler
    sock_server.serve_forever(poll_interval=0.5)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--instances", type=int, default=10)
    p.add_argument("--ports-file", required=True)
    p.add_argument("--seconds", type=float, default=900)
    a = p.parse_args()
    servers = []
    for idx in range(a.instances):
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
        s.daemon_threads = True
        servers.append(s)
        threading.Thread(target=serve, args=(Instance(idx, a.instances), s), daemon=True).start()
    with open(a.ports_file + ".tmp", "w") as f:
        f.write("".join(f"{s.server_address[1]}\n" for s in servers))
    os.replace(a.ports_file + ".tmp", a.ports_file)
    time.sleep(a.seconds)


if __name__ == "__main__":
    main()
