#!/usr/bin/env bash
# The peer comparison of bench/RESULTS.md ("Peers"), in one go: the switch demo and each peer at
# the same fixed rates, then each at saturation, interleaved so machine noise hits all alike.
#   bench/peers/start.sh DIR            # first: the peers, data under DIR
#   bench/peers/compare.sh DIR [SECONDS] [RATES...]   (default: 10 s, rates 2000 6000)
# Needs the release binaries:
#   cargo build --release -p switchyard -p switchyard-bench --features switchyard-bench/peers
# Writes every run's full output to DIR/results/ and prints one summary line per run.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 DIR [SECONDS] [RATES...]" >&2
  exit 2
fi
dir=$(cd "$1" && pwd)
secs=${2:-10}
shift $(($# >= 2 ? 2 : 1))
rates=("$@")
((${#rates[@]})) || rates=(2000 6000)
# The switch has no closed-loop mode: its saturation is the acknowledged rate of an overdriven
# open loop (the demo's tenants are limited to twice their share, so this is the demo's ceiling).
SWITCH_SATURATION_RATE=${SWITCH_SATURATION_RATE:-12000}

repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CARGO_TARGET_DIR:-$repo/target}/release
out=$dir/results
mkdir -p "$out"

summary() { # summary NAME FILE: acknowledged/s, ACK p50 and p99 (ms), errors
  local name=$1 file=$2 tput row
  tput=$(grep -Eo '^(throughput +[0-9]+|acknowledged/s [0-9]+)' "$file" | grep -Eo '[0-9]+$' || echo "?")
  row=$(grep -E '^(ACK \(→ACTC\)|ack) ' "$file" | head -1 | awk '{print "p50 " $(NF-4) "  p99 " $(NF-2)}')
  printf '%-28s %8s ack/s  %s  %s\n' "$name" "$tput" "$row" \
    "$(grep -Eo '(errors [0-9]+  unanswered [0-9]+|result: [A-Z]+)' "$file" | head -1)"
}

run() { # run NAME COMMAND...: runs, keeps the output, prints the summary (failures are reported, not fatal)
  local name=$1 file=$out/$1.txt
  shift
  echo "\$ $*" > "$file"
  "$@" >> "$file" 2>&1 || echo "(exit $?)" >> "$file"
  summary "$name" "$file"
}

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for rate in "${rates[@]}"; do
  run "switch-rate$rate" "$bin/switchyard" demo --rate "$rate" --duration "$secs"
  for kind in nats rabbitmq postgres; do
    run "$kind-rate$rate" "$bin/switchyard-bench" peer --kind "$kind" --rate "$rate" --duration "$secs"
  done
done
run "switch-saturate" "$bin/switchyard" demo --rate "$SWITCH_SATURATION_RATE" --duration "$secs"
for kind in nats rabbitmq postgres; do
  run "$kind-saturate" "$bin/switchyard-bench" peer --kind "$kind" --saturate --duration "$secs"
done
echo "# done $(date -u +%Y-%m-%dT%H:%M:%SZ), load average: $(cut -d' ' -f1-3 /proc/loadavg); outputs in $out"
