#!/usr/bin/env bash
# Formats every C++ file git knows (tracked or new) with clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -co --exclude-standard '*.cc' '*.h' '*.cpp' '*.hpp' | xargs -r clang-format -i
