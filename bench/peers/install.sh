#!/usr/bin/env bash
# Installs the peers `switchyard-bench peer` measures, from Debian's own packages:
#   nats-server (NATS with JetStream), rabbitmq-server (quorum queues), postgresql.
# Needs root (apt-get). Installs only what is missing. The packaged system services are not
# used: bench/peers/start.sh runs private instances on loopback with throwaway data dirs.
set -euo pipefail

packages=(nats-server rabbitmq-server postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: need root to apt-get install ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Debian packages may have started their own services (RabbitMQ on 5672, PostgreSQL on
# 5432). start.sh uses other ports, so they do not collide; stop them if you want a quiet box:
#   systemctl stop rabbitmq-server postgresql

echo "installed:"
for p in "${packages[@]}"; do
  printf '  %-16s %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p")"
done
