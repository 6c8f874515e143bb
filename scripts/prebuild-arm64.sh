#!/usr/bin/env bash
# Cross-compiles prebuilds/linux-arm64/background-thread.glibc.node with Debian's aarch64 toolchain
# (apt-get install g++-aarch64-linux-gnu), checks that it is an aarch64 ELF that needs only what
# every Linux Node has (scripts/check-prebuild.mjs), and rebuilds the host's build/ afterwards
# (prebuildify builds in build/ too).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in aarch64-linux-gnu-g++ aarch64-linux-gnu-strip aarch64-linux-gnu-readelf aarch64-linux-gnu-objdump; do
  command -v "$tool" >/dev/null || { echo "$tool missing: apt-get install g++-aarch64-linux-gnu" >&2; exit 2; }
done
CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ \
  PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip \
  npx prebuildify --napi --strip --tag-libc --arch arm64
node scripts/check-prebuild.mjs prebuilds/linux-arm64/background-thread.glibc.node arm64
rm -rf build && npm run build:native >/dev/null
