#!/usr/bin/env bash
# The standalone etcd_wire_server process against Debian's etcdctl:
#   wire_server_smoke.sh <etcd_wire_server> <etcdctl>
# Starts the server on a free loopback port, writes and reads one key, checks the JSON fields.
set -euo pipefail
server_bin="$1"
etcdctl_bin="$2"
if [ ! -x "$etcdctl_bin" ]; then echo "no etcdctl at $etcdctl_bin: skipped"; exit 0; fi

out=$(mktemp)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -f "$out"
}
trap cleanup EXIT

"$server_bin" --listen 127.0.0.1:0 >"$out" &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$out" && break
  sleep 0.05  # real-process layer: waiting for the child to bind is the point
done
endpoint=$(sed -n 's/^listening on //p' "$out")
[ -n "$endpoint" ] || { echo "server did not report its endpoint"; exit 1; }
case "$endpoint" in 127.0.0.1:*) ;; *) echo "not loopback: $endpoint"; exit 1 ;; esac

ctl() {
  env -u ETCDCTL_ENDPOINTS -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY \
    ETCDCTL_API=3 "$etcdctl_bin" --endpoints="$endpoint" --dial-timeout=3s \
    --command-timeout=5s "$@"
}

[ "$(ctl put foo bar)" = "OK" ] || { echo "put failed"; exit 1; }
json=$(ctl get foo -w json)
echo "$json"
for field in '"revision":2' '"key":"Zm9v"' '"value":"YmFy"' '"create_revision":2' \
             '"mod_revision":2' '"version":1' '"count":1'; do
  case "$json" in
    *"$field"*) ;;
    *) echo "missing $field"; exit 1 ;;
  esac
done

kill -TERM "$server_pid"
wait "$server_pid"  # exits 0 on SIGTERM
server_pid=""
echo "wire server smoke: ok"
