#!/usr/bin/env python3
"""Checks what scripts/demo.sh --record left: alerts fired at Alertmanager and resolved, a page
reached a pager receiver (deploy/receivers.py) and the summary lists it, and the stack is gone.
check_demo_run.py RECORD_DIR SHIPPED_RULES_DIR"""
import glob
import json
import os
import socket
import sys

import yaml


def shipped_alert_names(rules_dir):
    names = set()
    for path in glob.glob(os.path.join(rules_dir, "*.yml")):
        for group in (yaml.safe_load(open(path)) or {}).get("groups", []):
            names.update(r["alert"] for r in group.get("rules", []) if "alert" in r)
    return names


def main():
    record, rules_dir = sys.argv[1:3]
    failures = []
    shipped = shipped_alert_names(rules_dir)
    if not shipped:
        failures.append(f"no alerting rules found under {rules_dir}")
    summary = json.load(open(os.path.join(record, "summary.json")))
    if summary.get("interrupted"):
        failures.append("the timeline was interrupted")
    fired_and_resolved = set()
    for key, h in summary["alerts"].items():
        name = key.split("{", 1)[0]
        at_am, resolved = h.get("alertmanager_firing"), h.get("resolved")
        if at_am is not None and resolved is not None and resolved > at_am:
            if name not in shipped:
                failures.append(f"{name} fired but is not a shipped alert")
            fired_and_resolved.add(name)
        print(f"{key}: at Alertmanager {at_am}, resolved {resolved}")
    print(f"fired at Alertmanager and resolved: {sorted(fired_and_resolved)}")
    if len(fired_and_resolved & shipped) < 3:
        failures.append(f"expected at least 3 distinct shipped alerts fired and resolved, "
                        f"got {sorted(fired_and_resolved)}")

    # The incident paged someone, and the summary says who, for what, and how fast.
    pages = [p for p in summary.get("notifications", []) if p.get("kind") == "pager"]
    for p in summary.get("notifications", []):
        print(f"notification: {p}")
    if not pages:
        failures.append("no page reached a pager receiver during the demo")
    for p in pages:
        if p.get("alert") not in shipped or not p.get("receiver", "").startswith("pager-"):
            failures.append(f"unexpected page {p}")

    # Nothing the demo started runs any more, and its ports are closed.
    with open(os.path.join(record, "pids")) as f:
        pids = [line.split() for line in f if line.strip()]
    if len(pids) < 6:
        failures.append(f"expected 6 recorded processes, got {pids}")
    for name, pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            failures.append(f"{name} (pid {pid}) still runs: {cmd}")
        except FileNotFoundError:
            pass
    env = dict(line.strip().split("=", 1) for line in open(os.path.join(record, "stack.env")) if "=" in line)
    ports = {}
    for key, value in env.items():
        if key.endswith("_PORT") and value:
            ports[key] = int(value)
        elif key.endswith(("_URL", "_ADDR")) and value:
            ports[key] = int(value.rstrip("/").rsplit(":", 1)[1])
    if len(ports) < 6:
        failures.append(f"expected the ports of 6 servers in stack.env, got {ports}")
    for key, port in ports.items():
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                failures.append(f"{key} {port} still accepts connections")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
