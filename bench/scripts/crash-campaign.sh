#!/usr/bin/env bash
# The long crash campaign (issue 10): the real node under load, killed / paused / drained at
# random moments and restarted, for CYCLES cycles (default 1000); then the ack-before-sync
# canary, which must fail. Usage: bench/scripts/crash-campaign.sh [CYCLES] [SEED]
# Exit 0 only if the campaign passes and the canary is caught. See docs/RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
cycles="${1:-1000}"
seed="${2:-$(date +%s)}"
cargo build --release -p switchyard -p switchyard-bench
bin="${CARGO_TARGET_DIR:-target}/release"
echo "== campaign: $cycles cycles, seed $seed"
"$bin/switchyard-bench" crash --switchyard "$bin/switchyard" --cycles "$cycles" --seed "$seed" --quiet
echo "== canary: journal.sync = ack-before-sync must lose acknowledged payments"
if "$bin/switchyard-bench" crash --switchyard "$bin/switchyard" --cycles 20 --seed "$seed" \
  --rate 200 --journal-sync ack-before-sync --quiet; then
  echo "canary NOT detected" >&2
  exit 1
fi
echo "canary detected"
