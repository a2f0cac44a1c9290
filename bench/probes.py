"""What the benchmark measures besides wall time: peak memory and where an update's time goes."""

import ctypes
import time
from collections import defaultdict
from contextlib import contextmanager, suppress
from pathlib import Path


def peak_reset() -> None:
    """Starts a new peak-RSS measurement (Linux: writing 5 to clear_refs resets VmHWM).

    Memory freed by earlier steps is first handed back to the system, so that the
    next peak is that step's own and not what the allocator kept from before.
    """
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_mb() -> float:
    """Peak resident memory of this process since the last peak_reset(), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
