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
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

from bench import runner
from bench.bulk import ROOT, bench_database, engine_version, log
from bench.load_figures import result_of, table, verdicts
from bench.runner import child_json, clean_env

PASSWORD = "bench-load-not-secret"
LEVELS = ("systems", "operations", "marketing")
PG_URL = os.environ.get(
    "BENCH_LOAD_PG_URL", "postgres://postgres@127.0.0.1:5432/hostmeter_bench_load"
)
OUT = ROOT / "bench" / "out"


# ---------------------------------------------------------------- worker: the database


def logins(users: int) -> list[str]:
    """One username per browsing user (levels in turn), the reporter's last."""
    return [f"load-{LEVELS[i % 3]}-{i}" for i in range(users - 1)] + ["load-reporter"]


def prepare(args) -> dict:
    """The engine's database in --data-dir (kept for the panel): the customer base, the
    schedule and the logins."""
    with bench_database(args.worker, PG_URL, data_dir=args.data_dir):
        from django.contrib.auth.hashers import make_password
        from django.db import connection

        from bench.pagedata import Plan, generate
        from hostmeter.accounts.models import User
        from hostmeter.accounts.services import user_save
        from hostmeter.tenancy.models import Provider

        log(f"{args.worker}: generating {args.resellers:,} resellers, {args.orgs:,} organizations")
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
            "engine": args.worker,
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


def static_collect() -> Path:
    """The static files, collected (and compressed, ~30 s) once for every engine's panel."""
    data_dir = OUT / "load-static"
    cmd = [sys.executable, "-m", "hostmeter", "collectstatic", "--noinput", "-v0"]
    subprocess.run(cmd, cwd=ROOT, env=clean_env(HOSTMETER_DATA_DIR=str(data_dir)), check=True)
    return data_dir / "static"


def run_engine(engine: str, args, static: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"load-{engine}-", dir=OUT) as data_dir:
        cmd = [sys.executable, "-m", "bench.load", "--worker", engine, "--data-dir", data_dir]
        cmd += ["--orgs", str(args.orgs), "--resellers", str(args.resellers)]
        cmd += ["--users", str(args.users)]
        start = time.perf_counter()
        data = child_json(cmd, f"preparing the {engine} database", env=clean_env(), timeout=900)
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
            swarm = child_json(
                [sys.executable, "-m", "bench.load_users", str(plan_path)],
                "the locust run",
                env=clean_env(),
                timeout=limit,
            )
            # a report that missed the window: given a minute more, to say when it was done
            deadline = time.monotonic() + 60
            while True:
                reports = child_json(
                    [sys.executable, "-m", "bench.load", "--reports-check"],
                    "reading the reports back",
                    env=env,
                    timeout=120,
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


def main(argv=None) -> int:
    parser = runner.parser(__doc__)
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
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--reports-check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:  # the engine's database, in bench_database's own process
        return runner.answer(prepare(args))
    if args.reports_check:
        return runner.answer(reports_check())

    OUT.mkdir(parents=True, exist_ok=True)
    static = static_collect()
    results = []
    for engine in runner.engines(args):
        print(f"== load, {engine}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        results.append(result_of(engine, run_engine(engine, args, static)))
        results[-1]["wall_s"] = time.perf_counter() - start
    runner.results_show(results, table(results), args.json)
    met = verdicts(results)
    print("Load: goal met" if met else "Load: goal MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
