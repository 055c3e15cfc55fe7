#!/usr/bin/env bash
# Installs everything vigil needs to build and test on Debian 12 (bookworm). Idempotent:
# packages already present are skipped, so a second run costs a second or two.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache clang-format clang-14 libclang-rt-14-dev
  prometheus-cpp-dev libpq-dev libhiredis-dev libcpp-httplib-dev libyaml-cpp-dev catch2
  zlib1g-dev libssl-dev libre2-dev nlohmann-json3-dev python3-yaml
  postgresql-15 postgresql-contrib redis-server redis-tools
  prometheus prometheus-alertmanager curl python3 procps openssl libcrypt-dev
  prometheus-redis-exporter prometheus-postgres-exporter prometheus-process-exporter pgbouncer
  docker-compose libprotobuf-dev protobuf-compiler libsnappy-dev
  python3-aiosmtpd  # deploy/receivers.py: the SMTP sink of the demo and tests/oncall
  lintian man-db  # tests/packaging: the Debian package checked, its man page read
)
packages+=(chromium)  # tests/statuspage: the status page in headless Chromium
[ "${VIGIL_EXTRA_PACKAGES:-}" ] && read -r -a extra <<<"$VIGIL_EXTRA_PACKAGES" && packages+=("${extra[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
