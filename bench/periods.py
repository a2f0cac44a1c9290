"""Billing periods: a usage update costs the same whatever the history, and a period
close costs little more than a plain update.

    python -m bench.periods [--orgs 10000] [--engines sqlite,postgres] [--repeats 5]

For each engine, one process builds two databases of the same customer base, one with
5 days of daily samples and updates, one with 60 (two billing periods closed on the
way), and times the newest day's update in each, alternating between the two
databases round by round (each round forgets the update and runs it again). The ratio
60 days ÷ 5 days says whether an update's cost grows with history (goal ≤ 1.1×).

In the 60-day database it then times, also alternately, a plain update (its previous
update in the same period) and the first update after a period's end (which first runs
the update as of that end, closing the period): the close ÷ plain ratio (goal ≤ 1.3×).
"""

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from bench import runner
from bench.bulk import DAY, log, prepare_database

HISTORY_GOAL = 1.1
CLOSE_GOAL = 1.3
SHORT, LONG = 5, 60
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/hostmeter_bench")


# ---------------------------------------------------------------- in the worker


def _use(name: str) -> None:
    """Points the default connection at another database (closed first)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def _databases(engine: str, data_dir: str) -> dict[str, str]:
    """The two databases' names, created empty (PostgreSQL) or as new files (SQLite)."""
    if engine == "sqlite":
        return {"short": f"{data_dir}/short.sqlite3", "long": f"{data_dir}/long.sqlite3"}
    import psycopg

    server, name = PG_URL.rsplit("/", 1)
    names = {"short": f"{name}_short", "long": f"{name}_long"}
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        for db in names.values():
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db}"')
    return names


def _anchor(day: datetime) -> int:
    """An anchor day that starts a billing period at most three days before `day`."""
    return min(28, day.day)


def _build(plan, *, boundary_after: int) -> None:
    """Migrates, generates the customer base and the plan's samples, and runs one update
    a day; the period starts `boundary_after` days after the plan's start."""
    from django.core.management import call_command
    from django.db import connection

    from bench import datagen
    from bench.bulk import update_run
    from hostmeter.tenancy.models import Provider

    call_command("migrate", verbosity=0)
    datagen.tenancy_generate(plan)
    Provider.objects.filter(pk=1).update(
        billing_anchor_day=_anchor(plan.start + boundary_after * DAY)
    )
    loaded = datagen.samples_bulk_load(datagen.samples(plan, range(plan.rounds)))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    started = time.perf_counter()
    for day in range(1, plan.days + 1):
        update_run(plan.cutoff(day))
    log(
        f"{plan.days} days: {loaded:,} samples, {plan.days} daily updates in "
        f"{time.perf_counter() - started:.1f} s"
    )


def _forget_from(cutoff: datetime) -> None:
    """Forgets every update as of `cutoff` or later (newest first)."""
    from bench.usage_update import update_forget
    from hostmeter.metering.models import UsageUpdate

    for pk in (
        UsageUpdate.objects.filter(cutoff__gte=cutoff)
        .order_by("-cutoff")
        .values_list("pk", flat=True)
    ):
        update_forget(pk)


def _timed_update(cutoff: datetime) -> tuple[float, int]:
    """Runs the update for a cut-off (forgetting it and anything after it first);
    returns the seconds and how many updates it made (2 when it closed a period)."""
    from bench.bulk import update_run
    from bench.usage_update import settle
    from hostmeter.metering.models import UsageUpdate

    _forget_from(cutoff - DAY + timedelta(seconds=1))
    before = UsageUpdate.objects.count()
    settle()
    start = time.perf_counter()
    update_run(cutoff)
    return time.perf_counter() - start, UsageUpdate.objects.count() - before


def measure(engine: str, orgs: int, repeats: int, data_dir: str) -> dict:
    from bench import datagen
    from bench.bulk import engine_version

    # Days from 02:00 (the default schedule's time), so that no cut-off falls on a
    # period's end itself: crossing one, an update closes the period first.
    start = (datetime.now(UTC) - (LONG + 3) * DAY).replace(hour=2, minute=0, second=0)
    start = start.replace(microsecond=0)
    names = _databases(engine, data_dir)
    # 60 days: the period starts about 40 days in, so days 41-60 share one period and
    # day 60's update carries on from day 59's.
    long_plan = datagen.Plan(orgs=orgs, samples_per_day=1, days=LONG, start=start)
    # 5 days: the same customer base, its period from the day before its samples.
    short_start = start + (LONG - SHORT) * DAY
    short_plan = datagen.Plan(orgs=orgs, samples_per_day=1, days=SHORT, start=short_start)
    _use(names["long"])
    _build(long_plan, boundary_after=40)
    _use(names["short"])
    _build(short_plan, boundary_after=-1)
    out: dict = {"engine": engine, "engine_version": engine_version(), "orgs": orgs}

    # History: the newest day's update in each database, alternately.
    history = {"short": [], "long": []}
    for i in range(repeats):
        for side in ("short", "long") if i % 2 else ("long", "short"):
            _use(names[side])
            plan = short_plan if side == "short" else long_plan
            seconds, made = _timed_update(plan.cutoff(plan.days))
            assert made == 1, f"{side}: the newest update closed a period ({made} updates)"
            history[side].append(seconds)
        log(
            f"{engine} history round {i + 1}: {SHORT} days {history['short'][-1]:.2f} s, "
            f"{LONG} days {history['long'][-1]:.2f} s"
        )
    out["history"] = history
    out["history_ratio"] = statistics.median(
        b / a for a, b in zip(history["short"], history["long"], strict=True)
    )

    # Period close: in the 60-day database, the update of the first day after the
    # boundary (closing the period first) against the plain one of the day before.
    from hostmeter.metering.models import UsageUpdate

    _use(names["long"])
    closing = UsageUpdate.objects.filter(trigger="close").order_by("-cutoff").first()
    assert closing is not None, "the 60 days closed no period"
    after = next(d for d in range(1, LONG + 1) if long_plan.cutoff(d) > closing.cutoff)
    close_s, plain_s = [], []
    for i in range(repeats):
        for side in ("plain", "close") if i % 2 else ("close", "plain"):
            day = after - 1 if side == "plain" else after
            seconds, made = _timed_update(long_plan.cutoff(day))
            assert made == (2 if side == "close" else 1), (side, made)
            (close_s if side == "close" else plain_s).append(seconds)
        log(f"{engine} close round {i + 1}: close {close_s[-1]:.2f} s, plain {plain_s[-1]:.2f} s")
    out["close"], out["plain"] = close_s, plain_s
    out["close_ratio"] = statistics.median(c / p for c, p in zip(close_s, plain_s, strict=True))
    return out


def worker(args) -> dict:
    import django

    with tempfile.TemporaryDirectory(prefix=f"hostmeter-bench-periods-{args.worker}-") as tmp:
        # measure() makes the two databases; until then the settings name the server's
        # own (PostgreSQL) or a file nothing opens (SQLite)
        prepare_database(args.worker, tmp, PG_URL.rsplit("/", 1)[0] + "/postgres", fresh=False)
        django.setup()
        return measure(args.worker, args.orgs, args.repeats, tmp)


# ---------------------------------------------------------------- the driver


def report(results: list[dict]) -> str:
    lines = [
        f"| engine | organizations | update, {SHORT} days s | update, {LONG} days s | "
        f"{LONG} ÷ {SHORT} days | plain update s | period-close update s | close ÷ plain |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        lines.append(
            f"| {r['engine_version']} | {r['orgs']:,} | "
            f"{statistics.median(r['history']['short']):.2f} | "
            f"{statistics.median(r['history']['long']):.2f} | **{r['history_ratio']:.2f}×** | "
            f"{statistics.median(r['plain']):.2f} | {statistics.median(r['close']):.2f} | "
            f"**{r['close_ratio']:.2f}×** |"
        )
    return "\n".join(lines)


def verdicts(results: list[dict]) -> int:
    status = 0
    for r in results:
        for label, ratio, goal in (
            (f"update at {LONG} ÷ {SHORT} days of history", r["history_ratio"], HISTORY_GOAL),
            ("period-close update ÷ plain update", r["close_ratio"], CLOSE_GOAL),
        ):
            met = ratio <= goal
            status = status or (0 if met else 2)
            verdict = "meets the goal" if met else "MISSES the goal"
            print(
                f"{r['engine_version']}, {r['orgs']:,} organizations: {label} "
                f"{ratio:.2f}× {verdict} (≤ {goal}×)"
            )
    return status


def main(argv=None) -> int:
    numbers = {
        "orgs": (int(os.environ.get("BENCH_PERIOD_ORGS", 10_000)), "organizations"),
        "repeats": (5, "timed rounds of each comparison"),
    }
    args = runner.parser(__doc__, **numbers).parse_args(argv)
    return runner.engines_main(
        args,
        worker,
        module="bench.periods",
        title="billing periods",
        forward=numbers,
        table=report,
        verdicts=verdicts,
    )


if __name__ == "__main__":
    sys.exit(main())
