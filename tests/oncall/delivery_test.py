#!/usr/bin/env python3
"""The page proven to arrive: shipped alerts fired by vigil, routed by deploy/alertmanager.yml in
a real Alertmanager, delivered to deploy/receivers.py (pager webhook, Slack webhook, SMTP sink).

Everything runs on 127.0.0.1 and free ports: a Redis of its own, the receivers, Alertmanager
with the shipped config (test overlay: group_wait 1s, group_interval 2s, no mute intervals, so
the test cannot land in the maintenance window) and vigil with the shipped cache.yml and
vigil.yml (overlay: rule groups every 1s, every `for` 2s); Redis holds 20 MB so the ratio
of used memory to maxmemory the test sets stays put. Then, each step waited for with a
deadline:
  1. Redis memory at ~92% of maxmemory: RedisMemoryHigh/warning reaches chat-database only.
  2. ~97%: RedisMemoryHigh/critical pages pager-database and mails database-oncall, with its
     summary, description, runbook and status-page link; the warning is inhibited.
  3. maxmemory 0: the page and the mail are followed by their resolved notifications.
  4. Redis stopped: RedisDown pages pager-database; VigilCollectorDown{collector="redis"}
     fires at vigil but is inhibited at Alertmanager and reaches no receiver.
  5. Redis back: RedisDown's resolved notification reaches pager-database.

    delivery_test.py REPO VIGIL_BINARY
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

repo, vigil_bin = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
PYTHON_DEBIAN = os.environ.get("PYTHON_DEBIAN", "/usr/bin/python3")  # where python3-aiosmtpd is
procs = []
failures = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return json.load(r)
    except (OSError, ValueError):
        return None


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def wait(what, pred, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = pred()
        if v:
            print(f"ok   {what}", flush=True)
            return v
        time.sleep(0.25)
    raise AssertionError(f"timed out after {seconds} s: {what}")


def check(what, cond):
    print(f"{'ok  ' if cond else 'FAIL'} {what}", flush=True)
    if not cond:
        failures.append(what)


def spawn(name, cmd, tmp):
    log = open(os.path.join(tmp, f"{name}.log"), "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    procs.append((name, p, log.name))
    return p


def redis(port, *args):
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args], capture_output=True,
                          text=True, timeout=10).stdout.strip()


def start_redis(port, tmp):
    p = spawn("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                        "--appendonly", "no", "--dir", tmp], tmp)
    wait(f"redis on :{port}", lambda: redis(port, "ping") == "PONG", 10)
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def overlay_alertmanager(tmp, http_port, smtp_port):
    with open(os.path.join(repo, "deploy/alertmanager.yml")) as f:
        text = f.read()
    text = text.replace("receivers:9095", f"127.0.0.1:{http_port}").replace("receivers:2525", f"127.0.0.1:{smtp_port}")
    cfg = yaml.safe_load(text)

    def fast(route):
        for k, v in (("group_wait", "1s"), ("group_interval", "2s"), ("repeat_interval", "1h")):
            if k in route or route is cfg["route"]:
                route[k] = v
        route.pop("mute_time_intervals", None)
        for r in route.get("routes", []):
            fast(r)

    fast(cfg["route"])
    with open(os.path.join(tmp, "alertmanager.yml"), "w") as f:
        yaml.safe_dump(cfg, f)
    shutil.copy(os.path.join(repo, "deploy/alertmanager.tmpl"), tmp)


def overlay_rules(tmp):
    os.mkdir(os.path.join(tmp, "rules"))
    for name in ("cache.yml", "vigil.yml"):
        with open(os.path.join(repo, "rules/shipped", name)) as f:
            text = f.read()
        text = re.sub(r"(?m)^(\s+interval:) \S+$", r"\1 1s", text)
        text = re.sub(r"(?m)^(\s+for:) \S+$", r"\1 2s", text)
        with open(os.path.join(tmp, "rules", name), "w") as f:
            f.write(text)


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-oncall-")
    redis_port, http_port, smtp_port, am_port, vigil_port = (free_port() for _ in range(5))
    receivers = f"http://127.0.0.1:{http_port}"
    am = f"http://127.0.0.1:{am_port}"
    vigil = f"http://127.0.0.1:{vigil_port}"
    try:
        rp = start_redis(redis_port, tmp)
        spawn("receivers", [PYTHON_DEBIAN, os.path.join(repo, "deploy/receivers.py"), "--http-port", str(http_port),
                            "--smtp-port", str(smtp_port), "--log", os.path.join(tmp, "notifications.jsonl")], tmp)
        wait("receivers ready", lambda: get_json(receivers + "/notifications") == [], 10)
        overlay_alertmanager(tmp, http_port, smtp_port)
        spawn("alertmanager", ["prometheus-alertmanager", f"--config.file={tmp}/alertmanager.yml",
                               f"--storage.path={tmp}/am-data", f"--web.listen-address=127.0.0.1:{am_port}",
                               "--cluster.listen-address="], tmp)
        wait("alertmanager ready", lambda: get_json(am + "/api/v2/status"), 20)
        overlay_rules(tmp)
        with open(os.path.join(tmp, "vigil.yml"), "w") as f:
            f.write("global: {collect_interval: 1s, evaluation_interval: 1s, external_labels: {env: oncall-test}}\n"
                    f"web: {{listen_address: \"127.0.0.1:{vigil_port}\"}}\n"
                    f"redis:\n  - {{name: cache, address: \"127.0.0.1:{redis_port}\", timeout: 500ms}}\n"
                    "rule_files: [rules/*.yml]\n"
                    f"alerting: {{alertmanagers: [\"{am}\"], resend_delay: 1s}}\n")
        spawn("vigil", [vigil_bin, f"--config.file={tmp}/vigil.yml"], tmp)
        wait("vigil ready", lambda: http_ok(vigil + "/-/ready"), 20)

        def notes(**want):
            got = get_json(receivers + "/notifications") or []
            return [n for n in got if all(
                (v in n.get("alerts", []) if k == "alert" else n.get(k) == v) for k, v in want.items())]

        def used_ratio_to(r):
            used = int(re.search(r"used_memory:(\d+)", redis(redis_port, "info", "memory")).group(1))
            redis(redis_port, "config", "set", "maxmemory", str(int(used / r)))

        # 20 MB of data, so the few kB each client connection takes do not move the ratio
        redis(redis_port, "setrange", "ballast", "20000000", "x")
        wait("vigil collects Redis memory",
             lambda: (get_json(vigil + "/api/v1/query?query=redis_memory_used_bytes") or {}).get("data", {}).get("result"), 20)

        # 1. warning -> chat only
        used_ratio_to(0.925)
        wait("RedisMemoryHigh/warning reaches chat-database",
             lambda: notes(receiver="chat-database", status="firing", alert="RedisMemoryHigh"), 40)
        n = notes(receiver="chat-database", alert="RedisMemoryHigh")[0]
        check("the chat message says warning, gives summary, runbook and status page",
              "warning" in n["title"] and "maxmemory" in n["text"] and "Runbook: docs/alerts.md#redismemoryhigh" in n["text"]
              and f"Status page: {vigil}/#alerts" in n["text"])
        check("channel #database-alerts", n.get("channel") == "#database-alerts")
        check("the warning paged nobody", not notes(kind="pager") and not notes(kind="email"))

        # 2. critical -> pager + email; the warning inhibited
        used_ratio_to(0.975)
        page = wait("RedisMemoryHigh/critical pages pager-database",
                    lambda: notes(receiver="pager-database", status="firing", alert="RedisMemoryHigh"), 40)[0]
        d = page["details"][0]
        check("the page carries severity, team, summary, description, runbook, status page",
              d["labels"].get("severity") == "critical" and d["labels"].get("team") == "database"
              and "maxmemory" in (d["summary"] or "") and d["description"]
              and d["runbook_url"] == "docs/alerts.md#redismemoryhigh" and d["status_page"] == f"{vigil}/#alerts")
        mail = wait("and mails database-oncall", lambda: notes(receiver="email:database-oncall@vigil.example",
                                                               status="firing", alert="RedisMemoryHigh"), 20)[0]
        check("the mail has the summary and runbook", "Runbook: docs/alerts.md#redismemoryhigh" in mail["text"])

        def inhibited(name, **labels):
            got = get_json(am + "/api/v2/alerts?filter=alertname%3D%22" + name + "%22") or []
            return [a for a in got if all(a["labels"].get(k) == v for k, v in labels.items())
                    and a["status"]["inhibitedBy"]]

        wait("the warning is inhibited by the critical one at Alertmanager",
             lambda: inhibited("RedisMemoryHigh", severity="warning"), 20)
        check("no other receiver was notified", {n["receiver"] for n in notes()} ==
              {"chat-database", "pager-database", "email:database-oncall@vigil.example"})

        # 3. resolved
        redis(redis_port, "config", "set", "maxmemory", "0")
        wait("pager-database gets RedisMemoryHigh resolved",
             lambda: notes(receiver="pager-database", status="resolved", alert="RedisMemoryHigh"), 40)
        wait("and so does the mail", lambda: notes(receiver="email:database-oncall@vigil.example", status="resolved",
                                                   alert="RedisMemoryHigh"), 20)

        # 4. Redis down: one page; its collector's alert inhibited
        redis(redis_port, "shutdown", "nosave")
        rp.wait(timeout=10)
        wait("RedisDown pages pager-database", lambda: notes(receiver="pager-database", status="firing",
                                                              alert="RedisDown"), 40)

        def collector_down_firing():
            body = get_json(vigil + "/api/v1/alerts") or {}
            return [a for a in body.get("data", {}).get("alerts", [])
                    if a["labels"].get("alertname") == "VigilCollectorDown" and a.get("state") == "firing"]

        wait("VigilCollectorDown{collector=redis} fires at vigil", collector_down_firing, 30)
        wait("and is inhibited at Alertmanager", lambda: inhibited("VigilCollectorDown", collector="redis"), 20)
        time.sleep(4)  # two group intervals: it would have been delivered by now
        check("VigilCollectorDown reached no receiver", not notes(alert="VigilCollectorDown"))

        # 5. Redis back on its port
        start_redis(redis_port, tmp)
        wait("pager-database gets RedisDown resolved", lambda: notes(receiver="pager-database", status="resolved",
                                                                      alert="RedisDown"), 40)
        check("VigilCollectorDown still reached no receiver", not notes(alert="VigilCollectorDown"))
        for n in notes():
            print(f"     {n['receiver']:40} {n['status']:8} {','.join(n['alerts'])}")
    except AssertionError as e:
        failures.append(str(e))
        print(f"FAIL {e}", flush=True)
    finally:
        if failures:
            print("--- vigil's alerts:", json.dumps((get_json(vigil + "/api/v1/alerts") or {}).get("data")))
            print("--- Alertmanager's alerts:", json.dumps([(a["labels"], a["status"]) for a in get_json(am + "/api/v2/alerts") or []]))
            print("--- notifications:", json.dumps(get_json(receivers + "/notifications")))
            for name, _, log in procs:
                with open(log) as f:
                    tail = f.readlines()[-15:]
                print(f"--- last lines of {name}'s log\n" + "".join(tail))
        for name, p, _ in reversed(procs):
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
