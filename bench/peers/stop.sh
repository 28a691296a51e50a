#!/usr/bin/env bash
# Stops the peers bench/peers/start.sh started under DIR; with --wipe also deletes DIR's data.
#   bench/peers/stop.sh DIR [--wipe]
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 DIR [--wipe]" >&2
  exit 2
fi
dir=$(cd "$1" && pwd)
wipe=${2:-}
status=0

if [[ -f $dir/nats/pid ]]; then
  pid=$(cat "$dir/nats/pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    echo "stopped nats (pid $pid)"
  fi
  rm -f "$dir/nats/pid"
fi

if [[ -d $dir/rabbitmq ]]; then
  (
    d=$dir/rabbitmq
    export RABBITMQ_NODENAME=switchyard-bench@localhost HOME=$d/home ERL_EPMD_ADDRESS=127.0.0.1
    export RABBITMQ_CONF_ENV_FILE=$d/rabbitmq-env.conf
    if /usr/lib/rabbitmq/bin/rabbitmqctl -q stop > /dev/null 2>&1; then echo "stopped rabbitmq"; fi
  ) || status=1
fi

if [[ -f $dir/postgres/data/postmaster.pid ]]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/postgres/data" -m fast -w stop > /dev/null || status=1
  else
    "$bin/pg_ctl" -D "$dir/postgres/data" -m fast -w stop > /dev/null || status=1
  fi
  echo "stopped postgres"
fi

if [[ $wipe == --wipe ]]; then
  rm -rf "$dir/nats" "$dir/rabbitmq" "$dir/postgres" "$dir/settings.txt"
  echo "wiped the peers' data under $dir"
fi
exit $status
