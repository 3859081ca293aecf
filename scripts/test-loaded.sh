#!/usr/bin/env bash
# Runs `npm test` N times in a row (default 3) with two CPU-burning processes
# beside it, as a busy CI machine would, and prints each run's time and result.
# Stops at the first failing run. The burners are stopped however it ends.
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
burners=()
stop_burners() { [ ${#burners[@]} -eq 0 ] || kill "${burners[@]}" 2>/dev/null; }
trap stop_burners EXIT
for _ in 1 2; do
  node -e 'for (;;) {}' &
  burners+=($!)
done
for run in $(seq 1 "$runs"); do
  started=$(date +%s)
  npm test > "test-loaded-$run.log" 2>&1
  code=$?
  echo "run $run: exit $code in $(( $(date +%s) - started )) s (load average at end: $(cut -d' ' -f1-3 /proc/loadavg)); output in test-loaded-$run.log"
  [ "$code" -eq 0 ] || exit "$code"
done
