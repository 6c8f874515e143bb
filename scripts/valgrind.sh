#!/usr/bin/env bash
# valgrind memcheck of a stress run (start/join cycles, live threads, module targets, Workers
# terminated under live threads) against the node-gyp build: any error fails the run.
# npm run test:valgrind
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind missing: apt-get install valgrind" >&2; exit 2; }
node scripts/build-if-missing.mjs
valgrind --error-exitcode=99 --leak-check=no --quiet --suppressions=scripts/valgrind.supp \
  node scripts/stress.mjs --cycles 3000 --inFlight 20 --alive 300 --isolated 2 --terminate 3 --warmup 0 --memory off
echo "valgrind: 0 errors"
