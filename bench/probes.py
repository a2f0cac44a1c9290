"""Where a usage update's time goes: its statements and COMMITs, timed by part."""

import time
from collections import defaultdict
from contextlib import contextmanager

# Statement prefix → part of an update it belongs to.
PARTS = {
    'INSERT INTO "metering_usagerow"': "usage rows",
    # PostgreSQL: the update's partition, written, indexed and attached (migration 0006)
    'CREATE TABLE "metering_usagerow_u': "usage rows",
    'ALTER TABLE "metering_usagerow': "usage rows",
    'INSERT INTO "metering_usagerollup"': "roll-ups",
}


@contextmanager
def update_clock(connection):
    """Times the statements of whatever runs inside, and the COMMITs.

    Yields a dict part → seconds: "usage rows" (the INSERT of the per-organization
    rows; on PostgreSQL the partition's CREATE TABLE AS, its indexes and the ATTACH),
    "roll-ups", "commit" and "other statements".
    """
    parts: dict[str, float] = defaultdict(float)

    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            part = next((p for k, p in PARTS.items() if sql.lstrip().startswith(k)), "other")
            parts[part] += time.perf_counter() - start

    commit = connection.commit

    def timed_commit():
        start = time.perf_counter()
        try:
            return commit()
        finally:
            parts["commit"] += time.perf_counter() - start

    connection.commit = timed_commit
    try:
        with connection.execute_wrapper(wrapper):
            yield parts
    finally:
        del connection.commit
