#!/usr/bin/env bash
# Runs the whole suite against SQLite and against PostgreSQL (mandatory in CI).
# Usage: scripts/test.sh [sqlite|postgres|all] [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
which_db=${1:-all}; shift || true
PYTEST=(.venv/bin/pytest -n "${PYTEST_WORKERS:-2}" -q "$@")
PG_URL=${HOSTMETER_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/hostmeter}

# The browser tests (hostmeter/tests/browser) drive Debian's Chromium: install it where we
# can, stop here with the reason where we cannot (they are never skipped).
scripts/chromium.sh || exit 1

status=0
if [[ $which_db == all || $which_db == sqlite ]]; then
  echo "== Test suite on SQLite"
  HOSTMETER_DATABASE_URL=sqlite:///$PWD/var/test.sqlite3 "${PYTEST[@]}" || status=$?
fi
if [[ $which_db == all || $which_db == postgres ]]; then
  if scripts/pg.sh; then
    echo "== Test suite on PostgreSQL ($PG_URL)"
    HOSTMETER_DATABASE_URL=$PG_URL HOSTMETER_TEST_DB_NAME=test_hostmeter_$$ \
      "${PYTEST[@]}" || status=$?
  elif [[ ${CI:-} == true ]]; then
    echo "ERROR: PostgreSQL is required in CI and could not be started on 127.0.0.1:5432." >&2
    status=1
  else
    echo "" >&2
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
    echo "!! WARNING: no PostgreSQL on 127.0.0.1:5432 — ran the suite on SQLite ONLY !!" >&2
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  fi
fi
exit $status
