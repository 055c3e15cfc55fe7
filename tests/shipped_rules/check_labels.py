#!/usr/bin/env python3
"""Every shipped alert carries what routing and the notifications need (docs/on-call.md):
labels severity (critical, warning or info), service and team (one of deploy/alertmanager.yml's
teams), and annotations summary, description and runbook_url (docs/alerts.md#<name in lower case>).

    check_labels.py RULES_DIR
"""
import glob
import os
import sys

import yaml

SEVERITIES = {"critical", "warning", "info"}
TEAMS = {"app", "database", "platform"}  # the team routes of deploy/alertmanager.yml
SERVICES = {"api", "postgres", "redis", "process", "vigil"}

problems, alerts = [], 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.yml"))):
    with open(path) as f:
        doc = yaml.safe_load(f)
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            if "alert" not in rule:
                continue
            alerts += 1
            name = rule["alert"]
            where = f"{os.path.basename(path)}: {name}"
            labels = rule.get("labels") or {}
            annotations = rule.get("annotations") or {}
            if labels.get("severity") not in SEVERITIES:
                problems.append(f"{where}: severity {labels.get('severity')!r} not in {sorted(SEVERITIES)}")
            if labels.get("team") not in TEAMS:
                problems.append(f"{where}: team {labels.get('team')!r} not in {sorted(TEAMS)}")
            if labels.get("service") not in SERVICES:
                problems.append(f"{where}: service {labels.get('service')!r} not in {sorted(SERVICES)}")
            for a in ("summary", "description", "runbook_url"):
                if not annotations.get(a):
                    problems.append(f"{where}: no {a} annotation")
            if annotations.get("runbook_url") not in (None, f"docs/alerts.md#{name.lower()}"):
                problems.append(f"{where}: runbook_url is not docs/alerts.md#{name.lower()}")
for p in problems:
    print("FAIL", p)
if alerts == 0:
    print(f"FAIL no alerts found in {sys.argv[1]}")
    sys.exit(1)
print(f"{alerts} alerts, {len(problems)} problems")
sys.exit(1 if problems else 0)
