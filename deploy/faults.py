"""Faults injected into the demo stack (deploy/stack.sh), shared by deploy/demo_timeline.py and
tests/drills/drills.py. Each takes the stack's env (DIR/stack.env as a dict) and a duration in
seconds; start() injects the fault, stop() undoes it.
"""
import os
import signal
import subprocess
import time


class RedisFreeze:
    """Redis stops answering (SIGSTOP) until the item ends: RedisDown, VigilCollectorDown."""

    def __init__(self, env, _seconds):
        with open(os.path.join(env["STACK_DIR"], "redis", "pid")) as f:
            self.pid = int(f.read().strip())

    def start(self):
        os.kill(self.pid, signal.SIGSTOP)

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass


class LockWait:
    """One session holds a product row lock, a second waits for it: PostgresLockWaitLong."""

    APP = "vigil-demo-lock"

    def __init__(self, env, seconds):
        self.dsn = env["PG_DSN"]
        self.seconds = seconds
        self.procs = []

    def psql(self, role, sql):
        env = dict(os.environ, PGAPPNAME=f"{self.APP}-{role}", PGOPTIONS="-c client_min_messages=warning")
        return subprocess.Popen(["psql", self.dsn, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))

    def start(self):
        hold = int(self.seconds) + 30  # ended by stop(); the timeout is a backstop
        self.procs.append(self.psql("holder", f"BEGIN; SELECT id FROM products WHERE id = 1 FOR UPDATE; "
                                              f"SELECT pg_sleep({hold}); COMMIT"))
        time.sleep(1)
        self.procs.append(self.psql("waiter", f"SET lock_timeout = '{hold}s'; "
                                              "SELECT id FROM products WHERE id = 1 FOR UPDATE"))

    def stop(self):
        subprocess.run(["psql", self.dsn, "-qAt", "-c",
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        f"WHERE application_name LIKE '{self.APP}-%'"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10, check=False)
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


FAULTS = {"redis-freeze": RedisFreeze, "lock-wait": LockWait}
