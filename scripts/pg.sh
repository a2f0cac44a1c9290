#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432; start (or install) it if we can.
# Exit 0 when it answers, 1 when no PostgreSQL can be had here.
set -u
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null \
  || (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
pg_up && exit 0
if ! ls /etc/postgresql/*/main >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing PostgreSQL from Debian's packages…" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 || true
fi
if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
  echo "Starting PostgreSQL…" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start >&2 || true
fi
for _ in $(seq 1 30); do pg_up && exit 0; sleep 1; done
exit 1
