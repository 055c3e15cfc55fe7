#!/usr/bin/env bash
# Builds the container images from docker/*.Dockerfile with no registry and no Docker engine,
# then runs each and checks it:
#   scripts/build-images.sh            # ~8 min on 2 cores (two release builds, no ccache)
# Debian's mmdebstrap makes debian:bookworm from Debian's mirror (cached in build/images/),
# buildah (vfs storage, chroot isolation) builds the Dockerfiles on it as `docker build` would.
# Checks: vigil --version, the image's user is not root, vigil serves /metrics from the image's
# default config; shop --help and shop-load --help; receivers answers. Figures go to
# build/images/report.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in buildah mmdebstrap; do
  command -v "$tool" >/dev/null || VIGIL_EXTRA_PACKAGES="buildah mmdebstrap" bash scripts/install-deps.sh
done
B=(buildah --storage-driver vfs)
out=build/images
mkdir -p "$out"
report=$out/report.txt
: >"$report"
say() { echo "$*" | tee -a "$report"; }
fail() { say "FAIL $*"; exit 1; }

if ! "${B[@]}" inspect --type image docker.io/library/debian:bookworm >/dev/null 2>&1; then
  [ -f "$out/bookworm.tar" ] || mmdebstrap --quiet --variant=minbase bookworm "$out/bookworm.tar"
  ctr=$("${B[@]}" from scratch)
  "${B[@]}" add "$ctr" "$out/bookworm.tar" / >/dev/null
  "${B[@]}" commit -q "$ctr" docker.io/library/debian:bookworm >/dev/null
  "${B[@]}" rm "$ctr" >/dev/null
fi

for image in vigil shop receivers; do
  t0=$(date +%s)
  "${B[@]}" bud --pull-never --isolation chroot --layers -f "docker/$image.Dockerfile" \
    -t "vigil-demo/$image" . >"$out/$image.build.log" 2>&1 ||
    { tail -30 "$out/$image.build.log"; fail "$image: build (log: $out/$image.build.log)"; }
  say "ok   vigil-demo/$image built in $(($(date +%s) - t0)) s"
  user=$("${B[@]}" inspect --type image --format '{{.OCIv1.Config.User}}' "vigil-demo/$image")
  [ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ] || fail "$image runs as root"
  say "ok   vigil-demo/$image runs as $user"
done

# Run a command in a fresh container of an image, as its configured user.
in_image() {
  local image=$1; shift
  local ctr
  ctr=$("${B[@]}" from --pull-never "$image")
  "${B[@]}" run --isolation chroot "$ctr" -- "$@"
  local rc=$?
  "${B[@]}" rm "$ctr" >/dev/null
  return $rc
}

v=$(in_image vigil-demo/vigil /usr/local/bin/vigil --version) || fail "vigil --version"
say "ok   vigil image: $v"
in_image vigil-demo/vigil /usr/local/bin/vigil check config /etc/vigil/vigil.yml >>"$report" ||
  fail "vigil check config in the image"
[ "$(in_image vigil-demo/vigil id -un)" = vigil ] || fail "vigil image user"
in_image vigil-demo/shop /usr/local/bin/shop serve --help >/dev/null 2>&1 || fail "shop serve --help"
in_image vigil-demo/shop /usr/local/bin/shop-load --help >/dev/null 2>&1 || fail "shop-load --help"
say "ok   shop image: shop serve --help, shop-load --help"

# vigil from the image, with its default configuration, serving /metrics (chroot isolation
# shares the host's network: a loopback port).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ctr=$("${B[@]}" from --pull-never vigil-demo/vigil)
"${B[@]}" run --isolation chroot "$ctr" -- /usr/local/bin/vigil --config.file=/etc/vigil/vigil.yml \
  "--web.listen-address=127.0.0.1:$port" >"$out/vigil.run.log" 2>&1 &
pid=$!
ok=""
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -q '^vigil_build_info{'; then
    ok=1
    break
  fi
  sleep 0.5
done
kill "$pid" 2>/dev/null || true
pkill -f "web.listen-address=127.0.0.1:$port" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
"${B[@]}" rm "$ctr" >/dev/null
[ -n "$ok" ] || { cat "$out/vigil.run.log"; fail "vigil in its image did not serve /metrics"; }
say "ok   vigil in its image serves /metrics (vigil_build_info)"
"${B[@]}" images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep vigil-demo | tee -a "$report"
say "build-images: all checks passed"
