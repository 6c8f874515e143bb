#!/usr/bin/env bash
# Cross-compiles prebuilds/win32-x64/background-thread.node with Debian's mingw-w64
# (apt-get install g++-mingw-w64-x86-64-posix), with nothing fetched from outside:
# - Node-API and libuv calls are resolved, as on Windows, by node.exe at load time. The import
#   library for it is made here with dlltool from node-api-headers' def/node_api.def plus the uv_*
#   functions that the objects actually import (node.exe exports libuv's API), so the list cannot
#   drift from the code.
# - libgcc, libstdc++ and winpthread are linked statically: the .node must need only node.exe and
#   DLLs every Windows has. The check at the end (objdump -p) fails the build otherwise.
# Same flags and defines as binding.gyp (scripts/addon-flags.sh). Node's uv.h, from its
# include/node, is platform-neutral libuv: uv/win.h is there too.
set -euo pipefail
cd "$(dirname "$0")/.."
T=x86_64-w64-mingw32
CXX=$T-g++-posix
for tool in "$CXX" "$T-dlltool" "$T-nm" "$T-objdump"; do
  command -v "$tool" >/dev/null || { echo "$tool missing: apt-get install g++-mingw-w64-x86-64-posix" >&2; exit 2; }
done

source scripts/addon-flags.sh
napi_def=$(node -p "require.resolve('node-api-headers/def/node_api.def')")  # js_native_api.def's names are in it too

out=prebuilds/win32-x64/background-thread.node
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

flags=("${addon_flags[@]}" -O2 -DUSING_UV_SHARED=1)
for src in native/*.cc; do
  "$CXX" "${flags[@]}" -c "$src" -o "$work/$(basename "$src" .cc).o"
done

# NAME NODE.EXE comes from node_api.def; the echo ends its last line, which has no newline.
{ cat "$napi_def"; echo; "$T-nm" -u "$work"/*.o | sed -n 's/^ *U __imp_\(uv_[A-Za-z0-9_]*\)$/\1/p' | sort -u; } >"$work/node.def"
echo "libuv functions imported from node.exe: $(grep -c '^uv_' "$work/node.def")"
"$T-dlltool" -d "$work/node.def" -l "$work/libnode.a" -D node.exe

mkdir -p "$(dirname "$out")"
"$CXX" -shared -s -o "$out" "$work"/*.o "$work/libnode.a" \
  -static-libgcc -static-libstdc++ -Wl,-Bstatic -lwinpthread -Wl,-Bdynamic

# The check: a PE32+ x86-64 DLL that exports the Node-API entry point and imports only node.exe
# and Windows' own DLLs (no libstdc++-6, libgcc_s_seh-1 or libwinpthread-1 beside it); and
# os_thread.o calls what its Windows branches call (not the fallbacks of an unknown platform).
dump=$("$T-objdump" -p "$out")
problems=()
os_thread_imports=$("$T-nm" -u "$work/os_thread.o")
for fn in GetModuleHandleExW GetCurrentThreadId CloseHandle MultiByteToWideChar; do
  grep -q "__imp_$fn\$" <<<"$os_thread_imports" || problems+=("os_thread.o does not call $fn: a Windows branch is missing")
done
grep -q 'file format pei-x86-64' <<<"$dump" || problems+=("not a PE32+ x86-64 file")
grep -qE '^\s*\[ *[0-9]+\] napi_register_module_v1$' <<<"$dump" || problems+=("does not export napi_register_module_v1")
dlls=$(sed -n 's/^\s*DLL Name: //p' <<<"$dump")
while read -r dll; do
  shopt -s nocasematch
  [[ $dll =~ ^(node\.exe|kernel32\.dll|msvcrt\.dll|ucrtbase\.dll|api-ms-win-.*\.dll|advapi32\.dll|user32\.dll|shell32\.dll|ws2_32\.dll|ntdll\.dll)$ ]] \
    || problems+=("imports $dll")
  shopt -u nocasematch
done <<<"$dlls"
echo "$out: $(stat -c %s "$out") bytes; imports $(paste -sd' ' <<<"$dlls")"
if ((${#problems[@]})); then
  printf '  problem: %s\n' "${problems[@]}" >&2
  exit 1
fi
