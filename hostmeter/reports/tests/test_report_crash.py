"""A real worker process, really killed (SIGKILL) while generating a report: the report
never shows Ready or a partial file, housekeeping fails it once its lease has run out,
and a retry produces the complete file.

The worker is `hostmeter db_worker` in a child process, so it needs a database it can
open: on PostgreSQL the test database itself; on SQLite, where pytest-django's test
database lives in this process's memory, a file copy of it that this test then uses
too (reportdata.shared_database). Both engines run it, in `make test`."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hostmeter.housekeeping import housekeeping_run
from hostmeter.reports.models import Report
from hostmeter.reports.services import report_request

from .reportdata import build_world, read_csv, rollup_used, shared_database

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REPO = Path(__file__).resolve().parents[3]
WORKER = [sys.executable, "-m", "hostmeter", "db_worker", "--queue-name", "*", "--no-reload"]
WORKER += ["--no-startup-delay", "--interval", "0.2"]


class Worker:
    """A worker process with its output in a file; stopped for sure when done."""

    def __init__(self, env: dict, log: Path, *extra: str):
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [*WORKER, *extra], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_for(self, what: str, condition, *, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := condition():
                return value
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}) before {what}:\n"
                            + self.output())  # fmt: skip
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}; worker output:\n{self.output()}")

    def kill(self) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=10)


def test_a_worker_killed_mid_generation(settings, tmp_path):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    world = build_world(top_orgs=14, sub_orgs=10)
    rows_expected = len(world.below(world.top))
    with shared_database(tmp_path) as database_url:
        env = {
            **os.environ,
            "HOSTMETER_DATABASE_URL": database_url,
            "HOSTMETER_MEDIA_ROOT": str(media),
            "HOSTMETER_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        report, queued = report_request(kind="reseller", subject=world.top, update=world.update)
        assert queued and DBTaskResult.objects.count() == 1

        # The worker pauses after writing and checksumming the file, before storing it
        # and marking the report Ready (services._pause_for_tests): kill it there.
        worker = Worker({**env, "HOSTMETER_REPORT_TEST_PAUSE": "30"}, tmp_path / "worker.log")
        try:

            def written_part():
                if Report.objects.get(pk=report.pk).status != Report.Status.GENERATING:
                    return None
                for part in (media / "tmp").glob(f"report-{report.pk}-*.part"):
                    if part.read_bytes().count(b"\r\n") == rows_expected + 1:
                        return part
                return None

            part = worker.wait_for("the file to be written", written_part, timeout=20)
            time.sleep(0.2)  # digest: it is then sleeping in the pause
            assert worker.kill() == -signal.SIGKILL
        finally:
            worker.kill()

        report.refresh_from_db()
        assert report.status == Report.Status.GENERATING
        assert not report.file and report.generated_at is None and report.sha256 == ""
        assert not (media / "reports").exists() or not any((media / "reports").rglob("*.*"))
        assert part.exists(), "a killed worker cannot clean up after itself"
        # the task framework's own record stays "running" for ever (its known limit)
        assert DBTaskResult.objects.get().status == "RUNNING"
        assert housekeeping_run()["reports_failed"] == 0, "failed within its lease"

        # the lease runs out
        lease = settings.HOSTMETER["REPORT_LEASE_SECONDS"]
        Report.objects.filter(pk=report.pk).update(
            heartbeat_at=timezone.now() - timedelta(seconds=lease + 1)
        )
        assert housekeeping_run()["reports_failed"] == 1
        report.refresh_from_db()
        assert report.status == Report.Status.FAILED
        assert "stopped before it finished" in report.error
        assert not part.exists(), "housekeeping removes the partial file"

        # retry, and a new worker generates it
        again, queued = report_request(kind="reseller", subject=world.top, update=world.update)
        assert (again.pk, queued, again.status) == (report.pk, True, Report.Status.QUEUED)
        batch = Worker(env, tmp_path / "worker2.log", "--batch")
        try:
            batch.process.wait(timeout=60)
        finally:
            batch.kill()
        report.refresh_from_db()
        assert report.status == Report.Status.READY, report.error or batch.output()
        data = (media / report.file.name).read_bytes()
        assert report.sha256 == hashlib.sha256(data).hexdigest()
        assert report.size == len(data)
        assert [p for p in (media / "reports").rglob("*") if p.is_file()] == [
            media / report.file.name
        ]
        _, rows = read_csv(data)
        assert report.row_count == len(rows) == rows_expected
        assert sorted(r["Domain"] for r in rows) == sorted(o.domain for o in world.below(world.top))
        total = sum(Decimal(r["Disk space used (MB)"] or 0) for r in rows)
        assert total == rollup_used(world.update, world.top, "disk_space")
