"""Benchmark of report generation against the database's own CSV export of the same rows.

    python -m bench.reports [--orgs 100000] [--engines sqlite,postgres] [--repeats 3]

For each engine a worker builds a throw-away database (SQLite in a temporary folder;
PostgreSQL: BENCH_REPORTS_PG_URL, default hostmeter_bench_reports, dropped and created)
holding a reseller with a sub-reseller that own --orgs organizations between them, a
second such pair owning a quarter as many, other organizations around them, and one
completed usage update from real samples. Then, per size (a quarter of --orgs, then
--orgs), a fresh process times the real path (report_request(kind="reseller") then
report_generate(): temporary file, SHA-256, storage, Ready) against the database
exporting the very same SQL (reports.columns.report_query: same query, same columns):
PostgreSQL `COPY (…) TO STDOUT WITH (FORMAT csv)` through psycopg into a file, SQLite
the `sqlite3 -csv` shell into a file. One untimed warm-up of each, then --repeats
rounds alternating which goes first; rates are rows per second, the ratio is the
median of the rounds' report ÷ export rates. Peak memory: the process's peak RSS during
report_generate (VmHWM, reset before it) and, in an extra untimed run, the Python heap
peak (tracemalloc). Both files are checked: same data rows, parsed cell by cell.
Goal: at least 0.5× COPY's rate on PostgreSQL, 0.3× the shell's on SQLite, and peak
memory flat as rows grow.
"""

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import time
from itertools import zip_longest
from pathlib import Path

from bench import runner
from bench.bulk import (
    analyze,
    bench_database,
    cutoffs,
    engine_version,
    insert_rows,
    log,
    now_value,
    peak_reset,
    reset_sequences,
    resources_by_service,
    rss_mb,
    samples,
    samples_store,
    service_ids,
    sqlite_path,
    update_run,
)

GOALS = {"sqlite": 0.3, "postgres": 0.5}
SQLITE_SHELL = shutil.which("sqlite3") or "/usr/bin/sqlite3"
PG_URL = os.environ.get(
    "BENCH_REPORTS_PG_URL", "postgres://postgres@127.0.0.1:5432/hostmeter_bench_reports"
)
# Names a CSV writer or a spreadsheet could get wrong, given to one organization in 997.
TRICKY = (
    'Acme, "Best" Hosting',
    '=HYPERLINK("http://evil.example/","click me")',
    "-2 Minus",
    "+1 Plus",
    "@mention",
    "Zoë's Café",
    "東京ホスティング",
    "Two\r\nlines",
    "\tTabbed",
)
WORDS = ("Bakery", "Law Office", "Garage", "Studio", "Clinic", "Hotel", "Travel", "Gallery")
SERVICES_EVERY = {"web": 1, "mail": 1, "db": 1, "dns": 1, "ftp": 2, "ssl": 3, "backup": 5}


# ---------------------------------------------------------------- data


def layout(orgs: int) -> list[tuple[int, int | None, int]]:
    """(reseller id, parent id, organizations it owns): resellers 1 (with sub-reseller 2)
    own `orgs` between them, 3 (with 4) a quarter of that, 5 a tenth; id 0 stands for
    organizations added directly (a twentieth)."""
    quarter = orgs // 4
    return [
        (1, None, orgs - orgs // 5),
        (2, 1, orgs // 5),
        (3, None, quarter - quarter // 5),
        (4, 3, quarter // 5),
        (5, None, orgs // 10),
        (0, None, orgs // 20),
    ]


def org_name(i: int) -> str:
    if i % 997 == 0:
        return f"{TRICKY[(i // 997) % len(TRICKY)]} {i}"
    h = (i * 2654435761) % 2**32
    return f"{WORDS[h % len(WORDS)]} {h % 100_000:05d} {i}"


def generate(orgs: int) -> dict:
    from hostmeter.tenancy.models import Organization, Reseller, Resource, ResourceLimit
    from hostmeter.tenancy.names import name_key
    from hostmeter.tenancy.services import reseller_links_rebuild

    now = now_value()
    services, resources = service_ids(), resources_by_service()
    codes = dict(Resource.objects.values_list("code", "id"))
    plan = layout(orgs)
    resellers = [(pk, parent) for pk, parent, _ in plan if pk]
    insert_rows(
        Reseller._meta.db_table,
        ["id", "name", "name_key", "domain", "parent_id", "contact_name", "contact_email"]
        + ["is_suspended", "created_at"],
        (
            (pk, f"Reseller {pk}", name_key(f"Reseller {pk}"), f"reseller{pk}.example", parent)
            + ("", "", False, now)
            for pk, parent in resellers
        ),
    )
    insert_rows(
        Reseller.services.through._meta.db_table,
        ["reseller_id", "service_id"],
        ((pk, s) for pk, _ in resellers for s in services.values()),
    )
    reseller_links_rebuild()
    owners = [(pk or None, n) for pk, _, n in plan]
    total = sum(n for _, n in owners)

    def owner_of():
        for pk, n in owners:
            yield from [pk] * n

    insert_rows(
        Organization._meta.db_table,
        ["id", "name", "name_key", "domain", "reseller_id", "is_suspended", "created_at"],
        (
            (i, name, name_key(name), f"org{i}.example", pk, False, now)
            for i, pk in enumerate(owner_of(), start=1)
            for name in [org_name(i)]
        ),
    )
    enabled = {
        i: [services[c] for c, every in SERVICES_EVERY.items() if i % every == 0]
        for i in range(1, 31)  # the pattern repeats every 30 organizations
    }
    insert_rows(
        Organization.services.through._meta.db_table,
        ["organization_id", "service_id"],
        ((i, s) for i in range(1, total + 1) for s in enabled[(i - 1) % 30 + 1]),
    )
    limits = [(rid, None, None, 10**15) for rid in codes.values()]
    limits += [
        (codes[c], pk, None, 10**11)
        for pk, _ in resellers
        for c in ("disk_space", "bandwidth", "mailboxes")
    ]
    limits += [
        (codes[c], None, i, 10**8)
        for i in range(4, total + 1, 4)
        for c in ("disk_space", "mailboxes")
    ]
    insert_rows(
        ResourceLimit._meta.db_table,
        ["resource_id", "reseller_id", "organization_id", "limit"],
        limits,
    )
    reset_sequences([Reseller, Organization])

    def pairs():
        for i in range(1, total + 1):
            for s in enabled[(i - 1) % 30 + 1]:
                for res in resources[s]:
                    yield i, res

    stored = samples_store(samples(pairs, cutoffs(1), per_day=1))
    log(f"{total:,} organizations, {stored:,} samples")
    analyze()
    update = update_run(cutoffs(1)[-1])
    analyze()
    log(f"usage update: {update.rows_count:,} rows")
    return {"organizations": total, "samples": stored, "usage_rows": update.rows_count}


# ---------------------------------------------------------------- one size, in a fresh process


def sqlite_literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def export_baseline(query, path: str) -> None:
    """The database's own CSV export of the report's SQL, into path."""
    from django.db import connection

    if connection.vendor == "postgresql":
        from hostmeter.jit import without_jit

        # report_generate runs without JIT: so does the yardstick, or it would carry
        # compile time the report does not
        with (
            without_jit(),
            open(path, "wb") as out,
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY ({query.sql}) TO STDOUT WITH (FORMAT csv)", query.params
            ) as copy,
        ):
            for data in copy:
                out.write(data)
        return
    # the parameters substituted (%% becomes %), as one would paste the query in the shell
    sql = query.sql % {k: sqlite_literal(v) for k, v in query.params.items()}
    with open(path, "wb") as out:
        subprocess.run(
            [SQLITE_SHELL, "-batch", "-init", "/dev/null", "-csv", sqlite_path(), sql],
            stdout=out,
            stderr=subprocess.DEVNULL,
            check=True,
        )


class CountClock:
    """Times the report's row count statement (most of the rest is the export)."""

    def __init__(self, count_sql: str):
        self.count_sql, self.seconds = count_sql, 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if sql == self.count_sql:
                self.seconds += time.perf_counter() - start


def generate_report(reseller, update, *, memory: bool = False):
    """The real path; returns (seconds, report, peak RSS MB, COUNT seconds)."""
    from django.db import connection

    from hostmeter.reports.columns import report_query
    from hostmeter.reports.services import report_generate, report_request

    report, _ = report_request(kind="reseller", subject=reseller, update=update, regenerate=True)
    clock = CountClock(report_query(report=report).count_sql)
    peak_reset()
    with connection.execute_wrapper(clock):
        start = time.perf_counter()
        report = report_generate(report_id=report.pk)
        seconds = time.perf_counter() - start
    peak = rss_mb("VmHWM")
    if report.status != "ready":
        raise SystemExit(f"report failed: {report.error}")
    return seconds, report, peak, clock.seconds


def compare_files(ours: str, theirs: str) -> dict:
    """Data rows of both files, and how many differ once parsed as CSV."""
    with (
        open(ours, encoding="utf-8-sig", newline="") as a,
        open(theirs, encoding="utf-8", newline="") as b,
    ):
        mine, baseline = csv.reader(a), csv.reader(b)
        header = next(mine)
        rows = {"ours": 0, "baseline": 0, "differing": 0, "columns": len(header)}
        for x, y in zip_longest(mine, baseline):
            rows["ours"] += x is not None
            rows["baseline"] += y is not None
            rows["differing"] += x != y
    return rows


def rounds(reseller, update, query, baseline_path: str, repeats: int, label: str) -> dict:
    """Report and export, alternating which goes first; times, peaks and COUNT times."""
    out = {"ours_s": [], "baseline_s": [], "peaks": [], "count_s": [], "report": None}
    for i in range(repeats):
        for side in ("ours", "baseline") if i % 2 else ("baseline", "ours"):
            if side == "ours":
                seconds, out["report"], peak, count_s = generate_report(reseller, update)
                out["ours_s"].append(seconds)
                out["peaks"].append(peak)
                out["count_s"].append(count_s)
            else:
                start = time.perf_counter()
                export_baseline(query, baseline_path)
                out["baseline_s"].append(time.perf_counter() - start)
        log(f"{label}: report {out['ours_s'][-1]:.2f} s, export {out['baseline_s'][-1]:.2f} s")
    ratios = [t / o for o, t in zip(out["ours_s"], out["baseline_s"], strict=True)]
    out |= {"ratio": statistics.median(ratios), "count_s": statistics.median(out["count_s"])}
    return out


def measure(reseller_id: int, repeats: int, work_dir: str) -> dict:
    import tracemalloc

    from django.core.files.storage import default_storage

    from hostmeter.metering.selectors.updates import usage_update_latest
    from hostmeter.reports.columns import report_query
    from hostmeter.tenancy.models import Reseller

    reseller = Reseller.objects.get(pk=reseller_id)
    update = usage_update_latest()
    rss_before = rss_mb("VmRSS")
    _, report, _, _ = generate_report(reseller, update)  # warm-up
    query = report_query(report=report)
    baseline_path = str(Path(work_dir) / f"baseline-{reseller_id}.csv")
    export_baseline(query, baseline_path)  # warm-up
    timed = rounds(reseller, update, query, baseline_path, repeats, f"reseller {reseller_id}")
    report = timed.pop("report")
    with default_storage.open(report.file.name, "rb") as stored:
        ours_path = str(Path(work_dir) / f"ours-{reseller_id}.csv")
        Path(ours_path).write_bytes(stored.read())
    check = compare_files(ours_path, baseline_path)
    check["row_count"] = report.row_count
    # the Python heap's peak, in a run of its own (tracemalloc slows everything down)
    tracemalloc.start()
    generate_report(reseller, update)
    heap_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rows = check["baseline"]
    out = {
        "reseller": reseller_id,
        "rows": rows,
        **timed,
        "ours_rate": rows / statistics.median(timed["ours_s"]),
        "baseline_rate": rows / statistics.median(timed["baseline_s"]),
        "rss_before_mb": rss_before,
        "peak_rss_mb": max(timed["peaks"]),
        "heap_peak_mb": heap_peak,
        "file_bytes": Path(ours_path).stat().st_size,
        "check": check,
    }
    return out


# ---------------------------------------------------------------- worker and driver


def worker(args) -> dict:
    with bench_database(args.worker, PG_URL, prefix="hostmeter-bench-reports-") as data_dir:
        out = {"engine": args.worker, "engine_version": engine_version(), "orgs": args.orgs}
        log(f"{args.worker}: generating the customer base")
        out["counts"] = generate(args.orgs)
        # resellers 3 (a quarter of the rows) and 1: each measured in a fresh process,
        # so each peak is its own
        out["sizes"] = [
            runner.child_json(
                [sys.executable, "-m", "bench.reports", "--measure", str(reseller_id)]
                + ["--repeats", str(args.repeats), "--work-dir", data_dir],
                f"measuring reseller {reseller_id}",
            )
            for reseller_id in (3, 1)
        ]
        return out


def measure_main(args) -> dict:
    """One size, in a fresh process whose settings the worker's environment names."""
    import django

    django.setup()
    return measure(args.measure, args.repeats, args.work_dir)


def table(results: list[dict]) -> str:
    lines = [
        "| engine | rows | report rows/s | database export rows/s | ratio | goal "
        "| COUNT s | peak RSS MB (before) | Python heap peak MB | file MB |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        for s in r["sizes"]:
            lines.append(
                f"| {r['engine_version']} | {s['rows']:,} | {s['ours_rate']:,.0f} "
                f"| {s['baseline_rate']:,.0f} | **{s['ratio']:.2f}×** "
                f"| ≥ {GOALS[r['engine']]}× | {s['count_s']:.2f} "
                f"| {s['peak_rss_mb']:.0f} ({s['rss_before_mb']:.0f}) | {s['heap_peak_mb']:.1f} "
                f"| {s['file_bytes'] / 2**20:.1f} |"
            )
    return "\n".join(lines)


def verdicts(results: list[dict]) -> int:
    met = True
    for r in results:
        goal = GOALS[r["engine"]]
        small, large = r["sizes"]
        for s in r["sizes"]:
            c = s["check"]
            same = c["ours"] == c["baseline"] == c["row_count"] == s["rows"] and not c["differing"]
            fast = s["ratio"] >= goal
            met &= same and fast
            print(
                f"{r['engine_version']}, {s['rows']:,} rows: report ÷ export {s['ratio']:.2f}× "
                f"({'meets' if fast else 'MISSES'} ≥ {goal}×); files: {c['ours']:,} and "
                f"{c['baseline']:,} data rows, {c['differing']} differing "
                f"({'same rows' if same else 'NOT THE SAME'})"
            )
        growth = large["peak_rss_mb"] - small["peak_rss_mb"]
        flat = growth < 10
        met &= flat
        print(
            f"{r['engine_version']}: peak RSS {small['peak_rss_mb']:.0f} MB at "
            f"{small['rows']:,} rows, {large['peak_rss_mb']:.0f} MB at {large['rows']:,} "
            f"({'flat' if flat else 'NOT FLAT'}); run took {r['wall_s'] / 60:.1f} min"
        )
    print("Report generation: goal met" if met else "Report generation: goal MISSED")
    return 0 if met else 1


def main(argv=None) -> int:
    numbers = {
        "orgs": (
            int(os.environ.get("BENCH_REPORT_ORGS", 100_000)),
            "organizations of the larger size",
        ),
        "repeats": (3, "timed rounds of each size"),
    }
    parser = runner.parser(__doc__, **numbers)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        return runner.answer(measure_main(args))
    return runner.engines_main(
        args,
        worker,
        module="bench.reports",
        title="report generation",
        forward=numbers,
        table=table,
        verdicts=verdicts,
    )


if __name__ == "__main__":
    sys.exit(main())
