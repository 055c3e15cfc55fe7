#!/usr/bin/env bash
# Runs clang-14's thread-safety analysis (-Wthread-safety, as errors) over vigil's own sources,
# with the flags of a configured build's compile_commands.json (default build/dev). Syntax
# only: no code is generated, so it costs a fraction of a build (~2 CPU-minutes).
#
#   scripts/check-thread-safety.sh [BUILD_DIR] [PATH_FILTER...]
#
# The annotations (GUARDED_BY, REQUIRES, ...) are in agent/base/thread_annotations.h; the
# annotated locks in agent/base/mutex.h and agent/base/shared_mutex.h.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/dev}
shift || true
command -v clang++-14 >/dev/null || { echo "check-thread-safety: clang++-14 is missing" >&2; exit 2; }
[ -f "$BUILD/compile_commands.json" ] || { echo "check-thread-safety: no $BUILD/compile_commands.json (configure first)" >&2; exit 2; }
python3 - "$BUILD/compile_commands.json" "$PWD" "$@" <<'PY'
import concurrent.futures, json, os, shlex, subprocess, sys

db, root, filters = sys.argv[1], sys.argv[2], sys.argv[3:]
jobs = []
for entry in json.load(open(db)):
    rel = os.path.relpath(entry["file"], root)
    if rel.split("/")[0] not in ("agent", "collectors", "rules", "service"):
        continue
    if filters and not any(rel.startswith(f) for f in filters):
        continue
    args = shlex.split(entry["command"])[1:]  # drop the (ccache'd) compiler
    if args and args[0].endswith(("c++", "g++")):
        args = args[1:]
    flags, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a in ("-o", "-MF", "-MT"):
            skip = True
        elif a not in ("-MD", "-c") and not a.startswith(("-Wno-restrict", "-Wno-stringop", "-fsanitize")):
            flags.append(a)
    jobs.append((rel, entry["directory"], ["clang++-14", "-fsyntax-only", "-Wthread-safety",
                                            "-Werror"] + flags))

def check(job):
    rel, cwd, cmd = job
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    return rel, p.returncode, p.stderr

failed = 0
with concurrent.futures.ThreadPoolExecutor(int(os.environ.get("VIGIL_JOBS", "2"))) as pool:
    for rel, rc, err in pool.map(check, jobs):
        if rc != 0:
            failed += 1
            sys.stdout.write(err)
print(f"thread-safety: {len(jobs)} files, {failed} with errors")
sys.exit(1 if failed else 0)
PY
