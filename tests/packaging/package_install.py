#!/usr/bin/env python3
"""The Debian package, end to end on this machine (root; the test PostgreSQL and Redis).

Builds vigil_<version>_amd64.deb with CPack from BUILD_DIR, checks its control data and
lintian, installs it with apt-get, checks what postinst made, verifies the unit
(systemd-analyze verify, security --offline), runs the unit's ExecStart as the vigil user with
the unit's capabilities against the test servers and scrapes /metrics (and again without the
capabilities, to show what they are for), reloads it with SIGHUP, then purges the package and
checks that nothing it made is left.

usage: package_install.py BUILD_DIR
env:   VIGIL_TEST_PG_PORT, VIGIL_TEST_REDIS_PORT (tests/support/with-servers.sh)
"""
import glob
import grp
import os
import pwd
import re
import shlex
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77  # ctest SKIP_RETURN_CODE
failures = []

# What the package installs and purge must remove, besides dpkg's own list.
MADE_BY_SCRIPTS = ["/var/lib/vigil", "/etc/vigil"]
ENABLEMENT = [
    "/etc/systemd/system/multi-user.target.wants/vigil.service",
    "/var/lib/systemd/deb-systemd-helper-enabled/vigil.service.dsh-also",
    "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/vigil.service",
    "/var/lib/systemd/deb-systemd-helper-masked/vigil.service",
]


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def run(cmd, timeout=300, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode("utf-8", "replace")
    except OSError:
        return None


def sample(metrics, name, labels):
    """The value of the first sample of `name` whose labels contain every pair in `labels`."""
    for line in (metrics or "").splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    return None


def unit_value(unit_text, key):
    values = [l.split("=", 1)[1] for l in unit_text.splitlines() if l.startswith(key + "=")]
    return values[-1] if values else None


def run_agent(argv, caps, config_text, workdir, want):
    """Runs argv as the vigil user (with `caps` as ambient capabilities, or none) until `want`
    holds for its /metrics (at most 30 s); returns (metrics, process, port)."""
    port = free_port()
    config = os.path.join(workdir, "vigil.yml")
    with open(config, "w") as f:
        f.write(re.sub(r"listen_address: \S+", f"listen_address: 127.0.0.1:{port}", config_text))
    os.chmod(config, 0o644)
    argv = [a.replace("/etc/vigil/vigil.yml", config) for a in argv]
    setpriv = ["setpriv", "--reuid=vigil", "--regid=vigil", "--init-groups", "--no-new-privs"]
    if caps:
        c = ",".join("+" + x.lower().removeprefix("cap_") for x in caps)
        setpriv += [f"--inh-caps={c}", f"--ambient-caps={c}", f"--bounding-set=-all,{c}"]
    else:
        setpriv += ["--inh-caps=-all", "--bounding-set=-all"]
    log = open(os.path.join(workdir, "vigil.log"), "w")
    proc = subprocess.Popen(setpriv + argv, stdout=log, stderr=subprocess.STDOUT)
    metrics = None
    deadline = time.time() + 30
    while time.time() < deadline and proc.poll() is None:
        metrics = get(f"http://127.0.0.1:{port}/metrics")
        if metrics and want(metrics):
            break
        time.sleep(0.5)
    return metrics, proc, port


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    build_dir = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("skipped: installing a package needs root (CI runs as root)")
        return SKIP
    pg_port = os.environ.get("VIGIL_TEST_PG_PORT")
    redis_port = os.environ.get("VIGIL_TEST_REDIS_PORT")
    if not pg_port or not redis_port:
        print("needs the test servers: run under tests/support/with-servers.sh")
        return 2
    if run(["dpkg-query", "-W", "-f=${Status}", "vigil"]).stdout.startswith("install ok"):
        print("vigil is installed on this machine already; this test installs and purges it")
        return 2

    work = tempfile.mkdtemp(prefix="vigil-package-")
    os.chmod(work, 0o755)

    # 1. The package.
    r = run(["cpack", "-G", "DEB", "--config", os.path.join(build_dir, "CPackConfig.cmake"),
             "-B", work])
    debs = glob.glob(os.path.join(work, "vigil_*_amd64.deb"))
    if not check(r.returncode == 0 and len(debs) == 1, "cpack builds vigil_<version>_amd64.deb"):
        print(r.stdout[-3000:], r.stderr[-3000:])
        return 1
    deb = debs[0]
    fields = run(["dpkg-deb", "-f", deb]).stdout
    depends = re.search(r"^Depends: (.*)$", fields, re.M)
    depends = depends.group(1) if depends else ""
    # Computed by dpkg-shlibdeps from the binary, not written by hand.
    for lib in ["libpq5", "libhiredis0.14", "libssl3", "libyaml-cpp0.7", "libre2-9",
                "libprotobuf32", "libsnappy1v5", "libc6"]:
        check(lib in depends, f"Depends names {lib} (dpkg-shlibdeps)")
    files = run(["dpkg-deb", "-c", deb]).stdout
    for path in ["./usr/bin/vigil", "./etc/vigil/vigil.yml", "./lib/systemd/system/vigil.service",
                 "./usr/share/vigil/rules/postgres.yml", "./usr/share/vigil/dashboards/overview.json",
                 "./usr/share/man/man1/vigil.1.gz", "./usr/share/doc/vigil/copyright",
                 "./usr/share/doc/vigil/configuration.md"]:
        check(re.search(r"\s" + re.escape(path) + r"$", files, re.M) is not None, f"deb holds {path}")
    conffiles = run(["dpkg-deb", "--info", deb, "conffiles"]).stdout.split()
    check(conffiles == ["/etc/vigil/vigil.yml"], "/etc/vigil/vigil.yml is a conffile")

    # 2. lintian: no error or warning (informational tags are explained in packaging/README.md).
    r = run(["lintian", "--no-tag-display-limit", deb])
    bad = [l for l in r.stdout.splitlines() if l[:2] in ("E:", "W:")]
    check(not bad, "lintian: no errors or warnings" + ("".join("\n  " + l for l in bad)))

    try:
        # 3. Install, as a user would.
        r = run(["apt-get", "install", "-y", "--no-install-recommends", deb],
                env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if not check(r.returncode == 0, "apt-get install ./vigil_*.deb"):
            print(r.stdout[-3000:], r.stderr[-3000:])
            return 1
        try:
            user = pwd.getpwnam("vigil")
            check(user.pw_uid < 1000 and user.pw_shell.endswith("nologin"),
                  f"postinst made the vigil system user (uid {user.pw_uid}, {user.pw_shell})")
        except KeyError:
            check(False, "postinst made the vigil system user")
            return 1
        st = os.stat("/etc/vigil/vigil.yml")
        check(stat.S_IMODE(st.st_mode) == 0o640 and st.st_uid == 0 and
              st.st_gid == grp.getgrnam("vigil").gr_gid,
              "/etc/vigil/vigil.yml is root:vigil 0640 (it may hold passwords)")
        st = os.stat("/var/lib/vigil")
        check(st.st_uid == user.pw_uid, "/var/lib/vigil belongs to vigil")

        r = run(["/usr/bin/vigil", "--version"])
        check(r.returncode == 0 and re.search(r"vigil version \d+\.\d+\.\d+", r.stdout) is not None,
              "vigil --version: " + r.stdout.strip())
        r = run(["/usr/bin/vigil", "check", "config", "/etc/vigil/vigil.yml"])
        rules = re.search(r"(\d+) rules", r.stdout)
        check(r.returncode == 0 and "SUCCESS" in r.stdout and rules and int(rules.group(1)) > 50,
              "vigil check config /etc/vigil/vigil.yml loads the shipped rules: " +
              (r.stdout + r.stderr).strip())
        r = run(["man", "-P", "cat", "vigil"], env=dict(os.environ, MANWIDTH="80"))
        check(r.returncode == 0 and "--config.file" in r.stdout, "man vigil")

        # 4. The unit.
        unit_path = "/lib/systemd/system/vigil.service"
        unit = open(unit_path).read()
        r = run(["systemd-analyze", "verify", unit_path])
        check(r.returncode == 0 and not (r.stdout + r.stderr).strip(),
              "systemd-analyze verify vigil.service" + (r.stdout + r.stderr))
        r = run(["systemd-analyze", "security", "--offline=yes", unit_path])
        level = re.search(r"Overall exposure level for vigil.service: ([\d.]+)", r.stdout)
        check(level is not None and float(level.group(1)) <= 2.5,
              "systemd-analyze security: exposure " + (level.group(1) if level else "?") +
              " (bound 2.5; packaging/README.md)")
        check(unit_value(unit, "ExecReload") == "/bin/kill -HUP $MAINPID", "ExecReload sends SIGHUP")
        check(unit_value(unit, "Restart") == "on-failure", "Restart=on-failure")
        caps = (unit_value(unit, "AmbientCapabilities") or "").split()
        check(sorted(caps) == ["CAP_DAC_READ_SEARCH", "CAP_SYS_PTRACE"] and
              sorted((unit_value(unit, "CapabilityBoundingSet") or "").split()) == sorted(caps),
              "the unit grants only CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH")
        argv = shlex.split(unit_value(unit, "ExecStart"))

        # 5. The unit's command line as the vigil user against the test servers, with the
        # packaged configuration pointed at them (the rules and storage path as installed).
        config = open("/etc/vigil/vigil.yml").read()
        config = re.sub(r'dsn: "[^"]*"',
                        f'dsn: "host=127.0.0.1 port={pg_port} dbname=postgres user=postgres '
                        'connect_timeout=3"', config)
        config = re.sub(r"address: 127.0.0.1:6379", f"address: 127.0.0.1:{redis_port}", config)
        up = lambda m, c: sample(m, "vigil_collector_up", {"collector": c, "target": "local"})
        fds = lambda m: sample(m, "namedprocess_namegroup_open_filedesc", {"groupname": "postgres"})
        ready = lambda m: up(m, "postgres") == 1 and up(m, "redis") == 1 and (fds(m) or 0) > 0
        metrics, proc, port = run_agent(argv, caps, config, work, ready)
        try:
            check(proc.poll() is None, "vigil runs as the vigil user from the unit's ExecStart")
            check(up(metrics, "postgres") == 1, "PostgreSQL collected (vigil_collector_up 1)")
            check(up(metrics, "redis") == 1, "Redis collected (vigil_collector_up 1)")
            check(sample(metrics, "redis_up", {"target": "local"}) == 1, "redis_up 1")
            check((sample(metrics, "pg_up", {"target": "local"}) or 0) == 1, "pg_up 1")
            # PostgreSQL runs as the postgres user: its fd/ and smaps_rollup need the caps.
            check((fds(metrics) or 0) > 0, f"postgres group's open fds read ({fds(metrics)})")
            pss = sample(metrics, "namedprocess_namegroup_memory_bytes",
                         {"groupname": "postgres", "memtype": "proportionalResident"})
            check((pss or 0) > 0, f"postgres group's PSS read ({pss})")
            denied = {f: sample(metrics, "vigil_process_group_unreadable_procs",
                                {"groupname": "postgres", "file": f})
                      for f in ("fd", "io", "smaps_rollup")}
            check(denied == {"fd": 0, "io": 0, "smaps_rollup": 0},
                  f"with the caps no postgres process is unreadable ({denied})")
            # ExecReload: SIGHUP reloads and the agent stays up.
            before = sample(metrics, "vigil_config_last_reload_success_timestamp_seconds", {})
            time.sleep(1.1)
            proc.send_signal(signal.SIGHUP)
            after = before
            for _ in range(40):
                m = get(f"http://127.0.0.1:{port}/metrics")
                after = sample(m, "vigil_config_last_reload_success_timestamp_seconds", {})
                if after and before and after > before:
                    break
                time.sleep(0.25)
            check(proc.poll() is None and after and before and after > before and
                  sample(m, "vigil_config_last_reload_successful", {}) == 1,
                  "SIGHUP (ExecReload) reloads the configuration")
        finally:
            rc = stop(proc)
            check(rc == 0, f"SIGTERM stops vigil cleanly (exit {rc})")
            state = "/var/lib/vigil/alert-state.json"
            check(os.path.exists(state) and os.stat(state).st_uid == user.pw_uid,
                  "vigil saved its alert state in /var/lib/vigil (storage.path) on stop")
            if failures:
                print(open(os.path.join(work, "vigil.log")).read()[-4000:])

        # Without the capabilities (what the unit's comment says to drop): the other user's
        # processes are still counted, but their fds and PSS are not readable.
        metrics, proc, _ = run_agent(argv, [], config, work,
                                     lambda m: up(m, "postgres") == 1 and
                                     sample(m, "namedprocess_namegroup_num_procs",
                                            {"groupname": "postgres"}))
        stop(proc)
        n = sample(metrics, "namedprocess_namegroup_num_procs", {"groupname": "postgres"})
        denied = {f: sample(metrics, "vigil_process_group_unreadable_procs",
                            {"groupname": "postgres", "file": f})
                  for f in ("fd", "io", "smaps_rollup")}
        check((n or 0) > 0 and fds(metrics) == 0 and denied == {f: n for f in denied},
              f"without the caps: {n} postgres processes seen, their fds, io and smaps_rollup "
              f"unreadable and said so ({denied}; open_filedesc {fds(metrics)})")
    finally:
        # 6. Purge, and nothing is left.
        r = run(["apt-get", "purge", "-y", "vigil"],
                env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        check(r.returncode == 0, "apt-get purge vigil")
        check(not run(["dpkg-query", "-W", "-f=${Status}", "vigil"]).stdout.startswith("install"),
              "dpkg no longer knows vigil")
        left = [p for p in ["/usr/bin/vigil", "/lib/systemd/system/vigil.service",
                            "/usr/share/vigil", "/usr/share/doc/vigil",
                            "/usr/share/man/man1/vigil.1.gz"] + MADE_BY_SCRIPTS + ENABLEMENT
                if os.path.lexists(p)]
        check(not left, "purge leaves nothing: " + ", ".join(left))
        for what, lookup in (("user", pwd.getpwnam), ("group", grp.getgrnam)):
            try:
                lookup("vigil")
                check(False, f"purge removes the vigil {what}")
            except KeyError:
                check(True, f"purge removes the vigil {what}")

    print(f"package_install: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
