#!/usr/bin/env bash
# Starts the peers on loopback, each with a fresh data directory under DIR (never the repo):
#   bench/peers/start.sh DIR [nats] [rabbitmq] [postgres]     (default: all three)
# Writes DIR/settings.txt: versions, ports and the exact configuration of each peer.
# Stop them with bench/peers/stop.sh DIR. Ports (override with the environment variables):
#   NATS 42220 (NATS_PORT), RabbitMQ AMQP 56720 (AMQP_PORT, Erlang distribution AMQP_PORT+1),
#   PostgreSQL 54320 (PG_PORT). These are the defaults of `switchyard-bench peer --kind ...`.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 DIR [nats] [rabbitmq] [postgres]" >&2
  exit 2
fi
dir=$1
shift
kinds=("$@")
((${#kinds[@]})) || kinds=(nats rabbitmq postgres)

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
case "$dir/" in
  "$repo"/*) echo "start.sh: DIR must be outside the repository ($repo)" >&2; exit 2 ;;
esac

NATS_PORT=${NATS_PORT:-42220}
AMQP_PORT=${AMQP_PORT:-56720}
PG_PORT=${PG_PORT:-54320}
settings=$dir/settings.txt
{
  echo "# switchyard-bench peers, started $(date -u +%Y-%m-%dT%H:%M:%SZ) by bench/peers/start.sh"
  echo "# kernel: $(uname -r); cpus: $(nproc); data under: $dir"
} >> "$settings"

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "start.sh: $what did not come up; see the logs under $dir" >&2
      return 1
    fi
    sleep 0.5
  done
}

start_nats() {
  local d=$dir/nats
  rm -rf "$d"
  mkdir -p "$d/store"
  # JetStream, file storage. nats-server 2.9 has no per-message fsync option (`sync_interval`
  # arrived in 2.10; 2.9.10 rejects it): acknowledged writes reach the OS page cache and are
  # fsynced in the background. See README.md.
  cat > "$d/nats.conf" <<CONF
listen: 127.0.0.1:$NATS_PORT
server_name: switchyard-bench
max_payload: 1MB
jetstream {
  store_dir: "$d/store"
  max_memory_store: 256MB
  max_file_store: 16GB
}
CONF
  setsid nats-server -c "$d/nats.conf" > "$d/nats.log" 2>&1 < /dev/null &
  echo $! > "$d/pid"
  wait_for 30 "nats-server" bash -c "exec 3<>/dev/tcp/127.0.0.1/$NATS_PORT"
  {
    echo
    echo "## nats: $(nats-server --version), port $NATS_PORT, pid $(cat "$d/pid")"
    sed 's/^/    /' "$d/nats.conf"
  } >> "$settings"
}

rabbit_env() {
  local d=$dir/rabbitmq
  export RABBITMQ_NODENAME=switchyard-bench@localhost
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$AMQP_PORT
  export RABBITMQ_DIST_PORT=$((AMQP_PORT + 1))
  export RABBITMQ_CONFIG_FILE=$d/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$d/advanced.config
  export RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins
  export RABBITMQ_MNESIA_BASE=$d/mnesia
  export RABBITMQ_LOG_BASE=$d/log
  export RABBITMQ_PID_FILE=$d/pid
  export RABBITMQ_CONF_ENV_FILE=$d/rabbitmq-env.conf
  export ERL_EPMD_ADDRESS=127.0.0.1
  export HOME=$d/home
}

start_rabbitmq() {
  local d=$dir/rabbitmq
  rm -rf "$d"
  mkdir -p "$d/mnesia" "$d/log" "$d/home"
  (
    rabbit_env
    : > "$RABBITMQ_CONF_ENV_FILE"
    echo "[]." > "$RABBITMQ_ENABLED_PLUGINS_FILE"
    echo "[]." > "$RABBITMQ_ADVANCED_CONFIG_FILE"
    # Defaults for durability: quorum queues fsync their Raft log before confirming.
    cat > "$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.1 = 127.0.0.1:$AMQP_PORT
loopback_users.guest = true
disk_free_limit.absolute = 1GB
vm_memory_high_watermark.relative = 0.4
log.file.level = warning
CONF
    setsid /usr/lib/rabbitmq/bin/rabbitmq-server > "$d/stdout.log" 2>&1 < /dev/null &
    wait_for 120 "rabbitmq-server" /usr/lib/rabbitmq/bin/rabbitmqctl -q await_startup --timeout 5
    {
      echo
      echo "## rabbitmq: $(/usr/lib/rabbitmq/bin/rabbitmqctl -q version), erlang $(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().'), AMQP port $AMQP_PORT"
      echo "    queue: quorum (x-queue-type=quorum), durable; messages persistent; publisher confirms"
      sed 's/^/    /' "$RABBITMQ_CONFIG_FILE"
    } >> "$settings"
  )
}

# PostgreSQL refuses to run as root: run it as the `postgres` user the package created.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local d=$dir/postgres bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  rm -rf "$d"
  mkdir -p "$d"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$d"; fi
  as_pg "$bin/initdb" -D "$d/data" -U switchyard --auth=trust --encoding=UTF8 > "$d/initdb.log"
  # The durability settings, all explicit (they are PostgreSQL's defaults too).
  cat > "$d/bench.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$d'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
full_page_writes = on
wal_sync_method = fdatasync
commit_delay = 0
CONF
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$d/bench.conf"; fi
  echo "include '$d/bench.conf'" | as_pg tee -a "$d/data/postgresql.conf" > /dev/null
  as_pg "$bin/pg_ctl" -D "$d/data" -l "$d/postgres.log" -w -t 60 start > /dev/null
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U switchyard switchyard
  {
    echo
    echo "## postgres: $("$bin/postgres" --version), port $PG_PORT, user/db switchyard (trust, loopback)"
    sed 's/^/    /' "$d/bench.conf"
  } >> "$settings"
}

for kind in "${kinds[@]}"; do
  case $kind in
    nats) start_nats ;;
    rabbitmq) start_rabbitmq ;;
    postgres) start_postgres ;;
    *) echo "start.sh: unknown peer $kind (nats, rabbitmq, postgres)" >&2; exit 2 ;;
  esac
  echo "started $kind"
done
cat "$settings"
