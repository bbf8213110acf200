#!/usr/bin/env bash
# The protocol cores must be deterministic and free of I/O (ARCHITECTURE.md "Cores do no I/O"):
# no clocks, threads, sleeps, global randomness or unordered containers (whose iteration order
# is unspecified) in src/base, src/raft (and later src/gossip, src/dynamo). The simulator may
# not use threads, sleeps or global randomness either.
set -u
root="$1"
status=0
check() {
  local pattern="$1"; shift
  local hits
  hits=$(grep -rnE "$pattern" "$@" --include='*.h' --include='*.cc' 2>/dev/null || true)
  if [ -n "$hits" ]; then
    echo "forbidden pattern '$pattern':"
    echo "$hits"
    status=1
  fi
}
cores=()
for d in src/base src/raft src/gossip src/dynamo; do
  [ -d "$root/$d" ] && cores+=("$root/$d")
done
check 'std::chrono|<chrono>|std::thread|<thread>|sleep\(|random_device|[^a-z_]rand\(|time\(|unordered_(map|set)' "${cores[@]}"
if [ -d "$root/src/sim" ]; then
  check 'std::thread|<thread>|sleep\(|random_device|[^a-z_]rand\(|system_clock' "$root/src/sim"
fi
if [ "$status" -eq 0 ]; then echo "core purity: ok (${cores[*]})"; fi
exit "$status"
