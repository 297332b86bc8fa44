#!/usr/bin/env bash
# Prepares this machine for `npm test`, idempotently: the Debian and Python packages the tests use,
# and PostgreSQL (127.0.0.1:5432) and NATS with JetStream (127.0.0.1:4222) running. Run as root on a
# Debian machine; each step is skipped when what it provides is already there.
set -euo pipefail

log() { printf '\n== %s\n' "$*"; }
nats_up() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

log "Debian packages the tests use"
need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
# infra/compose.test.ts validates the compose file with the client alone (no engine runs here).
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
command -v python3 >/dev/null || need+=(python3 python3-pip)
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${need[@]}"
else
  echo "all present"
fi

log "Python packages the tests use (the Python client, the PyTorch and TensorFlow examples, TensorBoard files)"
PYTHON=${PYTHON:-python3}
missing=()
# timm is left out: it needs torchvision, and the only torchvision wheels here are CUDA builds that do not load
# beside the CPU torch (the GPU machines have both).
for spec in torch:torch tensorflow:tensorflow-cpu tensorboard:tensorboard sklearn:scikit-learn numpy:numpy pytest:pytest yaml:pyyaml; do
  "$PYTHON" -c "import ${spec%%:*}" 2>/dev/null || missing+=("${spec#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  # These machines carry a local package index; naming it alone skips slow retries of an unreachable default one.
  index=()
  [ -d /opt/pypi/simple ] && index=(--index-url file:///opt/pypi/simple)
  [ -d /opt/pypi-more/simple ] && index+=(--extra-index-url file:///opt/pypi-more/simple)
  "$PYTHON" -m pip install -q "${index[@]}" "${missing[@]}"
else
  echo "all present"
fi

log "PostgreSQL on 127.0.0.1:5432"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
pg_isready -h 127.0.0.1 -p 5432
# The suite uses the database `test` (trust auth for local connections, as Debian's cluster here is set up).
psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" 2>/dev/null | grep -q 1 ||
  psql -h 127.0.0.1 -U postgres -c 'create database test' >/dev/null 2>&1 || true

log "NATS with JetStream on 127.0.0.1:4222"
if ! nats_up; then
  as_root mkdir -p /var/lib/nats-server
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
fi
for _ in $(seq 1 30); do nats_up && break; sleep 1; done
nats_up && echo "nats up"
