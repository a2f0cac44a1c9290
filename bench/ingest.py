"""Benchmark of the ingest endpoint over HTTP against direct bulk insert of the same rows.

    python -m bench.ingest [--orgs 2000] [--rounds 5] [--engines sqlite,postgres]

For each engine, a worker process builds a throw-away database (SQLite in a temporary
folder; PostgreSQL: the database of BENCH_INGEST_PG_URL, dropped and created), adds
organizations, a login and an ingest-only token, and starts gunicorn (one sync worker)
on 127.0.0.1. Then, for batches of 1,000 and 10,000 samples, it alternates: POST the
batch as JSON to /api/v1/usage-samples/ (the time from sending to the answer), and
store the same samples with metering.services.usage_samples_store (the direct bulk
insert: already resolved ids, one transaction). The two differ only in their source,
so neither hits the other's rows as duplicates. Rates are samples per second, medians
of the rounds; the ratio is HTTP ÷ direct. Goal: at least 1/3.
"""

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from bench import runner
from bench.bulk import ROOT, bench_database, engine_version, log

GOAL = 1 / 3
BATCHES = (1_000, 10_000)
PG_URL = os.environ.get(
    "BENCH_INGEST_PG_URL", "postgres://postgres@127.0.0.1:5432/hostmeter_bench_ingest"
)
RESOURCES = ("disk_space", "bandwidth", "mailboxes", "mail_storage", "emails_sent")


def customer_base(orgs: int) -> tuple[list[tuple[int, str]], dict[str, int], str]:
    """Organizations with web and mail, and an Operations login's ingest-only token."""
    from hostmeter.accounts.services import user_save
    from hostmeter.api.services import api_token_create
    from hostmeter.tenancy.models import Organization, Resource, Service

    Organization.objects.bulk_create(
        [Organization(name=f"Org {i}", domain=f"org{i}.bench.example") for i in range(orgs)],
        batch_size=2000,
    )
    ids = list(Organization.objects.order_by("pk").values_list("pk", "domain"))
    services = list(Service.objects.filter(code__in=["web", "mail"]).values_list("pk", flat=True))
    through = Organization.services.through
    through.objects.bulk_create(
        [through(organization_id=pk, service_id=s) for pk, _ in ids for s in services],
        batch_size=5000,
    )
    resources = dict(Resource.objects.filter(code__in=RESOURCES).values_list("code", "pk"))
    user = user_save(username="collector", password=None, login_level="operations")
    _, token = api_token_create(user=user, name="bench", scope="ingest")
    return ids, resources, token


def samples(orgs, start: datetime, count: int):
    """`count` distinct samples: every organization × resource, then the next minute."""
    out = []
    per_minute = len(orgs) * len(RESOURCES)
    for k in range(count):
        minute, rest = divmod(k, per_minute)
        (org_id, domain), code = orgs[rest // len(RESOURCES)], RESOURCES[rest % len(RESOURCES)]
        value = f"{(k * 7919) % 100000}.{k % 1000:03d}"
        out.append((org_id, domain, code, start + timedelta(minutes=minute), value))
    return out


class Server:
    """gunicorn serving the panel on a free loopback port, with one sync worker."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "HOSTMETER_LOG_LEVEL": "WARNING"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "hostmeter.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # the sign-in page answers anyone (the API's schema needs a signed-in login)
            with suppress(OSError):
                if self.request("GET", "/login/", None, {})[0] == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def request(self, method, path, body, headers):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def measure(engine: str, orgs: int, rounds: int) -> dict:
    from django.db import transaction

    from hostmeter.fields import to_thousandths
    from hostmeter.metering.services.samples import usage_samples_store

    ids, resources, token = customer_base(orgs)
    server = Server()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=300)
    out = {"engine": engine, "orgs": orgs, "engine_version": engine_version(), "batches": {}}
    try:
        for size in BATCHES:
            http_rates, direct_rates = [], []
            for r in range(rounds + 1):  # the first round warms caches and is not counted
                rows = samples(ids, start, size)
                start = rows[-1][3] + timedelta(minutes=1)
                body = json.dumps(
                    [
                        {
                            "organization": d,
                            "resource": c,
                            "measured_at": at.isoformat(),
                            "value": v,
                            "source": "http",
                        }
                        for _, d, c, at, v in rows
                    ]
                ).encode()
                direct = [
                    (o, resources[c], at, to_thousandths(v), "direct") for o, _, c, at, v in rows
                ]

                def via_http(body=body, size=size):
                    t = time.perf_counter()
                    status, answer = server.request("POST", "/api/v1/usage-samples/", body, headers)
                    seconds = time.perf_counter() - t
                    result = json.loads(answer)
                    if status != 200 or result["stored"] != size:
                        raise SystemExit(f"ingest answered {status}: {answer[:300]!r}")
                    return seconds

                def via_store(direct=direct, size=size):
                    t = time.perf_counter()
                    with transaction.atomic():
                        stored = usage_samples_store(direct)
                    seconds = time.perf_counter() - t
                    if stored != size:
                        raise SystemExit(f"direct insert stored {stored} of {size}")
                    return seconds

                # alternate which goes first, so that table growth and caches favour neither
                order = (via_http, via_store) if r % 2 else (via_store, via_http)
                timings = {fn: fn() for fn in order}
                if r:
                    http_rates.append(size / timings[via_http])
                    direct_rates.append(size / timings[via_store])
                    log(
                        f"{engine}, {size:,}: HTTP {http_rates[-1]:,.0f}/s, "
                        f"direct {direct_rates[-1]:,.0f}/s"
                    )
            http_rate, direct_rate = statistics.median(http_rates), statistics.median(direct_rates)
            out["batches"][size] = {
                "http": http_rate,
                "direct": direct_rate,
                "ratio": http_rate / direct_rate,
                "http_rounds": http_rates,
                "direct_rounds": direct_rates,
            }
    finally:
        server.stop()
    return out


def worker(args) -> dict:
    with bench_database(args.worker, PG_URL, prefix="hostmeter-bench-ingest-"):
        return measure(args.worker, args.orgs, args.rounds)


def table(results: list[dict]) -> str:
    lines = [
        "| engine | batch | HTTP samples/s | direct bulk insert samples/s | ratio |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        for size, b in r["batches"].items():
            lines.append(
                f"| {r['engine_version']} | {int(size):,} | {b['http']:,.0f} | "
                f"{b['direct']:,.0f} | **{b['ratio']:.2f}** |"
            )
    return "\n".join(lines)


def verdicts(results: list[dict]) -> int:
    missed = False
    for r in results:
        for size, b in r["batches"].items():
            ok = b["ratio"] >= GOAL
            missed |= not ok
            print(
                f"Ingest ratio {r['engine_version']}, batches of {int(size):,}: HTTP ÷ direct "
                f"{b['ratio']:.2f} (goal ≥ {GOAL:.2f}) {'ok' if ok else 'MISSED'}"
            )
    return 1 if missed else 0


def main(argv=None) -> int:
    numbers = {"orgs": (2000, "organizations"), "rounds": (5, "timed rounds of each batch size")}
    args = runner.parser(__doc__, **numbers).parse_args(argv)
    return runner.engines_main(
        args,
        worker,
        module="bench.ingest",
        title="ingest over HTTP",
        forward=numbers,
        table=table,
        verdicts=verdicts,
    )


if __name__ == "__main__":
    sys.exit(main())
