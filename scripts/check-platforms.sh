#!/usr/bin/env bash
# Keeps the platform #ifdefs of native/ honest: compiles every native/*.cc with -fsyntax-only
# (-Wall -Wextra -Werror) for each target whose compiler is installed here: this machine
# (linux-x64), x86_64-w64-mingw32 (win32-x64: apt-get install g++-mingw-w64-x86-64-posix) and
# aarch64-linux-gnu (linux-arm64: apt-get install g++-aarch64-linux-gnu). A missing compiler is a
# skip, not a failure. macOS and FreeBSD cannot be checked here: no SDK headers for them.
set -euo pipefail
cd "$(dirname "$0")/.."
node_inc=$(node -p "require('path').resolve(process.execPath, '../../include/node')")
[[ -f $node_inc/uv.h ]] || node_inc=${npm_config_nodedir:-/nonexistent}/include/node
[[ -f $node_inc/uv.h ]] || { echo "uv.h not found: Node's headers are needed (set npm_config_nodedir)" >&2; exit 2; }
common=(-std=c++17 -fsyntax-only -Wall -Wextra -Werror
  -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS
  -DNODE_GYP_MODULE_NAME=background_thread -DBUILDING_NODE_EXTENSION
  -Inative/vendor/node-addon-api -I"$node_inc")

passed=0 failed=0 skipped=0
# target NAME COMPILER [EXTRA FLAGS...]
target() {
  local name=$1 cxx=$2
  shift 2
  if ! command -v "$cxx" >/dev/null; then
    skipped=$((skipped + 1))
    echo "skip $name: $cxx not installed"
    return
  fi
  local src
  for src in native/*.cc; do
    if "$cxx" "${common[@]}" "$@" "$src"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "not ok $name $src"
    fi
  done
  echo "checked $name ($cxx)"
}

target linux-x64 g++
target win32-x64 x86_64-w64-mingw32-g++-posix -DUSING_UV_SHARED=1  # uv.h: dllimport, as node-gyp has it
target linux-arm64 aarch64-linux-gnu-g++
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
