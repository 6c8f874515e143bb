#!/usr/bin/env bash
# Cross-compiles the musl prebuilds, prebuilds/linux-{x64,arm64}/background-thread.musl.node (the
# names prebuildify --tag-libc gives them, which node-gyp-build picks on musl), with Zig 0.11's
# clang: `zig c++ -target <arch>-linux-musl` brings musl's headers and libc++, so one npm package
# is the whole toolchain (scripts/node-binaries.mjs installs it; the host must be linux-x64).
# - libc++, libc++abi and libunwind are linked in, and a version script exports only the Node-API
#   entry points: the file needs only musl's libc.so, and its C++ runtime stays its own. (Alpine's
#   Node brings libstdc++ and libgcc_s; exported, our runtime's symbols would bind to those, and
#   libc++'s exceptions would be thrown and caught by libstdc++'s __cxa_* functions.)
# - Same flags as node-gyp's Release build of binding.gyp: scripts/addon-flags.sh, -O3, -fno-rtti,
#   -z nodelete.
# Each file is checked by scripts/check-prebuild.mjs; `npm run test:musl` runs musl's own loader
# over it. Usage: prebuild-musl.sh [x64] [arm64] (default: both). Zig's builds of libc++ and musl's
# start files for a target take half a minute once, then come from its cache (~/.cache/zig).
set -euo pipefail
cd "$(dirname "$0")/.."
archs=("$@")
((${#archs[@]})) || archs=(x64 arm64)
source scripts/addon-flags.sh
zig=$(node scripts/node-binaries.mjs zig)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '{\n  global: napi_register_module_v1; node_api_module_get_api_version_v1;\n  local: *;\n};\n' >"$work/exports.map"

for arch in "${archs[@]}"; do
  case $arch in
    x64) target=x86_64-linux-musl ;;
    arm64) target=aarch64-linux-musl ;;
    *) echo "usage: prebuild-musl.sh [x64] [arm64]" >&2; exit 2 ;;
  esac
  out=prebuilds/linux-$arch/background-thread.musl.node
  mkdir -p "$(dirname "$out")"
  "$zig" c++ -target "$target" "${addon_flags[@]}" -O3 -fno-omit-frame-pointer -fno-rtti -fPIC -shared \
    native/*.cc -Wl,-z,nodelete -Wl,--version-script="$work/exports.map" -s -o "$out"
  node scripts/check-prebuild.mjs "$out" "$arch" musl
done
