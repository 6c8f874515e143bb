#!/usr/bin/env bash
# Sanitizer runs of the native code, built with cmake-js into build/<mode>/ and loaded through
# BACKGROUND_THREAD_ADDON, with the sanitizer's runtime preloaded into the (uninstrumented) node:
#   npm run test:asan   AddressSanitizer + UndefinedBehaviorSanitizer: the uvu suite (its child
#                       processes and Workers included), then a stress run
#   npm run test:tsan   ThreadSanitizer: the stress run (start/join cycles, live threads, module
#                       targets, Workers terminated under live threads)
# Any report aborts the run (exit code != 0).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: sanitize.sh asan|tsan}
case "$mode" in
  asan) flags=address,undefined; runtime=$(gcc -print-file-name=libasan.so) ;;
  tsan) flags=thread; runtime=$(gcc -print-file-name=libtsan.so) ;;
  *) echo "usage: sanitize.sh asan|tsan" >&2; exit 2 ;;
esac
[[ -f "$runtime" ]] || { echo "no $mode runtime ($runtime): apt-get install gcc" >&2; exit 2; }
npm run build:ts >/dev/null
npx cmake-js rebuild -O "build/$mode" --CDBGT_SANITIZE="$flags" >/dev/null

export BACKGROUND_THREAD_ADDON="$PWD/build/$mode/Release/background_thread.node"
# node itself is not instrumented: its own leaks at exit and V8's SEGV handling are not ours.
export ASAN_OPTIONS=detect_leaks=0:handle_segv=0:detect_odr_violation=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# ignore_noninstrumented_modules: what node and V8 do among themselves (their own locks are
# invisible to TSan, not being instrumented) is not reported; our code is instrumented.
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1
run() { LD_PRELOAD="$runtime" "$@"; }

if [[ "$mode" == asan ]]; then
  run node node_modules/uvu/bin.js test '\.test\.mjs$' -i package
  run node scripts/stress.mjs --cycles 20000 --alive 2000 --isolated 20 --terminate 20 --warmup 0 --memory off
else
  run node scripts/stress.mjs --cycles 20000 --alive 1000 --isolated 20 --terminate 20 --warmup 0 --memory off
fi
echo "$mode: no findings"
