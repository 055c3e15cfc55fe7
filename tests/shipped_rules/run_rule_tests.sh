#!/bin/sh
# run_rule_tests.sh TOOL RULES_DIR
# Checks every rule file in RULES_DIR and runs every unit test file in RULES_DIR/tests with
# TOOL, which is either promtool or the vigil binary (same subcommands: `check rules`,
# `test rules`). Exits 77 (ctest: skipped) when TOOL is missing or lacks `test rules`.
set -eu
tool=$1
dir=$2
if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "$tool" ]; then
  echo "$tool not found: skipped" >&2
  exit 77
fi
case $(basename "$tool") in
  promtool*) ;;
  *)
    if ! "$tool" --help 2>&1 | grep -q 'test rules'; then
      echo "$tool has no 'test rules' command yet: skipped" >&2
      exit 77
    fi
    ;;
esac
set -- "$dir"/*.yml
"$tool" check rules "$@"
set -- "$dir"/tests/*_test.yml
"$tool" test rules "$@"
