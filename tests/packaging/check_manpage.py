#!/usr/bin/env python3
"""vigil.1 and `vigil --help` name the same flags and the same defaults.

usage: check_manpage.py MANPAGE VIGIL
"""
import re
import subprocess
import sys


def main():
    man_path, vigil = sys.argv[1:3]
    man = open(man_path).read().replace("\\-", "-")
    help_text = subprocess.run([vigil, "--help"], capture_output=True, text=True, timeout=10)
    help_text = help_text.stdout + help_text.stderr
    flag = re.compile(r"--([a-z][a-z.-]*)")
    in_help = set(flag.findall(help_text))
    in_man = set(flag.findall(man))
    failures = []
    if in_help - in_man:
        failures.append("in --help, not in vigil.1: " + ", ".join(sorted(in_help - in_man)))
    if in_man - in_help:
        failures.append("in vigil.1, not in --help: " + ", ".join(sorted(in_man - in_help)))
    # Every default --help states is the one the man page states.
    for name, default in re.findall(r"--([a-z.-]+)=\S+\s+.*\(default ([^)]+)\)", help_text):
        entry = re.search(r"^\.BI? --" + re.escape(name) + r"\b.*\n(.*)$", man, re.M)
        if not entry or f"(default {default})" not in entry.group(1).replace("\\fI", "").replace(
                "\\fR", ""):
            failures.append(f"--{name}: --help says default {default}, vigil.1 does not")
    for f in failures:
        print("FAIL " + f)
    print(f"check_manpage: {len(in_help)} flags in --help, {len(in_man)} in vigil.1, "
          f"{len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
