"""Benchmark of the Usage pages with 10,000 resellers and 200,000 organizations, for the
provider's staff and for a reseller login whose subtree has 50,000 of them.

    python -m bench.pages [--engines sqlite,postgres] [--requests 50] [--diagnose]

For each engine, two worker processes build a throw-away database each, in bulk
(bench.pagedata): a small one (10 resellers, 100 organizations) and a large one
(10,000 resellers, some nested two levels deep; 200,000 organizations, one in ten
added directly; services, limits, two completed usage updates from real samples, and
report records in every status for the latest update; reseller 1 added a quarter of the
organizations itself, 50,000, 25 in the small one). A fresh process then signs in a
Marketing login with django.test.Client and requests every page in turn: 5 warm-up
rounds, then --requests timed rounds; then the same as reseller 1's reseller login (its
summary, its sub-resellers, its subtree's organizations). Server time is the time around
client.get() (the whole WSGI handler: middleware, session, view, SQL, templates; not the
network, and the database connection stays open between requests). SQL queries per page are counted
(CaptureQueriesContext) on the last warm-up round. Goal: under 100 ms at the 95th
percentile on both engines, and the same number of queries as with 10 resellers.
--diagnose prints the plans and a profile of pages over the goal.

PostgreSQL databases: BENCH_PAGES_PG_URL (default hostmeter_bench_pages) and the same
name with _small, dropped and created.
"""

import argparse
import math
import os
import statistics
import sys
import time

from bench import runner
from bench.bulk import bench_database, engine_version, log
from bench.runner import percentile

GOAL_MS = 100
PG_URL = os.environ.get(
    "BENCH_PAGES_PG_URL", "postgres://postgres@127.0.0.1:5432/hostmeter_bench_pages"
)
SIZES = {"small": (10, 100), "large": (10_000, 200_000)}
VIEWERS = ("provider", "reseller")  # a Marketing login, reseller 1's login


def pg_url(size: str) -> str:
    return PG_URL if size == "large" else f"{PG_URL}_small"


# ---------------------------------------------------------------- in a worker


# Pages outside the list: measured and shown, not part of the goal.
EXTRA = (
    "organization site usage, sorted by status",
    "organization site usage, sorted by -status",
    "organization site usage, sorted by status, middle page",
)


def pages(viewer: str) -> list[tuple[str, str]]:
    """(name, URL) of every page measured, for the data set in the database."""
    from django.db import connection
    from django.urls import reverse

    from bench.pagedata import SEARCH
    from hostmeter.tenancy.models import Organization, Reseller

    with connection.cursor() as cursor:
        # the reseller with the most organizations below it (sub-resellers' included)
        cursor.execute(
            "SELECT k.ancestor_id FROM tenancy_resellerlink k JOIN tenancy_organization o "
            "ON o.reseller_id = k.descendant_id GROUP BY k.ancestor_id "
            "ORDER BY COUNT(*) DESC, k.ancestor_id LIMIT 1"
        )
        (biggest,) = cursor.fetchone()
    middle = max(1, math.ceil(Reseller.objects.count() / 25) // 2)
    middle_org = max(1, math.ceil(Organization.objects.count() / 25) // 2)
    # three resellers the viewer sees (reseller 1's login: three below it)
    below = Reseller.objects.filter(parent_id=biggest).order_by("pk")
    picked = list(below.values_list("pk", flat=True)[:3]) if viewer == "reseller" else [3, 6, 9]
    selected = "?" + "&".join(f"selected={pk}" for pk in picked)
    resellers = reverse("usage:reseller-usage")
    organizations = reverse("usage:organization-usage")
    return [
        ("summary", reverse("usage:summary")),
        ("reseller usage, page 1", resellers),
        ("reseller usage, middle page", f"{resellers}?page={middle}"),
        ("reseller usage, sorted by status", f"{resellers}?sort=status"),
        ("reseller usage, sorted by -name", f"{resellers}?sort=-name"),
        (f"reseller usage, search “{SEARCH}”", f"{resellers}?q={SEARCH}"),
        ("organization site usage, page 1", organizations),
        ("organization site usage, one reseller", f"{organizations}?reseller={biggest}"),
        ("reseller overview", reverse("usage:reseller-overview", args=[biggest])),
        ("action bar (3 selected)", reverse("usage:reseller-action-bar") + selected),
        (EXTRA[0], f"{organizations}?sort=status"),
        (EXTRA[1], f"{organizations}?sort=-status"),
        (EXTRA[2], f"{organizations}?sort=status&page={middle_org}"),
    ]


class SqlClock:
    """An execute wrapper keeping each statement's time in ms (the debug cursor's
    "time" is rounded to whole milliseconds)."""

    def __init__(self):
        self.ms: list[float] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms.append((time.perf_counter() - start) * 1000)


def viewer(name: str):
    """The login a viewer signs in with: Marketing, or reseller 1's reseller login."""
    from hostmeter.accounts.services import user_save
    from hostmeter.tenancy.models import Reseller, ResellerLogin

    if name == "provider":
        return user_save(username="bench-marketing", password=None, login_level="marketing")
    user = user_save(username="bench-reseller", password=None, login_level="reseller")
    reseller = Reseller.objects.get(pk=1)
    ResellerLogin.objects.update_or_create(user=user, defaults={"reseller": reseller})
    return user


def measure(label: str, requests: int, warmup: int, diagnose: bool, who: str) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(viewer(who))
    measured = pages(who)
    times: dict[str, list[float]] = {name: [] for name, _ in measured}
    out = {name: {"url": url} for name, url in measured}
    for r in range(warmup + requests):
        for name, url in measured:
            if r == warmup - 1:  # the last warm-up round counts the queries
                clock = SqlClock()
                with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(clock):
                    response = client.get(url)
                out[name] |= {
                    "queries": len(ctx.captured_queries),
                    "sql_ms": sum(clock.ms),
                    "bytes": len(response.content),
                    "slowest": sorted(
                        zip(clock.ms, (q["sql"] for q in ctx.captured_queries), strict=True),
                        reverse=True,
                    )[:3],
                }
            else:
                start = time.perf_counter()
                response = client.get(url)
                seconds = time.perf_counter() - start
                if r >= warmup:
                    times[name].append(seconds * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        if r >= warmup and (r - warmup + 1) % 10 == 0:
            log(f"{label}: {r - warmup + 1} rounds")
    for name, values in times.items():
        out[name] |= {
            "ms": values,
            "median_ms": statistics.median(values),
            "p95_ms": percentile(values, 95),
        }
    if diagnose:
        for name, url in measured:
            if out[name]["p95_ms"] >= GOAL_MS:
                out[name]["diagnosis"] = diagnosis(client, url)
    return out


def diagnosis(client, url: str) -> dict:
    """For a page over the goal: its slowest queries with their plans, and a profile."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clock = SqlClock()
    with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(clock):
        client.get(url)
    timed = zip(clock.ms, (q["sql"] for q in ctx.captured_queries), strict=True)
    plans = []
    explain = "EXPLAIN ANALYZE" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    with connection.cursor() as cursor:
        for ms, sql in sorted(timed, reverse=True)[:3]:
            cursor.execute(f"{explain} {sql}")
            plan = "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())
            plans.append({"ms": ms, "sql": sql, "plan": plan})
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(10):
        client.get(url)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
    return {"queries": plans, "profile": text.getvalue()}


def worker(args) -> dict:
    resellers, orgs = SIZES[args.size]
    os.environ["HOSTMETER_ALLOWED_HOSTS"] = "testserver"  # django.test.Client's host
    with bench_database(
        args.worker,
        pg_url(args.size),
        prefix="hostmeter-bench-pages-",
        data_dir=args.data_dir,
        fresh=not args.reuse,
    ):
        from bench.pagedata import Plan, generate

        out = {"engine": args.worker, "size": args.size, "engine_version": engine_version()}
        out |= {"resellers": resellers, "orgs": orgs}
        if not args.reuse:
            log(f"{args.worker}: generating {resellers:,} resellers, {orgs:,} organizations")
            start = time.perf_counter()
            out["counts"] = generate(Plan(resellers=resellers, orgs=orgs, heavy=orgs // 4))
            out["generate_s"] = time.perf_counter() - start
        # Measured in a fresh process: none of the generator's leftovers in memory (the
        # garbage collector's pauses grow with them).
        cmd = [sys.executable, "-m", "bench.pages", "--measure", *options(args)]
        out |= runner.child_json(cmd, "measuring the pages")
        return out


def measure_main(args) -> dict:
    """In a fresh process whose settings the worker's environment already names."""
    import django

    django.setup()
    label = f"{os.environ['HOSTMETER_DATABASE_URL'].split(':')[0]}, {args.size}"
    return {
        name: measure(f"{label}, {name}", args.requests, args.warmup, args.diagnose, name)
        for name in VIEWERS
    }


# ---------------------------------------------------------------- driver


def options(args, size: str | None = None) -> list[str]:
    """The options a worker and its measuring process pass on."""
    out = ["--size", size or args.size, *runner.forwarded(args, "requests", "warmup")]
    return out + (["--diagnose"] if args.diagnose else [])


def verdicts(large: dict, small: dict) -> dict[tuple[str, str], tuple[bool, bool]]:
    """(viewer, page) → (time goal met, query goal met), for the pages of the issue's list."""
    return {
        (who, name): (p["p95_ms"] < GOAL_MS, p["queries"] == small[who][name]["queries"])
        for who in VIEWERS
        for name, p in large[who].items()
        if name not in EXTRA
    }


def table(results: list[tuple[dict, dict]]) -> str:
    lines = [
        "| engine | viewer | page | median ms | p95 ms | queries | queries with 10 resellers "
        "| SQL ms (one request) | median ms with 10 resellers |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for small, large in results:
        for who, name, p in ((w, n, p) for w in VIEWERS for n, p in large[w].items()):
            s = small[who][name]
            p95 = f"{p['p95_ms']:.1f}"
            over = p["p95_ms"] >= GOAL_MS or p["queries"] != s["queries"]
            lines.append(
                f"| {large['engine_version']} | {who} | {name}"
                f"{' (extra)' if name in EXTRA else ''} "
                f"| {p['median_ms']:.1f} | {f'**{p95}**' if over else p95} | {p['queries']} "
                f"| {s['queries']} | {p['sql_ms']:.1f} | {s['median_ms']:.1f} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = runner.parser(
        __doc__,
        requests=(50, "timed requests per page"),
        warmup=(5, "warm-up requests per page"),
    )
    parser.add_argument(
        "--diagnose", action="store_true", help="plans and profiles of pages over the goal"
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=list(SIZES), default="large", help=argparse.SUPPRESS)
    parser.add_argument(
        "--data-dir", help="worker: keep the SQLite file and report files in this folder"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="worker: measure the database as it is"
    )
    args = parser.parse_args(argv)
    if args.measure:
        return runner.answer(measure_main(args))
    if args.worker:
        return runner.answer(worker(args))

    results = [
        tuple(
            runner.worker_run(
                "bench.pages",
                engine,
                options(args, size),
                f"Usage pages, {engine}, {size} data set",
            )
            for size in ("small", "large")
        )
        for engine in runner.engines(args)
    ]
    runner.results_show(results, table(results), args.json)
    met = True
    for small, large in results:
        for (who, name), (fast, same) in verdicts(large, small).items():
            met &= fast and same
            if not (fast and same):
                print(
                    f"{large['engine_version']}, {who}, {name}: "
                    + ("" if fast else f"p95 {large[who][name]['p95_ms']:.0f} ms ≥ {GOAL_MS}; ")
                    + ("" if same else "more queries than with 10 resellers; ")
                    + "MISSES the goal"
                )
            for d in [large[who][name].get("diagnosis")]:
                if d:
                    print(f"\n--- {large['engine_version']}, {who}, {name}: slowest queries")
                    for q in d["queries"]:
                        print(f"{q['ms']:.1f} ms: {q['sql'][:1500]}\n{q['plan']}\n")
                    print(d["profile"])
        print(
            f"{large['engine_version']}: data set built and measured in "
            f"{large['wall_s'] / 60:.1f} min ({large.get('generate_s', 0):.0f} s generating)"
        )
    print("Usage pages: every page meets the goal" if met else "Usage pages: goal MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
