"""Load test: 100 staff users browsing the Usage pages of `hostmeter serve` while a
100,000-row organizations report generates.

    python -m bench.load [--engines sqlite,postgres] [--users 100] [--duration 60]

Per engine:

1. A worker process builds a throw-away database in bulk (bench.pagedata, the Usage
   pages benchmark's customer base at 10,000 resellers and --orgs 100,000
   organizations: two completed usage updates, report records in every status), gives
   the provider a midnight schedule (the latest update is the one due: the scheduler
   queues none during the run) and adds one staff login per simulated user (Systems,
   Operations and Marketing in turn, plus a Systems one that generates the report). The
   static files are collected once, for every engine (bench/out/load-static). SQLite in
   a temporary folder under bench/out; PostgreSQL BENCH_LOAD_PG_URL (default
   hostmeter_bench_load), dropped and created.
2. `hostmeter serve` as production runs it (gunicorn gthread 2 × 8, the db_worker task
   worker, the scheduler) on 127.0.0.1 and a free port, DEBUG off, its own SECRET_KEY,
   INFO logging with gunicorn's access log (kept in bench/out/load-serve-<engine>.log).
3. A locust process (bench.load_users) starts --users users at --users/--ramp a second;
   each signs in through the real form, then browses with --think-min…--think-max s
   between pages. Once every user is signed in and --settle s have passed, a window of
   --duration s is measured; --report-at s into it the Systems user generates the
   organizations report (--formats, default CSV and XLSX) through the export tab's
   generate button, and watches the tab until it is Ready.
4. The report records are read back: Ready, 100,000 rows, generated inside the window.

Latency is what locust measures per request (connect, send, the server, the whole
response read), nearest-rank percentiles over every request of the window. Goal: p99
under 300 ms over all requests, no failed request, and the report Ready in the window.
"""

import argparse
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

from bench.bulk import ROOT, log

GOAL_P99_MS = 300
PASSWORD = "bench-load-not-secret"
LEVELS = ("systems", "operations", "marketing")
PG_URL = os.environ.get(
    "BENCH_LOAD_PG_URL", "postgres://postgres@127.0.0.1:5432/hostmeter_bench_load"
)
OUT = ROOT / "bench" / "out"


# ---------------------------------------------------------------- judging (pure)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summarize(samples: list[list]) -> dict:
    """[name, start s, ms, error] rows → requests, failures, median, p95, p99, max."""
    ms = [s[2] for s in samples]
    if not ms:
        return {"requests": 0, "failures": 0}
    return {
        "requests": len(ms),
        "failures": sum(1 for s in samples if s[3]),
        "median_ms": statistics.median(ms),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms),
    }


def by_page(samples: list[list]) -> dict[str, dict]:
    """The summary of every page's requests, busiest first, and of all of them."""
    names: dict[str, list[list]] = {}
    for s in samples:
        names.setdefault(s[0], []).append(s)
    pages = {n: summarize(rows) for n, rows in sorted(names.items(), key=lambda i: -len(i[1]))}
    return pages | {"all requests": summarize(samples)}


def verdict(overall: dict, reports: list[dict], window: float, swarm: dict) -> list[str]:
    """What misses the goal (an empty list when everything meets it)."""
    missed = []
    if not overall.get("requests"):
        missed.append("no request was measured")
    elif overall["p99_ms"] >= GOAL_P99_MS:
        missed.append(f"p99 {overall['p99_ms']:.0f} ms ≥ {GOAL_P99_MS} ms")
    if overall.get("failures"):
        missed.append(f"{overall['failures']} failed request(s)")
    if swarm["signed_in"] < swarm["users"]:
        missed.append(f"only {swarm['signed_in']} of {swarm['users']} users signed in")
    if swarm["exceptions"]:
        missed.append(f"{len(swarm['exceptions'])} kinds of errors in the users' tasks")
    for r in reports or [{"format": "organizations", "status": "never requested"}]:
        if r["status"] != "ready":
            missed.append(f"the {r['format']} report is {r['status']}")
        elif r["generated_s"] > window:
            missed.append(f"the {r['format']} report was Ready only after the window")
    return missed


# ---------------------------------------------------------------- worker: the database


def logins(users: int) -> list[str]:
    """One username per browsing user (levels in turn), the reporter's last."""
    return [f"load-{LEVELS[i % 3]}-{i}" for i in range(users - 1)] + ["load-reporter"]


def prepare(args) -> dict:
    import django

    from bench.bulk import engine_version, migrate, prepare_database

    prepare_database(args.prepare, args.data_dir, PG_URL)
    migrate()
    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from bench.pagedata import Plan, generate
    from hostmeter.accounts.models import User
    from hostmeter.accounts.services import user_save
    from hostmeter.tenancy.models import Provider

    log(f"{args.prepare}: generating {args.resellers:,} resellers, {args.orgs:,} organizations")
    start = time.perf_counter()
    counts = generate(Plan(resellers=args.resellers, orgs=args.orgs))
    Provider.objects.filter(pk=Provider.get().pk).update(usage_schedule="0 0 * * *")
    names = logins(args.users)
    for name in names:
        level = "systems" if name == "load-reporter" else name.split("-")[1]
        user_save(username=name, password=None, login_level=level)
    # one hash for all: the same password, hashed once (a hash takes ~0.3 s)
    User.objects.filter(username__in=names).update(password=make_password(PASSWORD))
    with connection.cursor() as cursor:
        # the resellers with the most organizations below them (sub-resellers' included)
        cursor.execute(
            "SELECT k.ancestor_id FROM tenancy_resellerlink k JOIN tenancy_organization o "
            "ON o.reseller_id = k.descendant_id GROUP BY k.ancestor_id "
            "ORDER BY COUNT(*) DESC, k.ancestor_id LIMIT 5"
        )
        big = [row[0] for row in cursor.fetchall()]
    return {
        "engine": args.prepare,
        "engine_version": engine_version(),
        "counts": counts,
        "generate_s": time.perf_counter() - start,
        "resellers": args.resellers,
        "organizations": args.orgs,
        "big_resellers": big,
        "logins": names,
    }


def reports_check() -> list[dict]:
    """The organizations reports of the latest update, times in epoch seconds."""
    import django

    django.setup()
    from hostmeter.metering.selectors.updates import usage_update_latest
    from hostmeter.reports.models import Report

    found = []
    for r in Report.objects.filter(kind="organizations", update=usage_update_latest()):
        found.append(
            {
                "format": r.format,
                "status": r.status,
                "error": r.error,
                "rows": r.row_count,
                "size": r.size,
                "requested_at": r.requested_at.timestamp(),
                "started_at": r.started_at.timestamp() if r.started_at else None,
                "generated_at": r.generated_at.timestamp() if r.generated_at else None,
            }
        )
    return found


# ---------------------------------------------------------------- driver


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def last_json(cmd: list[str], env: dict, what: str, timeout: float) -> dict:
    """Runs a worker in a session of its own (its whole group is killed on the way out)
    and returns the JSON on the last line of its output."""
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if proc.returncode:
        raise SystemExit(f"{what} failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1])


class Serve:
    """`hostmeter serve` on a free loopback port, in a session of its own."""

    def __init__(self, env: dict, log_path: Path, options: list[str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.log_path, self.proc = env, log_path, None
        self.options = options

    def __enter__(self):
        cmd = [sys.executable, "-m", "hostmeter", "serve", "--host", "127.0.0.1", *self.options]
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [*cmd, "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"serve exited ({self.proc.returncode}): see {self.log_path}")
            with (
                suppress(OSError),
                urllib.request.urlopen(f"{self.url}/login/", timeout=5) as page,
            ):
                if page.status == 200:
                    return self
            time.sleep(0.2)
        raise SystemExit(f"serve did not answer within 60 s: see {self.log_path}")

    def __exit__(self, *exc):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # serve stops its three children
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(20)
        with suppress(ProcessLookupError):  # whatever is left of its group
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTMETER_")}
    return env | extra


def static_collect() -> Path:
    """The static files, collected (and compressed, ~30 s) once for every engine's panel."""
    data_dir = OUT / "load-static"
    cmd = [sys.executable, "-m", "hostmeter", "collectstatic", "--noinput", "-v0"]
    subprocess.run(cmd, cwd=ROOT, env=clean_env(HOSTMETER_DATA_DIR=str(data_dir)), check=True)
    return data_dir / "static"


def run_engine(engine: str, args, static: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"load-{engine}-", dir=OUT) as data_dir:
        cmd = [sys.executable, "-m", "bench.load", "--prepare", engine, "--data-dir", data_dir]
        cmd += ["--orgs", str(args.orgs), "--resellers", str(args.resellers)]
        cmd += ["--users", str(args.users)]
        start = time.perf_counter()
        data = last_json(cmd, clean_env(), f"preparing the {engine} database", 900)
        data["prepare_s"] = time.perf_counter() - start
        own = Path(data_dir) / "static"  # the `hostmeter` command makes an empty one
        shutil.rmtree(own, ignore_errors=True)
        own.symlink_to(static, target_is_directory=True)
        database = (
            PG_URL if engine == "postgres" else f"sqlite:///{Path(data_dir) / 'bench.sqlite3'}"
        )
        env = clean_env(
            DJANGO_SETTINGS_MODULE="hostmeter.settings",
            HOSTMETER_DATABASE_URL=database,
            HOSTMETER_DATA_DIR=data_dir,
            HOSTMETER_SECRET_KEY=secrets.token_urlsafe(50),
            HOSTMETER_DEBUG="0",
            HOSTMETER_ALLOWED_HOSTS="127.0.0.1",
            PYTHONUNBUFFERED="1",
        ) | dict(pair.split("=", 1) for pair in args.serve_env)
        plan = {
            "users": args.users,
            "ramp": args.ramp,
            "settle": args.settle,
            "duration": args.duration,
            "think_min": args.think_min,
            "think_max": args.think_max,
            "report_at": args.report_at,
            "report_formats": args.formats.split(","),
            "sign_in_timeout": 120,
            "password": PASSWORD,
            "logins": data["logins"][:-1],
            "reporter": data["logins"][-1],
            "resellers": data["resellers"],
            "organizations": data["organizations"],
            "reseller_pages": math.ceil(data["resellers"] / 25),
            "organization_pages": math.ceil(data["organizations"] / 25),
            "big_resellers": data["big_resellers"],
        }
        serve_log = OUT / f"load-serve-{engine}.log"
        options = [f"{pair}" for pair in args.serve_env]  # shown with the figures
        if args.web_workers:
            options += ["--web-workers", str(args.web_workers)]
        if args.web_threads:
            options += ["--web-threads", str(args.web_threads)]
        with Serve(env, serve_log, [o for o in options if "=" not in o]) as serve:
            plan["host"], plan["panel_session"] = serve.url, serve.proc.pid
            plan_path = Path(data_dir) / "plan.json"
            plan_path.write_text(json.dumps(plan))
            log(f"{engine}: serving at {serve.url}; {args.users} users, {args.duration} s window")
            limit = args.ramp + 120 + args.settle + args.duration + 60
            swarm = last_json(
                [sys.executable, "-m", "bench.load_users", str(plan_path)],
                clean_env(),
                "the locust run",
                limit,
            )
            # a report that missed the window: given a minute more, to say when it was done
            deadline = time.monotonic() + 60
            while True:
                reports = last_json(
                    [sys.executable, "-m", "bench.load", "--reports-check"],
                    env,
                    "reading the reports back",
                    120,
                )
                busy = any(r["status"] in ("queued", "generating") for r in reports)
                if not busy or time.monotonic() > deadline:
                    break
                time.sleep(5)
        return {
            "data": data,
            "swarm": swarm,
            "reports": reports,
            "serve_log": str(serve_log),
            "serve_options": options,
        }


def result_of(engine: str, run: dict) -> dict:
    """The tables' figures of one engine's run."""
    swarm = run["swarm"]
    t0, window = swarm["window_start"], swarm["window_end"] - swarm["window_start"]
    reports = [
        r
        | {
            "started_s": r["started_at"] - t0 if r["started_at"] else None,
            "generated_s": r["generated_at"] - t0 if r["generated_at"] else math.inf,
        }
        for r in run["reports"]
    ]
    pages = by_page(swarm["samples"])
    during = []
    if reports and all(r["started_s"] is not None for r in reports):
        first = min(r["started_s"] for r in reports)
        last = min(window, max(r["generated_s"] for r in reports))
        during = [s for s in swarm["samples"] if first <= s[1] <= last]
    errors: dict[str, int] = {}
    for name, _, _, error in swarm["samples"] + swarm["sign_ins"]:
        if error:
            errors[f"{name}: {error}"] = errors.get(f"{name}: {error}", 0) + 1
    return {
        "engine": engine,
        "engine_version": run["data"]["engine_version"],
        "errors": errors,
        "window_s": window,
        "pages": pages,
        "during_report": summarize(during),
        "sign_in": summarize(swarm["sign_ins"]),
        "reports": reports,
        "missed": verdict(pages["all requests"], reports, window, swarm),
        "swarm": {k: v for k, v in swarm.items() if k not in ("samples", "sign_ins")},
        "prepare_s": run["data"]["prepare_s"],
        "counts": run["data"]["counts"],
        "serve_log": run["serve_log"],
        "serve_options": run["serve_options"],
    }


def table(results: list[dict]) -> str:
    lines = [
        "| engine | page | requests | failures | median ms | p95 ms | p99 ms | max ms |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]

    def row(engine: str, name: str, s: dict) -> str:
        if not s.get("requests"):
            return f"| {engine} | {name} | 0 | 0 | – | – | – | – |"
        p99 = f"{s['p99_ms']:.0f}"
        return (
            f"| {engine} | {name} | {s['requests']:,} | {s['failures']} "
            f"| {s['median_ms']:.0f} | {s['p95_ms']:.0f} "
            f"| {f'**{p99}**' if s['p99_ms'] >= GOAL_P99_MS else p99} | {s['max_ms']:.0f} |"
        )

    for r in results:
        for name, s in r["pages"].items():
            lines.append(row(r["engine_version"], name, s))
        lines.append(row(r["engine_version"], "(while the report generated)", r["during_report"]))
        lines.append(
            row(r["engine_version"], "(sign-in, before the window; not judged)", r["sign_in"])
        )
    return "\n".join(lines)


def report_lines(r: dict) -> list[str]:
    lines = []
    for rep in r["reports"]:
        when = (
            f"started {rep['started_s']:.1f} s into the window, Ready at {rep['generated_s']:.1f} s"
            if rep["status"] == "ready"
            else f"status {rep['status']} {rep['error']}".strip()
        )
        rows = f"{rep['rows']:,} rows" if rep["rows"] is not None else "no rows"
        lines.append(f"{r['engine_version']}: organizations report {rep['format']}: {rows}, {when}")
    seen = r["swarm"]["reporter"]["ready_seen"]
    if seen is not None:
        lines.append(f"{r['engine_version']}: the export tab showed it done at {seen:.1f} s")
    return lines


def cores(cpu_s: dict[str, float], window: float) -> str:
    """CPU seconds per process in the window → cores each used, the rest as "others"."""
    ours = {k: v for k, v in cpu_s.items() if k != "machine"}
    others = cpu_s["machine"] - sum(ours.values())
    return ", ".join(f"{k} {v / window:.2f}" for k, v in (ours | {"others": others}).items())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--engines",
        default=os.environ.get("BENCH_ENGINES", "sqlite,postgres"),
        help="comma-separated: sqlite, postgres",
    )
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60, help="measured window, s")
    parser.add_argument("--ramp", type=float, default=20, help="s to start every user")
    parser.add_argument("--settle", type=float, default=5, help="s after the last sign-in")
    parser.add_argument("--think-min", type=float, default=1)
    parser.add_argument("--think-max", type=float, default=3)
    parser.add_argument("--report-at", type=float, default=10, help="s into the window")
    parser.add_argument("--formats", default="csv,xlsx", help="of the organizations report")
    parser.add_argument("--orgs", type=int, default=100_000)
    parser.add_argument("--resellers", type=int, default=10_000)
    parser.add_argument("--web-workers", type=int, help="serve's; default: serve's own (2)")
    parser.add_argument("--web-threads", type=int, help="serve's; default: serve's own (8)")
    parser.add_argument(
        "--serve-env",
        action="append",
        default=[],
        metavar="HOSTMETER_X=value",
        help="a setting for serve, for what-if runs (repeatable)",
    )
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--prepare", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--reports-check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.prepare:
        print(json.dumps(prepare(args)))
        return 0
    if args.reports_check:
        print(json.dumps(reports_check()))
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    static = static_collect()
    results = []
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        print(f"== load, {engine}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        results.append(result_of(engine, run_engine(engine, args, static)))
        results[-1]["wall_s"] = time.perf_counter() - start
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2))
    print()
    print(table(results))
    print()
    met = True
    for r in results:
        for line in report_lines(r):
            print(line)
        s, overall = r["swarm"], r["pages"]["all requests"]
        print(
            f"{r['engine_version']}: {s['signed_in']} of {s['users']} users signed in within "
            f"{s['sign_in_s']:.0f} s; window {r['window_s']:.0f} s, "
            f"{overall['requests'] / r['window_s']:.1f} requests/s; machine CPU busy "
            f"{s['cpu_busy']:.0%} in it; cores used: {cores(s['cpu_s'], r['window_s'])}; "
            f"load average {s['load_before']} as it opened; "
            f"run took {r['wall_s'] / 60:.1f} min "
            f"({r['prepare_s']:.0f} s preparing the data); "
            f"serve {' '.join(r['serve_options']) or 'with its defaults'}"
        )
        for e, n in sorted(r["errors"].items(), key=lambda i: -i[1])[:10]:
            print(f"{r['engine_version']}: {n} × {e}")
        for e in s["exceptions"]:
            print(f"{r['engine_version']}: a user's task raised: {e}")
        if r["missed"]:
            met = False
            print(f"{r['engine_version']}: goal MISSED: " + "; ".join(r["missed"]))
        else:
            print(
                f"{r['engine_version']}: goal met: p99 {overall['p99_ms']:.0f} ms "
                f"< {GOAL_P99_MS} ms, 0 errors, report Ready in the window"
            )
    print("Load: goal met" if met else "Load: goal MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
