#!/usr/bin/env python3
"""Offline checks of the demo's deployment files (no Docker engine needed):
- `docker-compose -f docker-compose.yml config -q` accepts the file (docker-compose 1.29.2);
- every file or directory it mounts or builds from exists;
- `promtool check config` on deploy/prometheus.yml, `amtool check-config` on deploy/alertmanager.yml;
- `vigil check config deploy/vigil.yml` with the environment docker-compose gives vigil, and
  with the one deploy/stack.sh gives it natively;
- the dashboards are what dashboards/generate.py writes, and every dashboard the provisioning
  loads parses.
    check_deploy.py REPO VIGIL_BINARY
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

repo, vigil = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
failures = []


def run(name, cmd, env=None, cwd=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd or repo, timeout=120)
    status = "ok  " if p.returncode == 0 else "FAIL"
    print(f"{status} {name}")
    if p.returncode != 0:
        failures.append(name)
        sys.stdout.write(p.stdout + p.stderr)
    return p


for tool in ("docker-compose", "promtool", "amtool"):
    if not shutil.which(tool):
        print(f"FAIL {tool} is not installed (scripts/install-deps.sh installs it)")
        sys.exit(1)

compose_file = os.path.join(repo, "docker-compose.yml")
run("docker-compose config -q", ["docker-compose", "-f", compose_file, "config", "-q"])
resolved = yaml.safe_load(run("docker-compose config", ["docker-compose", "-f", compose_file, "config"]).stdout)

for name, svc in resolved["services"].items():
    for v in svc.get("volumes", []):
        src = v["source"] if isinstance(v, dict) else v.split(":")[0]
        if src.startswith("/") and not os.path.exists(src):
            failures.append(f"{name} mounts {src}")
            print(f"FAIL {name} mounts {src}, which does not exist")
    build = svc.get("build")
    if build:
        dockerfile = os.path.join(build["context"], build.get("dockerfile", "Dockerfile"))
        if not os.path.isfile(dockerfile):
            failures.append(f"{name} dockerfile")
            print(f"FAIL {name} builds from {dockerfile}, which does not exist")
        else:
            with open(dockerfile) as f:
                text = f.read()
            if "FROM debian:bookworm" not in text:
                failures.append(f"{name} base image")
                print(f"FAIL {dockerfile} does not build from debian:bookworm")
print(f"ok   {len(resolved['services'])} services, mounted files exist")

# Prometheus reads targets/*.json next to its config: check a copy with the compose targets.
with tempfile.TemporaryDirectory() as tmp:
    shutil.copy(os.path.join(repo, "deploy/prometheus.yml"), tmp)
    shutil.copytree(os.path.join(repo, "deploy/compose/targets"), os.path.join(tmp, "targets"))
    os.mkdir(os.path.join(tmp, "rules"))
    shutil.copy(os.path.join(repo, "rules/shipped/vigil.yml"), os.path.join(tmp, "rules"))
    run("promtool check config deploy/prometheus.yml", ["promtool", "check", "config", os.path.join(tmp, "prometheus.yml")])
run("amtool check-config deploy/alertmanager.yml", ["amtool", "check-config", "deploy/alertmanager.yml"])

# vigil.yml with the compose environment of the vigil service and with the native one.
compose_env = {k: str(v) for k, v in resolved["services"]["vigil"]["environment"].items()}
native_env = {
    "VIGIL_LISTEN": "127.0.0.1:9633", "VIGIL_COLLECT_INTERVAL": "2s", "VIGIL_EVALUATION_INTERVAL": "2s",
    "VIGIL_STATEMENTS_INTERVAL": "4s", "VIGIL_RULES_DIR": os.path.join(repo, "rules/shipped"),
    "PG_HOST": "127.0.0.1", "PG_PORT": "5432", "PG_PASSWORD": "vigil", "REDIS_ADDR": "127.0.0.1:6379",
    "SHOP_ADDR": "127.0.0.1:8080", "ALERTMANAGER_URL": "http://127.0.0.1:9093",
    "PG_PROCESS": "vigil-demo-5432", "REDIS_PROCESS": r"^redis-server 127\.0\.0\.1:6379",
    "SHOP_PROCESS": r"shop serve --listen 127\.0\.0\.1:8080",
}
with open(os.path.join(repo, "deploy/stack.sh")) as f:
    stack = f.read()
for var in native_env:  # the native values here mirror deploy/stack.sh: keep the lists in step
    if var not in stack:
        failures.append(f"stack.sh {var}")
        print(f"FAIL deploy/stack.sh does not set {var}")
missing = set(native_env) - set(compose_env)
if missing:
    failures.append("compose env")
    print(f"FAIL docker-compose.yml's vigil lacks {sorted(missing)}")
compose_env["VIGIL_RULES_DIR"] = os.path.join(repo, "rules/shipped")  # the mount's source
for label, env in (("compose", compose_env), ("native", native_env)):
    full = dict(os.environ, **env)
    run(f"vigil check config deploy/vigil.yml ({label} environment)",
        [vigil, "check", "config", os.path.join(repo, "deploy/vigil.yml")], env=full)

run("dashboards/generate.py --check", [sys.executable, os.path.join(repo, "dashboards/generate.py"), "--check"])
prov = os.path.join(repo, "dashboards/provisioning")
for root, _, files in os.walk(prov):
    for f in files:
        with open(os.path.join(root, f)) as fh:
            yaml.safe_load(fh)
for f in os.listdir(os.path.join(repo, "dashboards")):
    if f.endswith(".json"):
        with open(os.path.join(repo, "dashboards", f)) as fh:
            d = json.load(fh)
        if d["templating"]["list"][0]["name"] != "datasource":
            failures.append(f"{f} datasource variable")
            print(f"FAIL {f}: the first variable is not $datasource")
print("ok   provisioning and dashboards parse")

if failures:
    print(f"{len(failures)} problems")
    sys.exit(1)
