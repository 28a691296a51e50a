#!/usr/bin/env bash
# Long crash campaign for the journal (issue 5): CYCLES kill/recover cycles with real processes,
# half in Fdatasync mode (SIGKILL only) and half in PowerLossSimulation mode (SIGKILL plus the
# loss of every write not covered by an fdatasync), then the AckBeforeSync canary, which must be
# caught. Every acknowledged record must survive each cycle intact.
#
# Usage: adapters/journal/scripts/crash-journal.sh [CYCLES]   (default 1000)
# Env:   CRASH_SEED to replay a run (the seed is printed), CARGO_TARGET_DIR as usual.
set -euo pipefail
cycles="${1:-1000}"
cd "$(dirname "$0")/../../.."
export CRASH_CYCLES="$cycles"
echo "crash-journal: ${cycles} cycles"
cargo test --release -p switchyard-journal --test crash -- \
  --ignored --exact crash_cycles_long --nocapture
cargo test --release -p switchyard-journal --test crash -- \
  --exact canary_ack_before_sync_is_detected --nocapture
