#!/usr/bin/env bash
# Overload (issue 10 §3): the self-hosted node + clearing simulator under 2x its sustainable rate.
#   1. sweep:     `switchyard-bench sweep` finds the capacity K: the highest offered rate whose
#                 ACK p99 stays within P99_BOUND_MS (the bound the admitted payments must keep at
#                 2C). The sustainable rate C is RATED_PCT % of K (default 85): the node's rated
#                 rate must leave room to refuse as many again, and a refusal costs ~17 % of an
#                 admitted payment's CPU (docs/RELIABILITY.md §6), so at C = K the excess alone
#                 pushes the node past its bound;
#   2. baseline:  offered C;
#   3. overload:  offered 2C, no tenant limit, no node bound: the excess is held back by the
#                 credit window (and queues);
#   4. limited:   offered 2C with every tenant limited to C/TENANTS per second and the node's
#                 in-flight bound set: the excess is refused explicitly (RJCT before ACTC);
#   5. capped:    offered 2C, tenants unlimited, only the node's in-flight bound
#                 (limits.node_max_in_flight = NODE_MAX_IN_FLIGHT): the excess is refused
#                 explicitly (RJCT NARR busy) once that many payments are in flight.
# The node (and simulator) run pinned to core PIN_NODE, the generator to PIN_GENERATOR, so the
# generator's own work at 2C does not take the node's CPU (2+ cores; PIN=0 turns pinning off).
# For each run: the node's peak RSS (sampled every 200 ms from /proc) and the generator's ledger
# (submitted = acknowledged + refused, nothing stuck or unanswered: nothing dropped).
# Usage: bench/scripts/overload.sh [SECONDS]   env: PROFILE=release|debug (default release),
#        P99_BOUND_MS (default 20), RATED_PCT (default 85), TENANTS (default 4), DRAIN (seconds for the last answers,
#        default 60), NODE_MAX_IN_FLIGHT (default 1000), PIN (default 1), PIN_NODE (default 1),
#        PIN_GENERATOR (default 0), OUT (default bench-out/overload).
# Exit 0 only if no run lost, stranded or left unanswered a payment and the limited run's
# admitted ACK p99 is within P99_BOUND_MS. See docs/RELIABILITY.md §6.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-10}"
profile="${PROFILE:-release}"
bound="${P99_BOUND_MS:-20}"
pin=()
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
  pin=(--pin-node "${PIN_NODE:-1}" --pin-generator "${PIN_GENERATOR:-0}")
fi
tenants="${TENANTS:-4}"
out="${OUT:-bench-out/overload}"
if [ "$profile" = release ]; then
  cargo build --release -p switchyard -p switchyard-bench
else
  cargo build -p switchyard -p switchyard-bench
fi
bin="${CARGO_TARGET_DIR:-target}/$profile"
mkdir -p "$out"
failed=0

field() { # report.json expression
  python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; print($2)" "$1/report.json"
}

run() { # NAME RATE [extra load args]
  local name="$1" rate="$2"
  shift 2
  "$bin/switchyard-bench" load --switchyard-bin "$bin/switchyard" --rate "$rate" --duration "$secs" \
    --warmup 2 --drain "${DRAIN:-60}" --tenants "$tenants" --participants "$tenants" --no-progress --out "$out/$name" \
    "${pin[@]}" "$@" \
    >"$out/$name.txt" 2>&1 &
  local gen=$! peak=0 node rss
  while kill -0 "$gen" 2>/dev/null; do
    # The node is the child running `switchyard run` (the simulator runs `clearing-sim`).
    node="$(ps -o pid=,args= --ppid "$gen" 2>/dev/null | awk '/ run /{print $1; exit}' || true)"
    if [ -n "$node" ]; then
      rss="$(awk '/^VmRSS/{print $2}' "/proc/$node/status" 2>/dev/null || echo 0)"
      [ "${rss:-0}" -gt "$peak" ] && peak="$rss"
    fi
    sleep 0.2
  done
  wait "$gen" || { echo "$name: load generator failed, see $out/$name.txt" >&2; failed=1; return; }
  local summary
  summary="$(field "$out/$name" "'offered %d/s: acknowledged %.0f/s; submitted %d acknowledged %d refused %d settled %d rejected %d stuck %d unanswered %d in doubt %d; ACK p99 %.1f ms, admitted ACK p99 %.1f ms, send lag p99 %.1f ms' % (r['offered_rate_per_s'], r['ack_throughput_per_s'], r['submitted'], r['acknowledged'], r['refused'], r['settled'], r['rejected'], r['stuck'], r['unanswered'], r['in_doubt'], r['ack']['p99_ms'], r['admitted_ack']['p99_ms'], r['send_lag']['p99_ms'])")"
  echo "$name: $summary; node peak RSS $((peak / 1024)) MiB"
  if [ "$(field "$out/$name" "r['stuck'] + r['unanswered'] + r['submitted'] - r['acknowledged'] - r['refused']")" != 0 ]; then
    echo "$name: payments dropped, stranded or unanswered" >&2
    failed=1
  fi
}

"$bin/switchyard-bench" sweep --switchyard-bin "$bin/switchyard" --p99-bound-ms "$bound" --start-rate 1000 \
  --step-rate 1000 --max-rate 40000 --resolution 250 --step-duration 5 --warmup 1 --drain "${DRAIN:-60}" \
  --tenants "$tenants" --participants "$tenants" --no-progress --out "$out/sweep" "${pin[@]}" >"$out/sweep.txt" 2>&1 ||
  { echo "sweep failed, see $out/sweep.txt" >&2; exit 1; }
capacity="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['highest_passing_rate'] or 0)" "$out/sweep/sweep.json")"
[ "$capacity" -gt 0 ] || { echo "no rate kept ACK p99 within $bound ms, see $out/sweep.txt" >&2; exit 1; }
sustainable=$((capacity * ${RATED_PCT:-85} / 100))
echo "capacity K = $capacity payments/s (the highest whose ACK p99 <= $bound ms); sustainable rate C = ${RATED_PCT:-85} % of K = $sustainable payments/s"
run baseline "$sustainable"
run overload $((2 * sustainable))
per_tenant=$((sustainable / tenants))
cap="${NODE_MAX_IN_FLIGHT:-1000}"
run limited $((2 * sustainable)) --tenant-rate "$((per_tenant > 0 ? per_tenant : 1))" --node-max-in-flight "$cap"
run capped $((2 * sustainable)) --node-max-in-flight "$cap"
if [ -f "$out/limited/report.json" ]; then
  kept="$(field "$out/limited" "int(r['admitted_ack']['p99_ms'] <= $bound)")"
  if [ "$kept" = 1 ]; then
    echo "limited: admitted ACK p99 within the $bound ms bound at 2C"
  else
    echo "limited: admitted ACK p99 above the $bound ms bound at 2C" >&2
    failed=1
  fi
fi
exit "$failed"
