#!/usr/bin/env python3
"""End-to-end test of the status page in headless Chromium against a running vigil.

vigil runs on the harness's PostgreSQL (with statement load and a real lock wait), a live
Redis, a Redis target on a closed port (so one collector is down and an alert fires), the
agent's own process group and a rule file. The test loads every tab, asserts on the rendered
DOM, checks that user data is never parsed as HTML, and saves screenshots under --artifacts.

Needs tests/support/with-servers.sh (VIGIL_TEST_PG_PORT, VIGIL_TEST_REDIS_PORT,
VIGIL_TEST_ALERTMANAGER_URL) and chromium; fails loudly when either is missing.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser  # noqa: E402

MARKER = "statuspage_marker"
XSS_LABEL = '<img src=x onerror="window.__xss=1">'
RULES = """
groups:
  - name: statuspage
    interval: 1s
    rules:
      - alert: StatusPageRedisDown
        expr: vigil_collector_up{collector="redis"} == 0
        labels:
          severity: page
          note: '%(xss)s'
        annotations:
          summary: 'Redis target {{ $labels.target }} is down'
          description: 'vigil cannot reach {{ $labels.target }} (value {{ $value }}).'
          runbook_url: https://runbooks.example/redis-down
      - alert: StatusPagePostgresWatched
        expr: vigil_collector_up{collector="postgres"} == 1
        for: 1h
        annotations:
          summary: 'stays pending for an hour'
          runbook_url: 'javascript:window.__xss=2'
      - record: statuspage:collectors_up:sum
        expr: sum(vigil_collector_up)
""" % {"xss": XSS_LABEL}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def wait_for(check, timeout, what):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = check()
            if last:
                return last
        except (OSError, urllib.error.URLError, ValueError) as e:
            last = e
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what} (last: {last})")


class Env:
    """vigil and the PostgreSQL sessions it watches; stop() ends exactly what start() began."""

    def __init__(self, vigil_bin):
        self.vigil_bin = vigil_bin
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="vigil-statuspage-")
        self.pg_port = os.environ["VIGIL_TEST_PG_PORT"]
        self.db = f"statuspage_{os.getpid()}"

    def psql(self, sql, db=None, background=False):
        cmd = ["psql", "-h", "127.0.0.1", "-p", self.pg_port, "-U", "postgres", "-d", db or self.db,
               "-qAt", "-v", "ON_ERROR_STOP=1"]
        env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
        if background:
            # From a file: a script larger than the pipe buffer would block this write until
            # psql had run most of it.
            path = os.path.join(self.dir, f"background-{len(self.procs)}.sql")
            with open(path, "w") as f:
                f.write(sql)
            p = subprocess.Popen(cmd + ["-f", path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=env)
            self.procs.append(p)
            return p
        return subprocess.run(cmd + ["-c", sql], check=True, env=env, capture_output=True, text=True).stdout

    def start(self):
        self.psql(f"CREATE DATABASE {self.db}", db="postgres")
        self.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")  # per database
        self.psql("CREATE TABLE sp_items (id int PRIMARY KEY, name text); "
                  "INSERT INTO sp_items SELECT g, 'item ' || g FROM generate_series(1, 2000) g")
        # Statement load for the whole test: a distinctive statement, many times.
        load = "".join(f"SELECT count(*) AS {MARKER} FROM sp_items WHERE id > {i % 50} AND name LIKE 'item%';\n"
                       f"SELECT pg_sleep(0.05);\n" for i in range(2400))
        self.psql(load, background=True)
        # A lock wait: one session holds a row lock, another waits for it (a row lock, not a
        # table lock, so vigil's own catalog reads are not blocked).
        self.psql("BEGIN; UPDATE sp_items SET name = 'held' WHERE id = 1; SELECT pg_sleep(600);\n",
                  background=True)
        time.sleep(0.5)
        self.psql("UPDATE sp_items SET name = 'waiting' WHERE id = 1;\n", background=True)

        self.port = free_port()
        closed_port = free_port()  # nothing listens there: the "broken-cache" target is down
        with open(os.path.join(self.dir, "rules.yml"), "w") as f:
            f.write(RULES)
        with open(os.path.join(self.dir, "vigil.yml"), "w") as f:
            f.write(f"""
global: {{collect_interval: 1s, evaluation_interval: 1s, external_labels: {{env: statuspage}}}}
web: {{listen_address: 127.0.0.1:{self.port}}}
postgres:
  - name: main
    dsn: "host=127.0.0.1 port={self.pg_port} dbname={self.db} user=postgres"
    statements: {{top_n: 20, interval: 2s}}
redis:
  - {{name: cache, address: "127.0.0.1:{os.environ['VIGIL_TEST_REDIS_PORT']}"}}
  - {{name: broken-cache, address: "127.0.0.1:{closed_port}", timeout: 500ms}}
process:
  - {{name: vigil, match: {{self: true}}}}
rule_files: [rules.yml]
alerting: {{alertmanagers: ["{os.environ['VIGIL_TEST_ALERTMANAGER_URL']}"], resend_delay: 1s}}
""")
        self.log = open(os.path.join(self.dir, "vigil.log"), "w")
        self.vigil = subprocess.Popen([self.vigil_bin, "--config.file=" + os.path.join(self.dir, "vigil.yml")],
                                      stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        for p in [getattr(self, "vigil", None), *reversed(self.procs)]:
            if p is None or p.poll() is not None:
                continue
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        try:
            self.psql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)", db="postgres")
        except subprocess.CalledProcessError as e:
            print("dropping the test database:", e.stderr, file=sys.stderr)

    def dump_log(self):
        for path in ("/api/v1/collectors", "/api/v1/postgres/statements", "/api/v1/alerts"):
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as r:
                    print(f"--- {path}\n" + r.read().decode()[:3000], file=sys.stderr)
            except (OSError, AttributeError) as e:
                print(f"--- {path}: {e}", file=sys.stderr)
        try:
            with open(os.path.join(self.dir, "vigil.log")) as f:
                print("--- vigil log (last lines)\n" + "".join(f.readlines()[-30:]), file=sys.stderr)
        except OSError:
            pass


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def run(env, browser, artifacts):
    url = env.url
    # vigil has real data: every collector ran, the alert fires, statements and the lock wait
    # were collected.
    wait_for(lambda: urllib.request.urlopen(url + "/-/ready", timeout=5).status == 200, 30, "vigil ready")
    wait_for(lambda: any(a["labels"].get("alertname") == "StatusPageRedisDown" and a["state"] == "firing"
                         for a in get_json(url + "/api/v1/alerts")["data"]["alerts"]), 30, "the alert firing")
    wait_for(lambda: any(MARKER in s["query"] for t in get_json(url + "/api/v1/postgres/statements")["data"]
                         for s in t["data"]), 40, "the marker statement in /api/v1/postgres/statements")
    wait_for(lambda: any(t["data"]["waiting"] for t in get_json(url + "/api/v1/postgres/blocking")["data"]),
             30, "a lock wait in /api/v1/postgres/blocking")
    time.sleep(3)  # a few more samples for the charts

    def show(tab, ready, what):
        browser.navigate(f"{url}/#{tab}")
        browser.wait(ready, what=what)

    def shot(name):
        path = os.path.join(artifacts, name + ".png")
        browser.screenshot(path)
        print("screenshot:", path)

    # Overview: every collector with its state; the closed port shown as down with its error.
    show("overview", "document.querySelectorAll('table.collectors tbody tr').length >= 5", "collector rows")
    rows = browser.eval("""Array.from(document.querySelectorAll('table.collectors tbody tr')).map(r => ({
        id: r.dataset.collector, up: r.dataset.up, state: r.querySelector('.collector-state').textContent,
        error: r.querySelector('.collector-error').textContent}))""")
    by_id = {r["id"]: r for r in rows}
    for cid in ("postgres/main", "redis/cache", "process/vigil"):
        check(by_id.get(cid, {}).get("state") == "up", f"{cid} should be shown up: {by_id.get(cid)}")
    broken = by_id.get("redis/broken-cache")
    check(broken and broken["state"] == "down" and broken["up"] == "false", f"broken-cache should be down: {broken}")
    check(broken["error"].strip() != "", "the down collector should show its last error")
    shot("overview")

    # Alerts: the firing alert with rendered annotations and its runbook; user data as text.
    show("alerts", "document.querySelector('table.alerts.firing tr[data-alertname=\"StatusPageRedisDown\"]')",
         "the firing alert")
    firing = browser.eval("document.querySelector('table.alerts.firing').innerText")
    check("Redis target broken-cache is down" in firing, "the summary annotation should be rendered: " + firing)
    check(XSS_LABEL in firing, "a label value with markup should show as text")
    check(browser.eval("document.querySelector('a.runbook').href") == "https://runbooks.example/redis-down",
          "the runbook link")
    pending = browser.wait("document.querySelector('table.alerts.pending tr[data-alertname=\"StatusPagePostgresWatched\"]')"
                           " && document.querySelector('table.alerts.pending').innerText", what="the pending alert")
    check("javascript:window.__xss=2" in pending, "a javascript: runbook_url should show as text")
    check(browser.eval("document.querySelectorAll('main img, a[href^=\"javascript\"]').length") == 0,
          "no element may come from user data")
    check(browser.eval("window.__xss === undefined"), "no injected script may run")
    shot("alerts")

    # Rules: the group, each rule's health, state, last evaluation.
    show("rules", "document.querySelectorAll('table.rules tr.rule').length === 3", "three rules")
    rules = browser.eval("""Array.from(document.querySelectorAll('table.rules tr.rule')).map(r =>
        Array.from(r.cells).map(c => c.innerText.trim()))""")
    names = [r[0] for r in rules]
    check(names == ["StatusPageRedisDown", "StatusPagePostgresWatched", "statuspage:collectors_up:sum"], f"rule names: {names}")
    check(all(r[2] == "ok" for r in rules), f"every rule should be healthy: {rules}")
    check(rules[0][3] == "firing" and rules[1][3] == "pending", f"alert states: {rules}")
    check(all("ago" in r[5] or "just now" in r[5] for r in rules), f"last evaluation times: {rules}")
    check("statuspage" in browser.eval("document.querySelector('#rules h2').innerText"), "group name")
    shot("rules")

    # Top statements: the marker statement, sortable, full text on expansion.
    show("statements", f"Array.from(document.querySelectorAll('tr.statement')).some(r => r.innerText.includes('{MARKER}'))",
         "the marker statement")
    check(browser.eval("document.querySelector('th.sorted').dataset.sort") == "total_exec_seconds",
          "sorted by total time by default")
    browser.eval("document.querySelector('th[data-sort=\"calls\"]').click()")
    browser.wait("document.querySelector('th.sorted').dataset.sort === 'calls'", what="sorted by calls")
    calls = browser.eval("""Array.from(document.querySelectorAll('table.statements tr.statement'))
        .map(r => Number(r.cells[2].innerText.replace(/,/g, '')))""")
    check(calls == sorted(calls, reverse=True), f"calls should be in descending order: {calls}")
    browser.eval(f"Array.from(document.querySelectorAll('tr.statement')).find(r => r.innerText.includes('{MARKER}')).click()")
    text = browser.wait("document.querySelector('pre.statement-text') && "
                        "document.querySelector('pre.statement-text').innerText", what="the expanded text")
    check(MARKER in text and "sp_items" in text and "LIKE" in text, "the full normalized text: " + text)
    shot("statements")

    # Blocking: the waiting session and the session that blocks it.
    show("blocking", "document.querySelector('table.blocking tr.waiter')", "a lock waiter")
    waiter = browser.eval("document.querySelector('table.blocking tr.waiter').innerText")
    # Running statements are shown with their literals masked (they can hold secrets).
    check("UPDATE sp_items SET name = ? WHERE id = ?" in waiter and "ShareLock" in waiter
          and "transactionid" in waiter and "'waiting'" not in waiter,
          "the waiting query (literals masked) and its lock: " + waiter)
    check("pid " in waiter and "pg_sleep(?)" in waiter and "'held'" not in waiter and "idle" not in waiter,
          "the blocker and its query: " + waiter)
    shot("blocking")

    # Charts: vigil's own process has RSS and threads; the shop's charts say they have no data.
    show("charts", "document.querySelectorAll('.chart polyline').length >= 2 && "
         "document.querySelectorAll('.chart .no-data').length >= 1", "sparklines")
    charts = browser.eval("""Array.from(document.querySelectorAll('.chart')).map(c => ({
        title: c.dataset.chart, lines: c.querySelectorAll('polyline').length,
        nodata: !!c.querySelector('.no-data'), text: c.innerText}))""")
    by_title = {c["title"]: c for c in charts}
    rss = by_title["Resident memory by process group"]
    check(rss["lines"] >= 1 and "groupname=vigil" in rss["text"] and "MiB" in rss["text"], f"RSS chart: {rss}")
    check(by_title["Threads by process group"]["lines"] >= 1, "threads chart")
    check(by_title["Request latency p95"]["nodata"], "p95 without a scraped service says no data")
    shot("charts")

    # Query: a result table, markup in results as text, and the error text of a bad query.
    show("query", "document.activeElement && document.activeElement.id === 'query-input'", "the query box")
    browser.eval("document.getElementById('query-input').value = 'vigil_collector_up';"
                 "document.querySelector('#query-form button').click()")
    rows = browser.wait("document.querySelectorAll('table.query-result tr.result-row').length >= 4 && "
                        "Array.from(document.querySelectorAll('table.query-result tr.result-row')).map(r => r.innerText)",
                        what="query result rows")
    check(any('target="broken-cache"' in r and r.rstrip().endswith("0") for r in rows), f"the down target: {rows}")
    check(browser.eval("location.hash").startswith("#query?expr="), "the query is kept in the URL")
    shot("query")
    browser.navigate(url + "/#query?" + urllib.parse.urlencode(
        {"expr": 'label_replace(vector(1), "html", "<b>bold</b>", "", "")'}))
    # Wait for the new query's row, not the previous query's table still on the page.
    row = browser.wait("document.querySelector('table.query-result tr.result-row') && "
                       "document.querySelector('table.query-result tr.result-row').innerText.includes('bold') && "
                       "document.querySelector('table.query-result tr.result-row').innerText", what="label_replace row")
    check("<b>bold</b>" in row and browser.eval("document.querySelectorAll('#query-result b').length") == 0,
          "markup in a label value is text: " + row)
    browser.eval("document.getElementById('query-input').value = 'sum(rate(';"
                 "document.querySelector('#query-form button').click()")
    err = browser.wait("document.querySelector('.query-error') && document.querySelector('.query-error').innerText",
                       what="the query error")
    check(err.startswith("Error: bad_data"), "the error text of a bad query: " + err)
    shot("query-error")

    # The bad query's HTTP 400 is expected; anything else (exceptions, CSP violations, failed
    # loads) is a bug.
    errors = [e for e in browser.errors if not (e.startswith("network:") and "/api/v1/query?" in e)]
    check(not errors, "the page logged errors: " + "\n".join(errors))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args()
    missing = [v for v in ("VIGIL_TEST_PG_PORT", "VIGIL_TEST_REDIS_PORT", "VIGIL_TEST_ALERTMANAGER_URL")
               if not os.environ.get(v)]
    if missing:
        sys.exit("statuspage test: run it under tests/support/with-servers.sh (missing " + ", ".join(missing) + ")")
    if not os.access(args.chromium, os.X_OK):
        sys.exit(f"statuspage test: chromium not found at {args.chromium} (scripts/install-deps.sh installs it)")
    shutil.rmtree(args.artifacts, ignore_errors=True)  # no stale screenshots from an earlier run
    os.makedirs(args.artifacts)
    env = Env(args.vigil)
    browser = None
    ok = False
    try:
        env.start()
        browser = Browser(args.chromium)
        run(env, browser, args.artifacts)
        ok = True
    except Exception:
        traceback.print_exc()
        if browser is not None:
            try:
                browser.screenshot(os.path.join(args.artifacts, "failure.png"))
                print("failure screenshot:", os.path.join(args.artifacts, "failure.png"), file=sys.stderr)
            except Exception:
                pass
            if browser.errors:
                print("page errors:\n" + "\n".join(browser.errors), file=sys.stderr)
        env.dump_log()
    finally:
        if browser is not None:
            browser.close()
        env.stop()
        shutil.rmtree(env.dir, ignore_errors=True)
    print("statuspage test:", "passed" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
