"""Shared by the benchmarks: throw-away databases, bulk inserts, samples, usage updates
and peak memory. Nothing here holds a table in memory."""

import ctypes
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 1000
DAY = timedelta(days=1)


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- databases


def prepare_database(engine: str, data_dir: str, pg_url: str, *, fresh: bool = True) -> None:
    """Points the settings at a throw-away database (before django.setup()): a SQLite
    file in data_dir, or the PostgreSQL database of pg_url, dropped and created when
    fresh. Report files go to data_dir too."""
    os.environ["HOSTMETER_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "hostmeter.settings"
    os.environ["HOSTMETER_LOG_LEVEL"] = "WARNING"
    if engine == "sqlite":
        path = Path(data_dir) / "bench.sqlite3"
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["HOSTMETER_DATABASE_URL"] = f"sqlite:///{path}"
        return
    if fresh:
        import psycopg

        server, name = pg_url.rsplit("/", 1)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["HOSTMETER_DATABASE_URL"] = pg_url


@contextmanager
def bench_database(
    engine: str,
    pg_url: str,
    *,
    prefix: str = "hostmeter-bench-",
    data_dir: str | None = None,
    fresh: bool = True,
) -> Iterator[str]:
    """This process on a throw-away database, migrated and with Django set up: a SQLite
    file in a temporary folder (or in data_dir, kept), or pg_url's PostgreSQL database.
    Yields the folder, where report files go too."""
    import django

    with ExitStack() as stack:
        if data_dir is None:
            data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix))
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        prepare_database(engine, data_dir, pg_url, fresh=fresh)
        migrate()  # with fresh=False too: the code may have new migrations since
        django.setup()
        yield data_dir


def migrate() -> None:
    """In its own process: the migration graph stays out of the measuring one's memory."""
    subprocess.run([sys.executable, "-m", "hostmeter", "migrate", "-v0"], check=True, cwd=ROOT)


def sqlite_path() -> str:
    from django.db import connection

    return connection.settings_dict["NAME"]


def engine_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"


def analyze() -> None:
    """What autovacuum (PostgreSQL) or `hostmeter`'s own upkeep would have done by now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


# ---------------------------------------------------------------- bulk inserts


def insert_rows(
    table: str, columns: list[str], rows: Iterable[tuple], *, atomic: bool = True
) -> int:
    """Multi-row INSERTs of BATCH rows each, in one transaction (atomic) or each in its
    own; returns how many rows went in."""
    from django.db import connection, transaction

    q = connection.ops.quote_name
    head = f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) VALUES "
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    count, batch = 0, []
    with transaction.atomic() if atomic else nullcontext(), connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                cursor.execute(head + ", ".join([one] * BATCH), [v for r in batch for v in r])
                count, batch = count + BATCH, []
        if batch:
            cursor.execute(head + ", ".join([one] * len(batch)), [v for r in batch for v in r])
            count += len(batch)
    return count


def reset_sequences(models) -> None:
    """Ids were given explicitly; PostgreSQL's sequences must move past them."""
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


def now_value():
    from django.db import connection
    from django.utils import timezone

    return connection.ops.adapt_datetimefield_value(timezone.now())


def service_ids() -> dict[str, int]:
    from hostmeter.tenancy.models import Service

    return dict(Service.objects.values_list("code", "id"))


def resources_by_service() -> dict[int, list[int]]:
    """Service id → ids of its resources."""
    from hostmeter.tenancy.models import Resource

    found: dict[int, list[int]] = {}
    for service_id, resource_id in Resource.objects.order_by("pk").values_list("service", "pk"):
        found.setdefault(service_id, []).append(resource_id)
    return found


# ---------------------------------------------------------------- samples and updates


def cutoffs(days: int) -> list[datetime]:
    """Midnight UTC at the end of each of the last `days` days, oldest first (all past)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - (days - 1 - d) * DAY for d in range(days)]


def samples(
    pairs: Iterable[tuple[int, int]], cutoff_list: list[datetime], per_day: int
) -> Iterator[tuple[int, int, datetime, int, str]]:
    """(organization, resource, measured at, thousandths, source): `per_day` readings of
    each (organization, resource) pair in the day before each cut-off. `pairs` is asked
    for again for every reading, so it must be re-iterable (a list or a callable)."""
    for day, cutoff in enumerate(cutoff_list):
        for k in range(per_day):
            at = cutoff - DAY + (k + 1) * DAY / (per_day + 1)
            for org, res in pairs() if callable(pairs) else pairs:
                # a spread of magnitudes, some with decimals, some whole
                value = (org * 7919 + res * 104729 + (day * per_day + k) * 15485863) % 10**9
                if org % 3 == 0:
                    value -= value % 1000
                yield org, res, at, value, "bench"


def samples_store(rows: Iterable[tuple[int, int, datetime, int, str]]) -> int:
    """The shipped bulk path (usage_samples_store), a transaction per 100,000 rows."""
    from itertools import islice

    from django.db import transaction

    from hostmeter.metering.services.samples import usage_samples_store

    stored, iterator = 0, iter(rows)
    while chunk := list(islice(iterator, 100_000)):
        with transaction.atomic():
            stored += usage_samples_store(chunk)
    return stored


def update_run(cutoff: datetime):
    """A real usage update for the cut-off: request it, run it, check it succeeded."""
    from hostmeter.metering.services.updates import usage_update_request, usage_update_run

    update = usage_update_request(cutoff=cutoff, trigger="command", enqueue=False)
    update = usage_update_run(update_id=update.pk)
    if update.status != "succeeded":
        raise SystemExit(f"usage update failed: {update.error}")
    return update


# ---------------------------------------------------------------- memory


def peak_reset() -> None:
    """Starts a new peak-RSS measurement (Linux: writing 5 to clear_refs resets VmHWM),
    after handing memory freed by earlier steps back to the system."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def rss_mb(field: str = "VmHWM") -> float:
    """Peak (VmHWM, since the last peak_reset()) or current (VmRSS) resident memory, MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
