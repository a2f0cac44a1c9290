"""CPU per request of every page the load test's users ask for, through the WSGI handler.

    python -m bench.request_cpu [--engines sqlite,postgres] [--rounds 10] [--profile 3]
                                [--data-dir DIR] [--reuse] [--conn-max-age N]

The load test (bench.load) is judged on latency under load, which on this shared
2-core machine is mostly queueing for the CPU: it moves with whatever else runs. CPU
time per request does not, so this measures it, page by page, deterministically:

1. A worker process builds the load test's database (bench.load's own preparation:
   bench.pagedata at 10,000 resellers and 100,000 organizations, report records in
   every status, the staff logins), or with --reuse takes the one --data-dir (SQLite)
   or BENCH_CPU_PG_URL (PostgreSQL, default hostmeter_bench_cpu) already holds.
2. A fresh process signs in a Systems login (a real session in the database) and calls
   the panel's WSGI application, as gunicorn does (every middleware, the session, the
   view, SQL, templates; not gunicorn's HTTP parsing), for each page of
   bench/load_users.py in its variants (the sorts, the searches, a few pages, …):
   a warm-up round, then --rounds rounds. Per request: the CPU time of this process
   (time.process_time: on SQLite the database's work too), on PostgreSQL the CPU time
   of its server backend (/proc/<pid>/schedstat), SQL queries, bytes, and the Python
   function calls of one request (cProfile), which unlike CPU time do not grow when
   other work shares the cores.
3. With --profile N, N more rounds of each page under cProfile: each page's functions
   with the most time, and the same over the load test's mix of pages.

The "mix" weighs each page as bench/load_users.py's tasks do (a list page brings its
action bar), so its mean is the CPU of the load test's average request.

HOSTMETER_DB_CONN_MAX_AGE is the panel's setting unless --conn-max-age gives it (with 0
every request starts a backend of its own, whose CPU is read just before it ends).
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import secrets
import statistics
import sys
import time
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit

from bench import runner
from bench.bulk import ROOT, log

PG_URL = os.environ.get(
    "BENCH_CPU_PG_URL", "postgres://postgres@127.0.0.1:5432/hostmeter_bench_cpu"
)
OUT = ROOT / "bench" / "out"
RESELLER_SORTS = ("name", "domain", "services", "status", "updated")
ORGANIZATION_SORTS = (*RESELLER_SORTS, "reseller")
SEARCHES = {  # bench/load_users.py's
    "resellers": ("cloud", "acme", "hosting", "nova", "metro+12"),
    "organizations": ("bakery", "garage", "zenith", "studio+7", "caf%C3%A9"),
}
POLLER = re.compile(r'id="status-poller" hx-get="([^"]+)"')
ROW_IDS = re.compile(r'name="selected" value="(\d+)"')


# ---------------------------------------------------------------- the pages


def pages(plan: dict) -> list[tuple[str, float, list[str], bool]]:
    """(name, weight in the load test's mix, URL variants, htmx fragment) of every page
    bench/load_users.py asks for; the weights are its tasks' (a list page's action bar
    comes with it)."""
    usage = "/reports/usage"
    big, orgs = plan["big_resellers"], plan["organizations"]
    r_pages = [2, plan["reseller_pages"] // 2, plan["reseller_pages"]]
    o_pages = [2, plan["organization_pages"] // 2, plan["organization_pages"]]
    both = ("", "-")
    lists = [
        ("reseller usage, page 1", 4, [f"{usage}/resellers/"]),
        ("reseller usage, page n", 2, [f"{usage}/resellers/?page={n}" for n in r_pages]),
        (
            "reseller usage, sorted",
            2,
            [f"{usage}/resellers/?sort={d}{s}" for s in RESELLER_SORTS for d in both],
        ),
        (
            "reseller usage, search",
            1,
            [f"{usage}/resellers/?q={q}" for q in SEARCHES["resellers"]],
        ),
        ("organization site usage, page 1", 3, [f"{usage}/organizations/"]),
        (
            "organization site usage, page n",
            1,
            [f"{usage}/organizations/?page={n}" for n in o_pages],
        ),
        (
            "organization site usage, sorted",
            1,
            [f"{usage}/organizations/?sort={d}{s}" for s in ORGANIZATION_SORTS for d in both],
        ),
        (
            "organization site usage, search",
            1,
            [f"{usage}/organizations/?q={q}" for q in SEARCHES["organizations"]],
        ),
        (
            "organization site usage, one reseller",
            1,
            [f"{usage}/organizations/?reseller={pk}" for pk in big],
        ),
    ]
    found = [(name, w, urls, False) for name, w, urls in lists]
    found += [
        (
            "action bar (on load)",
            sum(w for _, w, _ in lists),
            [f"{usage}/resellers/action-bar/", f"{usage}/organizations/action-bar/"],
            True,
        ),
        ("summary", 3, [f"{usage}/"], False),
        (
            "reseller overview",
            3,
            [f"{usage}/resellers/{pk}/" for pk in [*big, plan["resellers"] // 3]],
            False,
        ),
        (
            "organization overview",
            3,
            [f"{usage}/organizations/{pk}/" for pk in (1, orgs // 2, max(1, orgs * 7 // 9))],
            False,
        ),
        (
            "action bar (selection)",
            2,
            [
                f"{usage}/resellers/action-bar/?selected=3&selected=6&selected=9",
                f"{usage}/organizations/action-bar/?selected=7&selected=14",
            ],
            True,
        ),
        ("report-status poll", 3, plan["poll_urls"], True),
        ("export reports tab", 1, [f"{usage}/export/"], False),
        ("export reports tab (watching)", 0.5, [f"{usage}/export/"], True),
    ]
    return found


# ---------------------------------------------------------------- in the measuring process


class Panel:
    """The panel's WSGI application, called as gunicorn calls it, with a session cookie."""

    def __init__(self, cookie: str):
        from django.core.wsgi import get_wsgi_application

        self.app = get_wsgi_application()
        self.cookie = cookie

    def get(self, url: str, *, fragment: bool = False) -> tuple[int, bytes]:
        parts = urlsplit(url)
        environ = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_COOKIE": self.cookie,
            "HTTP_USER_AGENT": "bench.request_cpu",
            "HTTP_ACCEPT": "text/html",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if fragment:
            environ["HTTP_HX_REQUEST"] = "true"
        status = []
        body = self.app(environ, lambda s, headers, exc_info=None: status.append(s))
        try:
            content = b"".join(body)
        finally:
            with suppress(AttributeError):
                body.close()
        return int(status[0].split()[0]), content


class BackendClock:
    """CPU time of this process's PostgreSQL server backends so far, in ns (0 on SQLite):
    the open connection's, and every closed one's, read just before it closed (with
    HOSTMETER_DB_CONN_MAX_AGE=0 a backend starts and ends with each request)."""

    def __init__(self):
        from django.db import connections

        self.db = connections["default"]
        self.closed = 0
        if self.db.vendor != "postgresql":
            return
        close = self.db.close

        def read_then_close():
            self.closed += self.open_ns()
            close()

        self.db.close = read_then_close

    def open_ns(self) -> int:
        if self.db.vendor != "postgresql" or self.db.connection is None:
            return 0
        with open(f"/proc/{self.db.connection.info.backend_pid}/schedstat") as f:
            return int(f.read().split()[0])

    def ns(self) -> int:
        return self.closed + self.open_ns()


def sign_in() -> str:
    """A Systems login's session cookie (force_login: a real session row)."""
    from django.conf import settings
    from django.test import Client

    from hostmeter.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="load-reporter"))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def python_calls(panel: Panel, url: str, fragment: bool) -> int:
    """Python function calls of one request: the same however busy the machine is (CPU
    time is not: other work on the cores slows this one's too)."""
    profiler = cProfile.Profile()
    profiler.enable()
    panel.get(url, fragment=fragment)
    profiler.disable()
    return sum(calls for _, calls, *_ in pstats.Stats(profiler).stats.values())


def measure(plan: dict, rounds: int, profile_rounds: int, top: int) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    panel = Panel(sign_in())
    backend = BackendClock()
    # the report-status poll: the one a list with rows in progress shows
    for url in ("/reports/usage/resellers/", "/reports/usage/organizations/"):
        found = POLLER.search(panel.get(url)[1].decode())
        if found:
            plan["poll_urls"].append(found.group(1).replace("&amp;", "&"))
    measured = pages(plan)
    out: dict[str, dict] = {}
    for name, weight, urls, fragment in measured:
        for url in urls:  # warm-up, and the queries of one request of each
            with CaptureQueriesContext(connection) as ctx:
                status, content = panel.get(url, fragment=fragment)
            if status != 200:
                raise SystemExit(f"{url} answered {status}")
            page = out.setdefault(
                name, {"weight": weight, "urls": urls, "queries": [], "bytes": []}
            )
            page["queries"].append(len(ctx.captured_queries))
            page["bytes"].append(len(content))
            page.setdefault("calls", []).append(python_calls(panel, url, fragment))
    for name, _, urls, fragment in measured:
        cpu, db, wall = [], [], []
        for _ in range(rounds):
            for url in urls:
                b0, w0, c0 = backend.ns(), time.perf_counter(), time.process_time()
                panel.get(url, fragment=fragment)
                c1, w1, b1 = time.process_time(), time.perf_counter(), backend.ns()
                cpu.append((c1 - c0) * 1000)
                wall.append((w1 - w0) * 1000)
                db.append((b1 - b0) / 1e6)
        out[name] |= {
            "requests": len(cpu),
            "cpu_ms": statistics.mean(cpu),
            "cpu_median_ms": statistics.median(cpu),
            "cpu_max_ms": max(cpu),
            "db_ms": statistics.mean(db),
            "wall_ms": statistics.mean(wall),
        }
        log(f"{name}: {out[name]['cpu_ms']:.1f} ms CPU, {out[name]['db_ms']:.1f} ms backend")
    weights = sum(p["weight"] for p in out.values())
    mix = {
        key: sum(p["weight"] * p[key] for p in out.values()) / weights
        for key in ("cpu_ms", "db_ms")
    }
    mix["calls"] = sum(p["weight"] * statistics.mean(p["calls"]) for p in out.values()) / weights
    result = {"pages": out, "mix": mix, "conn_max_age": connection.settings_dict["CONN_MAX_AGE"]}
    if profile_rounds:
        result["profiles"] = profiles(panel, measured, profile_rounds, top)
    return result


def profiles(panel, measured, rounds: int, top: int) -> dict[str, str]:
    """Each page's functions by own time and by cumulative time, and the mix's."""
    texts, everything = {}, None
    for name, weight, urls, fragment in measured:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(rounds):
            for url in urls:
                panel.get(url, fragment=fragment)
        profiler.disable()
        stats = pstats.Stats(profiler)
        texts[name] = _stats_text(stats, top)
        # the mix: each page's profile as often as the load test asks for it
        for _ in range(max(1, round(weight * 2 / len(urls)))):
            if everything is None:
                everything = pstats.Stats(profiler)
            else:
                everything.add(profiler)
    if everything is not None:
        texts["(the load test's mix)"] = _stats_text(everything, top * 2)
    return texts


def _stats_text(stats: pstats.Stats, top: int) -> str:
    text = io.StringIO()
    stats.stream = text
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return text.getvalue()


# ---------------------------------------------------------------- worker and driver


def database_env(engine: str, data_dir: str) -> dict[str, str]:
    database = PG_URL if engine == "postgres" else f"sqlite:///{Path(data_dir) / 'bench.sqlite3'}"
    return {
        "DJANGO_SETTINGS_MODULE": "hostmeter.settings",
        "HOSTMETER_DATABASE_URL": database,
        "HOSTMETER_DATA_DIR": data_dir,
        "HOSTMETER_DEBUG": "0",
        "HOSTMETER_ALLOWED_HOSTS": "127.0.0.1",
        "HOSTMETER_LOG_LEVEL": "WARNING",
    }


def run_engine(engine: str, args) -> dict:
    data_dir = str(Path(args.data_dir or OUT / f"request-cpu-{engine}").resolve())
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    plan_path = Path(data_dir) / "plan.json"
    if not args.reuse or not plan_path.exists():
        cmd = [sys.executable, "-m", "bench.load", "--worker", engine, "--data-dir", data_dir]
        cmd += [*runner.forwarded(args, "orgs", "resellers"), "--users", "4"]
        log(f"{engine}: building the load test's database in {data_dir}")
        env = runner.clean_env(BENCH_LOAD_PG_URL=PG_URL)
        data = runner.child_json(cmd, f"preparing {engine}", env=env)
        plan = {
            "engine_version": data["engine_version"],
            "resellers": data["resellers"],
            "organizations": data["organizations"],
            "reseller_pages": -(-data["resellers"] // 25),
            "organization_pages": -(-data["organizations"] // 25),
            "big_resellers": data["big_resellers"],
            "poll_urls": [],
        }
        plan_path.write_text(json.dumps(plan))
    env = runner.clean_env(
        **database_env(engine, data_dir), HOSTMETER_SECRET_KEY=secrets.token_urlsafe(50)
    )
    if args.conn_max_age is not None:
        env["HOSTMETER_DB_CONN_MAX_AGE"] = str(args.conn_max_age)
    cmd = [sys.executable, "-m", "bench.request_cpu", "--measure", str(plan_path)]
    cmd += runner.forwarded(args, "rounds", "profile", "top")
    result = runner.child_json(cmd, f"measuring {engine}", env=env)
    return result | {
        "engine": engine,
        "engine_version": json.loads(plan_path.read_text())["engine_version"],
    }


def table(results: list[dict]) -> str:
    lines = [
        "| engine | page | weight | requests | CPU ms (mean) | median | max "
        "| backend CPU ms | queries | Python calls | KB |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        for name, p in r["pages"].items():
            queries = "–".join(str(q) for q in sorted({min(p["queries"]), max(p["queries"])}))
            lines.append(
                f"| {r['engine_version']} | {name} | {p['weight']:g} | {p['requests']} "
                f"| {p['cpu_ms']:.1f} | {p['cpu_median_ms']:.1f} | {p['cpu_max_ms']:.1f} "
                f"| {p['db_ms']:.1f} | {queries} | {statistics.mean(p['calls']):,.0f} "
                f"| {statistics.mean(p['bytes']) / 1000:.0f} |"
            )
        m = r["mix"]
        lines.append(
            f"| {r['engine_version']} | **the load test's mix** | | | **{m['cpu_ms']:.1f}** "
            f"| | | **{m['db_ms']:.1f}** | | **{m['calls']:,.0f}** | |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = runner.parser(
        __doc__,
        rounds=(10, "timed rounds of every variant"),
        profile=(0, "profiled rounds (0: none)"),
        top=(15, "functions shown per profile"),
        orgs=(100_000, "organizations of the load test's database"),
        resellers=(10_000, "resellers of the load test's database"),
    )
    parser.add_argument(
        "--data-dir", help="keep the database here (default bench/out/request-cpu-<engine>)"
    )
    parser.add_argument("--reuse", action="store_true", help="measure the database built before")
    parser.add_argument("--conn-max-age", type=int, help="HOSTMETER_DB_CONN_MAX_AGE for the panel")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:
        plan = json.loads(Path(args.measure).read_text())
        return runner.answer(measure(plan, args.rounds, args.profile, args.top))

    results = []
    for engine in runner.engines(args):
        print(f"== CPU per request, {engine}", file=sys.stderr, flush=True)
        results.append(run_engine(engine, args))
    for r in results:
        for name, text in r.get("profiles", {}).items():
            print(f"\n--- {r['engine_version']}, {name}: profile\n{text}")
    runner.results_show(results, table(results), args.json)
    for r in results:
        print(f"{r['engine_version']}: HOSTMETER_DB_CONN_MAX_AGE {r['conn_max_age']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
