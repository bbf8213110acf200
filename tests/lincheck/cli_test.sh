#!/bin/sh
# End-to-end check of synod-lincheck: the verdict is the last line printed and the exit status
# says the same. Usage: cli_test.sh SYNOD_LINCHECK PORCUPINE_DATA_DIR
set -u
bin=$1
data=${SYNOD_PORCUPINE_DATA:-$2}
failures=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# expect NAME WANT_STATUS WANT_LAST_LINE ARGS...
expect() {
  name=$1 want_status=$2 want_last=$3
  shift 3
  "$bin" "$@" >"$scratch/out" 2>"$scratch/err"
  status=$?
  last=$(tail -n 1 "$scratch/out")
  if [ "$status" -ne "$want_status" ] || [ "$last" != "$want_last" ]; then
    echo "FAIL $name: status $status (want $want_status), last line '$last' (want '$want_last')"
    cat "$scratch/out" "$scratch/err"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

# The published histories live outside the repository; without them the cases in our own
# format still run and the test says loudly what it left out.
if [ -d "$data" ]; then
  expect "known-good jepsen log" 0 "LINEARIZABLE" "$data/jepsen/etcd_002.log"
  expect "known-bad jepsen log" 1 "NOT LINEARIZABLE" "$data/jepsen/etcd_000.log"
  expect "known-bad kv history" 1 "NOT LINEARIZABLE" --format porcupine-kv "$data/kv/c10-bad.txt"
  expect "known-good kv, one search" 0 "LINEARIZABLE" --no-partition "$data/kv/c10-ok.txt"
  expect "budget runs out" 2 "UNKNOWN" --step-budget 10 "$data/kv/c50-ok.txt"
else
  echo "SKIPPED the published-history cases: porcupine data not found at '$data'"
  echo "(set SYNOD_PORCUPINE_DATA to the porcupine-data folder to run them)"
fi

printf '# synod-history v1\ninitial\tnil\n0\t10\t1\t"k"\twrite\t"1"\tok\t-\n' >"$scratch/stale"
printf '20\t30\t2\t"k"\tread\t-\tok\tnil\n' >>"$scratch/stale"
expect "stale read in synod format" 1 "NOT LINEARIZABLE" "$scratch/stale"

printf '# synod-history v1\n0\t10\t1\t"k"\twrite\tnil\tok\n' >"$scratch/bad"
"$bin" "$scratch/bad" >"$scratch/out" 2>"$scratch/err"
if [ $? -ne 3 ] || ! grep -q "bad:2:" "$scratch/err"; then
  echo "FAIL malformed input: want status 3 and an error naming line 2"
  cat "$scratch/out" "$scratch/err"
  failures=$((failures + 1))
else
  echo "ok   malformed input"
fi

"$bin" --help >"$scratch/out" 2>&1 || { echo "FAIL --help"; failures=$((failures + 1)); }

[ "$failures" -eq 0 ]
