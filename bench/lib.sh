# shellcheck shell=bash
# Shell functions the etcd-versus-synod scripts share (compare-etcd, memory-1m). Source it:
#   . "$root/bench/lib.sh"
# Every function prints its messages with the calling script's name ($bench_name, set by the
# caller) so a reader knows which script stopped.
# shellcheck disable=SC2154  # bench_name is the caller's

# bench_find_etcd_script ROOT: prints the path of etcd-cluster.sh, the script that starts the
# 3-member etcd 3.4 these benchmarks compare against. It lives in the shared peers folder next
# to the repository; PEERS_DIR overrides. Exits when it is missing.
bench_find_etcd_script() {
  local root="$1" peers="${PEERS_DIR:-}"
  if [ -z "$peers" ]; then
    peers=/work/shared/peers
    [ -d "$root/../shared/peers" ] && peers="$(cd "$root/../shared/peers" && pwd)"
  fi
  if [ ! -f "$peers/etcd-cluster.sh" ]; then
    cat >&2 <<MSG
$bench_name: $peers/etcd-cluster.sh not found.
It starts the 3-member etcd this script measures synod against; it lives in the shared peers
folder next to the repository. Point PEERS_DIR at the folder that holds etcd-cluster.sh.
MSG
    exit 1
  fi
  echo "$peers/etcd-cluster.sh"
}

# bench_need_binaries BUILD: checks synod and synod-bench are built in BUILD.
bench_need_binaries() {
  local b
  for b in "$1/tools/synod-bench/synod-bench" "$1/tools/synod/synod"; do
    if [ ! -x "$b" ]; then
      echo "$bench_name: $b missing; build it: cmake --build $1 --target synod synod-bench" >&2
      exit 1
    fi
  done
}

# bench_need_packages: installs etcd-server, etcd-client, jq, bc and curl with apt when missing.
bench_need_packages() {
  local need=() sudo=""
  command -v etcd >/dev/null || [ -x /usr/bin/etcd ] || need+=(etcd-server)
  command -v etcdctl >/dev/null || need+=(etcd-client)
  command -v jq >/dev/null || need+=(jq)
  command -v bc >/dev/null || need+=(bc)
  command -v curl >/dev/null || need+=(curl)
  [ ${#need[@]} -gt 0 ] || return 0
  echo "$bench_name: installing ${need[*]}" >&2
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >&2
}

# bench_synod_endpoints PORT_BASE: the client endpoints scripts/cluster gives a 3-member synod.
bench_synod_endpoints() {
  local out="" i
  for i in 1 2 3; do out+="${out:+,}127.0.0.1:$(($1 + 100 * i))"; done
  echo "$out"
}

# bench_ports_free ENDPOINTS...: exits when anything already listens on one of the
# (comma-separated) host:port lists, so a script never measures someone else's server.
bench_ports_free() {
  local ep
  # shellcheck disable=SC2048  # split the comma-separated lists into host:port words
  for ep in ${*//,/ }; do
    if (exec 3<>"/dev/tcp/${ep%:*}/${ep#*:}") 2>/dev/null; then
      echo "$bench_name: something already listens on $ep; stop it (or set SYNOD_PORT_BASE)" >&2
      return 1
    fi
  done
}

# bench_wait_writable ENDPOINTS SECONDS: waits until a put through etcdctl succeeds (a leader
# is elected and the members serve). Returns 1 after SECONDS without one. The key written,
# bench-ready, sorts apart from synod-bench's digit keys.
bench_wait_writable() {
  local i
  for i in $(seq 1 $(($2 * 5))); do
    if env -u ETCDCTL_ENDPOINTS ETCDCTL_API=3 etcdctl --endpoints "$1" \
        --dial-timeout 1s --command-timeout 2s put bench-ready 1 >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# bench_cpu_ticks PIDS...: utime+stime of the given processes, summed, in clock ticks.
bench_cpu_ticks() {
  local total=0 pid f
  for pid in "$@"; do
    # fields after the ")" that ends the command name: utime is the 12th, stime the 13th
    f=$(sed 's/.*) //' "/proc/$pid/stat")
    # shellcheck disable=SC2086  # split into the stat fields
    set -- $f
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

# bench_status_kib PID FIELD: one kB field of /proc/PID/status (VmRSS, VmHWM, RssAnon,
# RssFile, RssShmem).
bench_status_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
bench_hwm_kib() { bench_status_kib "$1" VmHWM; }
