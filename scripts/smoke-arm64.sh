#!/usr/bin/env bash
# Loads prebuilds/linux-arm64 in Debian's arm64 Node (18) under qemu-user and runs a thread.
# Needs, once, as root:
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install --no-install-recommends qemu-user libnode108:arm64
# Never `apt-get install nodejs:arm64`: it replaces the host's own nodejs. This script only
# downloads that package and unpacks its node binary into a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v qemu-aarch64 >/dev/null || { echo "qemu-aarch64 missing (apt-get install qemu-user)" >&2; exit 2; }
[[ -f prebuilds/linux-arm64/background-thread.glibc.node ]] || { echo "run npm run prebuild:arm64 first" >&2; exit 2; }
node_arm64=${NODE_ARM64:-}
if [[ -z "$node_arm64" ]]; then
  dir=$(mktemp -d)
  (cd "$dir" && apt-get download nodejs:arm64 >/dev/null)
  dpkg-deb -x "$dir"/nodejs_*_arm64.deb "$dir/root"
  node_arm64="$dir/root/usr/bin/node"
fi
PREBUILDS_ONLY=1 qemu-aarch64 -L / "$node_arm64" scripts/smoke.cjs
