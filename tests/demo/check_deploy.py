#!/usr/bin/env python3
"""Offline checks of the demo's deployment files (no Docker engine needed):
- `docker-compose -f docker-compose.yml config -q` accepts the file (docker-compose 1.29.2);
- every file or directory it mounts or builds from exists;
- `promtool check config` on deploy/prometheus.yml, `amtool check-config` on deploy/alertmanager.yml;
- `vigil check config deploy/vigil.yml` with the environment docker-compose gives vigil, and
  with the one deploy/stack.sh gives it natively;
- the dashboards are what dashboards/generate.py writes, and every dashboard the provisioning
  loads parses;
- each Dockerfile's build stage installs every -dev package (and protobuf-compiler) of
  scripts/install-deps.sh, and its runtime stage the Debian package of every library its
  binaries link directly (readelf NEEDED -> dpkg -S);
- what each Dockerfile COPYs exists and is not excluded by .dockerignore, no image runs as
  root, every flag of an ENTRYPOINT/CMD and of compose's `command` is one the binary's --help
  lists, and every published port is on 127.0.0.1 and is the port the service listens on
  (and the one its healthcheck asks).
  The images themselves are built and run by scripts/build-images.sh (buildah, no registry).
    check_deploy.py REPO VIGIL_BINARY SHOP_BINARY SHOP_LOAD_BINARY
"""
import fnmatch
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

repo, vigil = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
shop_binaries = [os.path.abspath(a) for a in sys.argv[3:5]]
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


# The images: what each Dockerfile copies exists and is not excluded from the context, the
# image does not run as root, and every flag its entrypoint and compose's command pass is one
# the binary knows; every published port is the one the service listens on.
with open(os.path.join(repo, ".dockerignore")) as f:
    ignored = [l.strip().rstrip("/") for l in f if l.strip() and not l.startswith("#")]


def help_flags(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return set(re.findall(r"--([a-z][a-z0-9.-]*)", p.stdout + p.stderr))


def flags_of(words):
    return {w[2:].split("=", 1)[0] for w in words if w.startswith("--")}


known = {
    "vigil": help_flags([vigil, "--help"]),
    "shop serve": help_flags([shop_binaries[0], "serve", "--help"]),
    "shop seed": help_flags([shop_binaries[0], "--help"]),
    "shop-load": help_flags([shop_binaries[1], "--help"]),
}


def check_flags(where, program, words):
    unknown = sorted(flags_of(words) - known[program])
    if unknown:
        failures.append(f"{where} flags")
        print(f"FAIL {where}: {program} has no flag {', '.join('--' + u for u in unknown)}")


listens = {}  # service -> the port its process listens on inside the container
for name, svc in resolved["services"].items():
    build = svc.get("build")
    if not build:
        continue
    dockerfile = os.path.join(build["context"], build.get("dockerfile", "Dockerfile"))
    with open(dockerfile) as f:
        text = f.read().replace("\\\n", " ")
    rel = os.path.relpath(dockerfile, repo)
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] != "COPY" or any(w.startswith("--from") for w in words):
            continue
        for src in [w for w in words[1:-1] if not w.startswith("--")]:
            if src == ".":
                continue
            if not glob.glob(os.path.join(build["context"], src)):
                failures.append(f"{rel} COPY {src}")
                print(f"FAIL {rel}: COPY {src}: not in the build context")
            if any(fnmatch.fnmatch(src, i) or src.startswith(i + "/") for i in ignored):
                failures.append(f"{rel} COPY {src} ignored")
                print(f"FAIL {rel}: COPY {src} is excluded by .dockerignore")
    users = re.findall(r"^USER (\S+)", text, re.M)
    if not users or users[-1] in ("root", "0"):
        failures.append(f"{rel} user")
        print(f"FAIL {rel}: the image runs as root")
    entry = re.findall(r"^ENTRYPOINT (.*)$", text, re.M)
    cmd = re.findall(r"^CMD (.*)$", text, re.M)
    entry = json.loads(entry[-1]) if entry else []
    cmd = json.loads(cmd[-1]) if cmd else []
    command = svc.get("command", cmd)
    if isinstance(command, str):
        command = shlex.split(command)
    if entry == ["/usr/local/bin/vigil"]:
        check_flags(f"{rel} CMD", "vigil", cmd)
        check_flags(f"docker-compose.yml {name} command", "vigil", command)
        listen = svc.get("environment", {}).get("VIGIL_LISTEN", "")
        listens[name] = listen.rsplit(":", 1)[-1]
    elif entry[:2] == ["/bin/sh", "-c"]:  # shop: seed, then serve
        for part in entry[2].split("&&"):
            words = shlex.split(part.replace("exec ", ""))
            program = "shop " + words[1]
            check_flags(f"{rel} ENTRYPOINT ({program})", program, words[2:])
            if words[1] == "serve":
                listen = [w for w in words if w.startswith("0.0.0.0:")]
                listens[name] = listen[0].rsplit(":", 1)[-1] if listen else ""
    elif "--http-port" in cmd:  # receivers
        listens[name] = cmd[cmd.index("--http-port") + 1]
for name, svc in resolved["services"].items():
    if svc.get("entrypoint") == ["shop-load"]:
        check_flags(f"docker-compose.yml {name} command", "shop-load", svc.get("command", []))
# Third-party images listen on their defaults.
listens.update({"alertmanager": "9093", "prometheus": "9090", "grafana": "3000"})
for name, svc in resolved["services"].items():
    for p in svc.get("ports", []):
        target = str(p["target"] if isinstance(p, dict) else p.rsplit(":", 1)[-1]).split("/")[0]
        published_on = p.get("host_ip", "") if isinstance(p, dict) else p.split(":")[0]
        if listens.get(name) != target:
            failures.append(f"{name} port {target}")
            print(f"FAIL {name} publishes {target}, but listens on {listens.get(name)}")
        if published_on != "127.0.0.1":
            failures.append(f"{name} port {target} host")
            print(f"FAIL {name} publishes {target} beyond loopback")
    hc = " ".join(svc.get("healthcheck", {}).get("test", []))
    m = re.search(r"127\.0\.0\.1:(\d+)", hc)
    if m and listens.get(name) and m.group(1) != listens[name]:
        failures.append(f"{name} healthcheck port")
        print(f"FAIL {name}'s healthcheck asks :{m.group(1)}, it listens on {listens[name]}")
print(f"ok   images: COPY sources, users, entrypoint and command flags, ports ({len(listens)} services)")


def stage_packages(stage_text):
    """Packages of the `apt-get install` lines of one Dockerfile stage."""
    text = stage_text.replace("\\\n", " ")
    out = set()
    for line in text.splitlines():
        if "apt-get install" in line:
            words = line.split("apt-get install", 1)[1].split("&&")[0].split()
            out.update(w for w in words if not w.startswith("-"))
    return out


def needed_packages(binary):
    """Debian packages of the libraries `binary` links directly."""
    needed = [l.split("[")[1].rstrip("]") for l in subprocess.run(
        ["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout.splitlines()
        if "(NEEDED)" in l]
    # Sanitizer runtimes (the asan/tsan presets run this check too) are not the product's.
    needed = [l for l in needed if not l.startswith(("libasan", "libubsan", "libtsan"))]
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    out = set()
    for lib in needed:
        paths = [l.split("=>")[1].strip() for l in cache.splitlines()
                 if l.strip().startswith(lib + " ") and "x86-64" in l]
        if not paths:
            out.add("?" + lib)
            continue
        # dpkg knows a library by the path its package ships (/lib or /usr/lib: usrmerge).
        candidates = {paths[0], os.path.realpath(paths[0])}
        candidates |= {c.replace("/usr/lib/", "/lib/", 1) for c in list(candidates)}
        owner = None
        for c in sorted(candidates):
            r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
            if r.returncode == 0:
                owner = r.stdout.split(":")[0]
                break
        out.add(owner or "?" + lib)
    return out


with open(os.path.join(repo, "scripts/install-deps.sh")) as f:
    deps_text = f.read()
deps = set(deps_text.split("packages=(", 1)[1].split(")", 1)[0].split())
build_needs = {p for p in deps if p.endswith("-dev") and not p.startswith("libclang")} | {"protobuf-compiler"}
in_base_image = {"libc6", "libstdc++6", "libgcc-s1"}  # Essential or apt's own dependencies
for dockerfile, binaries in (("docker/vigil.Dockerfile", [vigil]), ("docker/shop.Dockerfile", shop_binaries)):
    with open(os.path.join(repo, dockerfile)) as f:
        stages = f.read().split("\nFROM ")
    build_stage, runtime_stage = stage_packages(stages[-2]), stage_packages(stages[-1])
    missing = sorted(build_needs - build_stage)
    for b in binaries:
        missing += sorted(f"{p} (runtime, for {os.path.basename(b)})"
                          for p in needed_packages(b) - runtime_stage - in_base_image)
    if missing:
        failures.append(dockerfile)
        print(f"FAIL {dockerfile} lacks: {', '.join(missing)}")
    else:
        print(f"ok   {dockerfile}: build and runtime packages")

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
