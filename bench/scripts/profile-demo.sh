#!/usr/bin/env bash
# Where a payment's CPU goes (bench/RESULTS.md section 0): the demo (node, clearing simulator
# and generator in one process) at a steady rate, its CPU per payment with no profiler
# attached, then the same run under `perf record -g`, the samples classified by component and
# drawn as a flame graph.
# Usage: bench/scripts/profile-demo.sh [OUT_DIR] [RATE]   (default: profile-out, 6000)
# Needs: perf (Debian's linux-perf), python3, inferno (`cargo install inferno`) and a release
# build with frame pointers, so perf can walk the stacks:
#   RUSTFLAGS="-C force-frame-pointers=yes" cargo build --release -p switchyard
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-profile-out}
rate=${2:-6000}
bin=${SWITCHYARD_BIN:-target/release/switchyard}
for tool in perf inferno-collapse-perf inferno-flamegraph python3; do
  command -v "$tool" >/dev/null || { echo "profile-demo.sh: $tool not found" >&2; exit 1; }
done
mkdir -p "$out"
warm=5 window=10

# CPU seconds of PID (user + system) from /proc.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

echo "1/2: CPU per payment at $rate/s, no profiler ($window s window after $warm s)"
"$bin" demo --rate "$rate" --duration $((warm + window + 5)) >"$out/demo-noperf.txt" 2>&1 &
pid=$!
sleep "$warm"
t0=$(cpu_ticks "$pid")
sleep "$window"
t1=$(cpu_ticks "$pid")
wait "$pid"
hz=$(getconf CLK_TCK)
us=$(python3 -c "print(round(($t1 - $t0) / $hz * 1e6 / ($rate * $window)))")
echo "  $(((t1 - t0) / hz)) s of CPU for $((rate * window)) payments: $us µs per payment"
grep -E '^(throughput|ACK|result)' "$out/demo-noperf.txt" | sed 's/^/  /'

echo "2/2: the same run under perf record -F 299 -g"
"$bin" demo --rate "$rate" --duration $((warm + window + 5)) >"$out/demo.txt" 2>&1 &
pid=$!
sleep "$warm"
perf record -F 299 -g -p "$pid" -o "$out/perf.data" -- sleep "$window" 2>"$out/perf-record.txt"
wait "$pid"
perf script -i "$out/perf.data" 2>/dev/null | inferno-collapse-perf >"$out/folded.txt"
inferno-flamegraph --title "switchyard demo --rate $rate (node + clearing simulator + generator), perf -F 299 -g" \
  --width 1400 --minwidth 0.2 "$out/folded.txt" >"$out/flamegraph.svg"

# Each stack goes to the first component whose frames it contains.
python3 - "$out/folded.txt" "$us" <<'PY'
import collections, sys
components = [
    ("state projection (sled)", ["projector::run"]),
    ("journal writer (group commit, fdatasync)", ["journal-writer", "journal-spare", "Writer::run"]),
    ("clearing simulator", ["switchyard_clearing::sim::"]),
    ("load generator", ["switchyard_bench::"]),
    ("sled background I/O", ["sled-io"]),
    ("switch: ISO 20022 read + validate", ["messages::pacs008::read", "messages::pacs002::read",
                                           "envelope::parse", "switchyard_iso20022::schema", "xml::tree"]),
    ("switch: ISO 20022 write", ["switchyard_iso20022::messages"]),
    ("switch: TLS + socket writes", ["write_frames", "poll_write", "writev"]),
    ("switch: TLS + socket reads", ["poll_read", "poll_next", "recv", "read_io"]),
    ("switch: journal append (encode, enqueue)", ["JournalPort>::append", "codec::try_encode"]),
    ("switch: actors, routing, admission, metrics", ["switchyard_actors::", "switchyard::", "switchyard_clearing::",
                                                     "switchyard_wire::", "ractor::"]),
    ("runtime: park, epoll, wakeups", ["park", "epoll_wait", "futex"]),
]
total, by = 0, collections.Counter()
for line in open(sys.argv[1]):
    stack, n = line.rsplit(" ", 1)
    total += int(n)
    name = next((c for c, keys in components if any(k in stack for k in keys)), "other")
    by[name] += int(n)
per = float(sys.argv[2])
print("| component | share | µs per payment |\n|---|---:|---:|")
for name in [c for c, _ in components] + ["other"]:
    share = by[name] / total * 100 if total else 0
    print(f"| {name} | {share:.1f} % | {per * share / 100:.0f} |")
PY
echo "wrote $out/flamegraph.svg, $out/folded.txt, $out/perf.data"
