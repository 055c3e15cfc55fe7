#!/usr/bin/env python3
"""Every shipped alert, at its severity, reaches the receiver docs/on-call.md promises, by
`amtool config routes test` on deploy/alertmanager.yml (Alertmanager 0.25's amtool):
critical -> pager-<team>, warning -> chat-<team>, info -> "null" (UI only); an alert without a
team falls back to chat-platform. Also: the production receivers docs/on-call.md shows (its
first yaml block) replace the shipped ones name for name and pass `amtool check-config`.

    check_routes.py REPO
"""
import glob
import os
import shutil
import subprocess
import re
import sys
import tempfile

import yaml

repo = os.path.abspath(sys.argv[1])
config = os.path.join(repo, "deploy/alertmanager.yml")
if not shutil.which("amtool"):
    print("FAIL amtool is not installed (scripts/install-deps.sh installs prometheus-alertmanager)")
    sys.exit(1)


def expected(labels):
    sev, team = labels.get("severity"), labels.get("team")
    if sev == "info":
        return "null"
    if sev == "critical":
        return f"pager-{team}" if team in ("app", "database") else "pager-platform"
    if sev == "warning":
        return f"chat-{team}" if team in ("app", "database") else "chat-platform"
    return "chat-platform"


cases = []  # (what, labels)
for path in sorted(glob.glob(os.path.join(repo, "rules/shipped/*.yml"))):
    with open(path) as f:
        doc = yaml.safe_load(f)
    for group in doc["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                labels = {"alertname": rule["alert"], **{k: str(v) for k, v in (rule.get("labels") or {}).items()}}
                cases.append((f"{os.path.basename(path)} {rule['alert']}/{labels.get('severity')}", labels))
# Routes no shipped alert takes today, so a change to them is caught too.
cases += [
    ("info alert", {"alertname": "SomethingToLookAt", "severity": "info", "team": "database"}),
    ("critical without team", {"alertname": "Custom", "severity": "critical"}),
    ("warning without team", {"alertname": "Custom", "severity": "warning"}),
    ("no severity", {"alertname": "Custom", "team": "app"}),
]

failures = 0
for what, labels in cases:
    want = expected(labels)
    args = [f"{k}={v}" for k, v in sorted(labels.items())]
    p = subprocess.run(["amtool", "config", "routes", "test", f"--config.file={config}",
                        f"--verify.receivers={want}", *args], capture_output=True, text=True, timeout=30)
    got = p.stdout.strip().splitlines()[0] if p.stdout.strip() else "?"
    if p.returncode != 0:
        failures += 1
        print(f"FAIL {what}: reaches {got}, expected {want}")
        sys.stdout.write(p.stderr)
    else:
        print(f"ok   {what} -> {got}")
print(f"{len(cases)} routes tested, {failures} wrong")

with open(os.path.join(repo, "docs/on-call.md")) as f:
    doc = yaml.safe_load(re.search(r"```yaml\n(.*?)```", f.read(), re.S).group(1))
with open(config) as f:
    shipped = yaml.safe_load(f)
shipped_names = {r["name"] for r in shipped["receivers"]} - {"null"}
doc_names = {r["name"] for r in doc["receivers"]}
if doc_names != shipped_names:
    failures += 1
    print(f"FAIL docs/on-call.md's receivers {sorted(doc_names)} are not the shipped {sorted(shipped_names)}")
shipped["global"].update(doc["global"])
shipped["receivers"] = [{"name": "null"}] + doc["receivers"]
with tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(tmp, "alertmanager.yml"), "w") as f:
        yaml.safe_dump(shipped, f)
    shutil.copy(os.path.join(repo, "deploy/alertmanager.tmpl"), tmp)
    p = subprocess.run(["amtool", "check-config", os.path.join(tmp, "alertmanager.yml")], capture_output=True,
                       text=True, timeout=30)
    if p.returncode != 0:
        failures += 1
        print("FAIL amtool check-config on the shipped routes with docs/on-call.md's receivers")
        sys.stdout.write(p.stdout + p.stderr)
    else:
        print("ok   docs/on-call.md's receivers pass amtool check-config with the shipped routes")
sys.exit(1 if failures else 0)
