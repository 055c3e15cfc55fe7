#!/bin/sh
# run_rule_tests.sh TOOL RULES_DIR
# Checks every rule file in RULES_DIR and runs every unit test file in RULES_DIR/tests with
# TOOL, which is either promtool or the vigil binary (same subcommands: `check rules`,
# `test rules`, same output). A missing tool is a failure: CI installs promtool.
set -eu
tool=$1
dir=$2
if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "$tool" ]; then
  echo "$tool not found (scripts/install-deps.sh installs promtool)" >&2
  exit 1
fi
set -- "$dir"/*.yml
"$tool" check rules "$@"
set -- "$dir"/tests/*_test.yml
"$tool" test rules "$@"
