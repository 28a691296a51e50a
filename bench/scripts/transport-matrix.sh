#!/usr/bin/env bash
# The switch next to the raw TLS/QUIC echo baseline at the same rates and bytes, node (or echo
# server) pinned to core 0 and the generator to core 1, then a 5 ms ACK-p99 sweep over TLS.
# Usage: bench/scripts/transport-matrix.sh [OUT_DIR] [RATES...]   (default: bench-out, 2000 5000 10000)
# Needs: cargo build --release -p switchyard -p switchyard-bench (binaries side by side).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bench-out}
shift || true
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(2000 5000 10000)
mkdir -p "$out"
bin=${BENCH_BIN:-target/release/switchyard-bench}
common=(--duration "${DURATION:-10}" --warmup "${WARMUP:-2}" --pin-node 0 --pin-generator 1 --no-progress)
for transport in tls quic; do
  for rate in "${rates[@]}"; do
    "$bin" load --target-kind echo --transport "$transport" --rate "$rate" "${common[@]}" \
      --out "$out/echo-$transport-$rate" >"$out/echo-$transport-$rate.txt" 2>&1 || true
    "$bin" load --target-kind switch --transport "$transport" --rate "$rate" "${common[@]}" \
      --baseline "$out/echo-$transport-$rate" --out "$out/switch-$transport-$rate" \
      >"$out/switch-$transport-$rate.txt" 2>&1 || true
  done
done
"$bin" sweep --p99-bound-ms 5 --start-rate 2000 --step-rate 2000 --max-rate 30000 --resolution 500 \
  --step-duration 5 --warmup 1 --pin-node 0 --pin-generator 1 --no-progress --out "$out/sweep-tls" \
  >"$out/sweep-tls.txt" 2>&1 || true
# One line per run: kind, transport, rate, acknowledged/s, ACK p50/p99/p99.9/max, final p50/p99.
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
print("| run | acknowledged/s | ACK p50 | ACK p99 | ACK p99.9 | ACK max | final p50 | final p99 | unanswered |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name in sorted(os.listdir(out)):
    path = os.path.join(out, name, "report.json")
    if not os.path.exists(path):
        continue
    r = json.load(open(path))["results"]
    a, f = r["ack"], r["final"]
    print(f"| {name} | {r['ack_throughput_per_s']:.0f} | {a['p50_ms']:.3f} | {a['p99_ms']:.3f} | {a['p999_ms']:.3f} "
          f"| {a['max_ms']:.3f} | {f['p50_ms']:.3f} | {f['p99_ms']:.3f} | {r['unanswered']} |")
PY
