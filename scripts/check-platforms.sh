#!/usr/bin/env bash
# Keeps the platform #ifdefs of native/ honest: compiles every native/*.cc with -fsyntax-only
# (-Wall -Wextra -Werror) for each target whose compiler is installed here: this machine
# (linux-x64), x86_64-w64-mingw32 (win32-x64: apt-get install g++-mingw-w64-x86-64-posix),
# aarch64-linux-gnu (linux-arm64: apt-get install g++-aarch64-linux-gnu) and, on a linux-x64
# host, x86_64-linux-musl and aarch64-linux-musl with Zig's clang and libc++ (the musl prebuilds'
# compiler, installed from npm by scripts/node-binaries.mjs; zig's -fsyntax-only reports errors
# but then fails for want of an object file, so these are compiled into a throwaway one). A
# missing compiler is a skip, not a failure. macOS and FreeBSD cannot be checked here: no SDK
# headers for them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/addon-flags.sh
common=("${addon_flags[@]}" -Werror)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0 failed=0 skipped=0
# target NAME COMPILER [ARGUMENTS BEFORE THE FLAGS...]
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
    if "$cxx" "$@" "${common[@]}" "$src"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "not ok $name $src"
    fi
  done
  echo "checked $name (${cxx##*/} $*)"
}

target linux-x64 g++ -fsyntax-only
target win32-x64 x86_64-w64-mingw32-g++-posix -fsyntax-only -DUSING_UV_SHARED=1  # uv.h: dllimport, as node-gyp has it
target linux-arm64 aarch64-linux-gnu-g++ -fsyntax-only
zig=zig
[[ $(uname -sm) != 'Linux x86_64' ]] || zig=$(node scripts/node-binaries.mjs zig)
target linux-x64-musl "$zig" c++ -target x86_64-linux-musl -c -o "$work/check.o"
target linux-arm64-musl "$zig" c++ -target aarch64-linux-musl -c -o "$work/check.o"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
