"""A report's status: Not generated → Queued → Generating → Ready (or Failed, and retry),
one record per subject and update whoever asks and however often, and the lease that
turns the report of a vanished worker Failed."""

import contextlib
import hashlib
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models.signals import pre_save
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hostmeter.housekeeping import housekeeping_run
from hostmeter.metering.models import UsageUpdate
from hostmeter.reports import services
from hostmeter.reports.models import Report
from hostmeter.reports.selectors import earlier_reports
from hostmeter.reports.services import (
    ReportError,
    report_download_response,
    report_generate,
    report_request,
    reports_fail_stale,
)
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory
from hostmeter.usage.selectors import reseller_usage_list

from .reportdata import CUTOFF, build_world, measure, read_csv, run_update, shared_database

TASK_PATH = "hostmeter.reports.tasks.report_generate_task"


@pytest.fixture
def small(db):
    """A reseller with two organizations and one completed update."""
    reseller = ResellerFactory(name="Small Hosting", domain="small.example", services=["web"])
    orgs = [OrganizationFactory(reseller=reseller) for _ in range(2)]
    measure(orgs, CUTOFF)
    return reseller, orgs, run_update(CUTOFF)


def tasks_for(report: Report) -> int:
    return sum(
        1
        for kwargs in DBTaskResult.objects.filter(task_path=TASK_PATH).values_list(
            "args_kwargs", flat=True
        )
        if kwargs["kwargs"] == {"report_id": report.pk}
    )


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in (media / "reports").rglob("*") if p.is_file())


def part_files(media: Path) -> list[Path]:
    return sorted((media / "tmp").glob("*.part")) if (media / "tmp").exists() else []


# ---------------------------------------------------------------- request and generate


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's JIT setting")
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_generate_runs_without_jit_and_gives_the_setting_back(small, media, monkeypatch, fmt):
    reseller, _, update = small
    report, _ = report_request(kind="reseller", subject=reseller, update=update, format=fmt)
    seen = []
    writer = f"write_{fmt}"
    real = getattr(services, writer)

    def spying(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            seen.append(cursor.fetchone()[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(services, writer, spying)
    with connection.cursor() as cursor:
        cursor.execute("SET jit = on")  # as the server's default has it
        assert report_generate(report_id=report.pk).status == Report.Status.READY
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("on",)
    assert seen == ["off"]


@pytest.mark.django_db
def test_request_queues_and_enqueues_the_task_on_commit(small, django_capture_on_commit_callbacks):
    reseller, _, update = small
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report, queued = report_request(kind="reseller", subject=reseller, update=update)
        assert tasks_for(report) == 0, "enqueued before the commit"
    assert queued and report.status == Report.Status.QUEUED
    assert len(callbacks) == 1
    callbacks[0]()
    assert tasks_for(report) == 1
    assert list(report.events.values_list("action", flat=True)) == ["requested"]


@pytest.mark.django_db
def test_generate_makes_it_ready_with_checksum_and_stored_file(small, media):
    reseller, orgs, update = small
    report, _ = report_request(kind="reseller", subject=reseller, update=update)
    before = timezone.now()
    report = report_generate(report_id=report.pk)
    assert report.status == Report.Status.READY, report.error
    assert report.progress == 100 and report.error == ""
    assert before <= report.generated_at <= timezone.now()
    assert report.row_count == len(orgs)
    data = (media / report.file.name).read_bytes()
    assert default_storage.exists(report.file.name)
    assert report.file.name.startswith("reports/2026/03/")
    assert report.size == len(data)
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert len(read_csv(data)[1]) == len(orgs)
    assert part_files(media) == [], "temporary file left behind"
    assert set(report.events.values_list("action", flat=True)) == {"requested", "generated"}


@pytest.mark.django_db
def test_generate_runs_only_a_queued_report(small, media):
    reseller, _, update = small
    report, _ = report_request(kind="reseller", subject=reseller, update=update)
    report_generate(report_id=report.pk)
    again = report_generate(report_id=report.pk)  # e.g. a task delivered twice
    assert again.status == Report.Status.READY
    assert len(stored_files(media)) == 1
    assert report.events.filter(action="generated").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Report.Status.QUEUED, Report.Status.GENERATING])
def test_asking_again_while_in_progress_starts_nothing(
    small, status, django_capture_on_commit_callbacks
):
    reseller, _, update = small
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = report_request(kind="reseller", subject=reseller, update=update)
    Report.objects.filter(pk=first.pk).update(status=status)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again, queued = report_request(
            kind="reseller", subject=reseller, update=update, regenerate=True
        )
    assert (again.pk, queued, again.status) == (first.pk, False, status)
    assert callbacks == []
    assert tasks_for(first) == 1
    assert Report.objects.count() == 1
    assert first.events.filter(action="requested").count() == 1


@pytest.mark.django_db
def test_ready_stays_unless_regenerate_then_old_file_goes(
    small, media, django_capture_on_commit_callbacks
):
    reseller, _, update = small
    report, _ = report_request(kind="reseller", subject=reseller, update=update)
    ready = report_generate(report_id=report.pk)
    old_name = ready.file.name

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        same, queued = report_request(kind="reseller", subject=reseller, update=update)
    assert (same.pk, queued, same.status) == (ready.pk, False, Report.Status.READY)
    assert callbacks == []

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again, queued = report_request(
            kind="reseller", subject=reseller, update=update, regenerate=True
        )
    assert (again.pk, queued, again.status) == (ready.pk, True, Report.Status.QUEUED)
    assert len(callbacks) == 1

    fresh = report_generate(report_id=again.pk)
    assert fresh.status == Report.Status.READY
    assert fresh.file.name != old_name
    assert not default_storage.exists(old_name), "the regenerated report's old file is kept"
    assert stored_files(media) == [media / fresh.file.name]
    assert fresh.sha256 == hashlib.sha256((media / fresh.file.name).read_bytes()).hexdigest()
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_failure_records_the_reason_and_a_retry_queues_it_again(
    small, media, monkeypatch, django_capture_on_commit_callbacks
):
    reseller, orgs, update = small
    report, _ = report_request(kind="reseller", subject=reseller, update=update)

    def broken(**kwargs):
        raise RuntimeError("the replica went away")

    monkeypatch.setattr(services, "report_query", broken)
    failed = report_generate(report_id=report.pk)
    assert failed.status == Report.Status.FAILED
    assert "the replica went away" in failed.error
    assert not failed.file and failed.generated_at is None
    assert stored_files(media) == []
    assert part_files(media) == []
    assert failed.events.filter(action="failed").count() == 1

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        retried, queued = report_request(kind="reseller", subject=reseller, update=update)
    assert (retried.pk, queued) == (report.pk, True)
    assert retried.status == Report.Status.QUEUED and retried.error == ""
    assert len(callbacks) == 1
    done = report_generate(report_id=report.pk)
    assert done.status == Report.Status.READY and done.row_count == len(orgs)


@pytest.mark.django_db
def test_no_completed_update_is_an_error(db):
    reseller = ResellerFactory()
    with pytest.raises(ReportError, match="no completed usage update"):
        report_request(kind="reseller", subject=reseller, update=None)
    queued = UsageUpdate.objects.create(cutoff=CUTOFF, trigger="command")
    with pytest.raises(ReportError):
        report_request(kind="summary", update=queued)
    UsageUpdate.objects.filter(pk=queued.pk).update(status=UsageUpdate.Status.FAILED)
    queued.refresh_from_db()
    with pytest.raises(ReportError):
        report_request(kind="summary", update=queued)
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_a_new_update_makes_every_subject_not_generated_and_keeps_earlier_files(small, media):
    reseller, orgs, first = small
    report, _ = report_request(kind="reseller", subject=reseller, update=first)
    old = report_generate(report_id=report.pk)
    old_bytes = (media / old.file.name).read_bytes()

    measure(orgs, CUTOFF + timedelta(days=1), seed=2)
    second = run_update(CUTOFF + timedelta(days=1))

    page, _ = reseller_usage_list(update=second)
    row = next(r for r in page.object_list if r.pk == reseller.pk)
    assert row.report_status is None, "a new usage update should make the subject Not generated"
    assert not Report.objects.filter(update=second).exists()

    old.refresh_from_db()
    assert old.status == Report.Status.READY and default_storage.exists(old.file.name)
    assert old in earlier_reports().object_list
    response = report_download_response(reports=[old], user=None)
    assert b"".join(response.streaming_content) == old_bytes

    new, queued = report_request(kind="reseller", subject=reseller, update=second)
    assert queued and new.pk != old.pk


# ---------------------------------------------------------------- the lease


@pytest.mark.django_db
def test_fail_stale_fails_silent_generating_reports_and_removes_their_parts(small, media, settings):
    reseller, orgs, update = small
    lease = settings.HOSTMETER["REPORT_LEASE_SECONDS"]
    now = timezone.now()
    stale, _ = report_request(kind="reseller", subject=reseller, update=update)
    fresh, _ = report_request(kind="organization", subject=orgs[0], update=update)
    queued, _ = report_request(kind="organization", subject=orgs[1], update=update)
    Report.objects.filter(pk=stale.pk).update(
        status="generating", heartbeat_at=now - timedelta(seconds=lease + 5)
    )
    Report.objects.filter(pk=fresh.pk).update(
        status="generating", heartbeat_at=now - timedelta(seconds=lease - 5)
    )
    tmp = media / "tmp"
    tmp.mkdir(parents=True)
    stale_part = tmp / f"report-{stale.pk}-x1y2.part"
    fresh_part = tmp / f"report-{fresh.pk}-a1b2.part"
    stale_part.write_bytes(b"half a file")
    fresh_part.write_bytes(b"being written")

    assert reports_fail_stale(now=now) == 1

    stale.refresh_from_db()
    assert stale.status == Report.Status.FAILED
    assert "stopped before it finished" in stale.error
    assert stale.events.filter(action="failed").exists()
    assert Report.objects.get(pk=fresh.pk).status == Report.Status.GENERATING
    assert Report.objects.get(pk=queued.pk).status == Report.Status.QUEUED
    assert not stale_part.exists()
    assert fresh_part.exists()
    assert reports_fail_stale(now=now) == 0


@pytest.mark.django_db
def test_housekeeping_fails_stale_reports(small, media):
    reseller, _, update = small
    report, _ = report_request(kind="reseller", subject=reseller, update=update)
    Report.objects.filter(pk=report.pk).update(
        status="generating", heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert housekeeping_run()["reports_failed"] == 1
    assert Report.objects.get(pk=report.pk).status == Report.Status.FAILED


@pytest.mark.django_db
def test_a_generation_declared_dead_meanwhile_does_not_publish_its_file(small, media, monkeypatch):
    """The worker was only slow: housekeeping failed it, so its file is not trusted."""
    reseller, _, update = small
    report, _ = report_request(kind="reseller", subject=reseller, update=update)

    def lease_runs_out_and_housekeeping_runs():
        # what reports_fail_stale writes; its removal of .part files is covered above
        Report.objects.filter(pk=report.pk).update(
            status=Report.Status.FAILED, error="The worker … stopped before it finished."
        )

    monkeypatch.setattr(services, "_pause_for_tests", lease_runs_out_and_housekeeping_runs)
    result = report_generate(report_id=report.pk)
    assert result.status == Report.Status.FAILED
    assert "stopped before it finished" in result.error
    assert not result.file
    assert stored_files(media) == []
    assert part_files(media) == []


@pytest.mark.django_db
def test_a_worker_declared_dead_does_not_overwrite_a_retry(small, media, monkeypatch):
    reseller, _, update = small
    report, _ = report_request(kind="reseller", subject=reseller, update=update)

    def declared_dead_and_retried():
        Report.objects.filter(pk=report.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
        assert reports_fail_stale() == 1  # also removes this worker's .part file
        retried, queued = report_request(kind="reseller", subject=reseller, update=update)
        assert queued and retried.status == Report.Status.QUEUED

    monkeypatch.setattr(services, "_pause_for_tests", declared_dead_and_retried)
    report_generate(report_id=report.pk)  # the zombie: its .part has gone, it fails
    report.refresh_from_db()
    assert report.status == Report.Status.QUEUED, report.error


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_generate_inside_a_transaction_keeps_the_connection(tmp_path, settings):
    """Regression: report_generate ended with close_old_connections(), which inside a
    caller's transaction closed the connection (found on c0c9295)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    reseller = ResellerFactory(services=["web"])
    measure([OrganizationFactory(reseller=reseller)], CUTOFF)
    update = run_update(CUTOFF)
    report, _ = report_request(kind="reseller", subject=reseller, update=update)
    # on SQLite the test database is in memory, where Django never really closes the
    # connection: on a file database a closed connection shows as on PostgreSQL
    with shared_database(tmp_path):
        with transaction.atomic():
            generated = report_generate(report_id=report.pk)
            assert generated.status == Report.Status.READY
            Report.objects.filter(pk=report.pk).update(progress=100)  # the caller goes on
        assert Report.objects.get(pk=report.pk).status == Report.Status.READY


# ---------------------------------------------------------------- concurrency and the worker


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_requests_make_one_report_and_one_task(tmp_path):
    reseller = ResellerFactory(services=["web"])
    measure([OrganizationFactory(reseller=reseller)], CUTOFF)
    update = run_update(CUTOFF)
    threads_n = 4
    # Every request that finds no report waits here, just before its INSERT, for the
    # others: on PostgreSQL they all pass the SELECT … FOR UPDATE (nothing to lock yet)
    # and race on the unique constraint. SQLite's BEGIN IMMEDIATE lets one in at a time,
    # so the wait times out and the others find the report.
    postgres = connection.vendor == "postgresql"
    barrier = threading.Barrier(threads_n, timeout=10 if postgres else 1)

    inserts = []

    def wait_for_the_others(sender, instance, **kwargs):
        if instance.pk is None:
            inserts.append(instance)
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()

    results, errors = [], []

    def ask():
        try:
            results.append(report_request(kind="reseller", subject=reseller, update=update))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    # SQLite: the in-memory test database (shared cache) answers a second writer with
    # "database table is locked" at once, whatever the timeout; a file serialises them.
    with shared_database(tmp_path):
        pre_save.connect(wait_for_the_others, sender=Report)
        try:
            threads = [threading.Thread(target=ask) for _ in range(threads_n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
        finally:
            pre_save.disconnect(wait_for_the_others, sender=Report)
        assert not errors, errors
        # the race really happened where the database lets it happen
        if postgres:
            assert len(inserts) >= 2, "no two requests raced to INSERT"
        else:
            assert len(inserts) == 1
        assert len(results) == threads_n
        assert len({r.pk for r, _ in results}) == 1
        assert sorted(q for _, q in results) == [False] * (threads_n - 1) + [True]
        report = Report.objects.get()
        assert tasks_for(report) == 1
        assert report.events.filter(action="requested").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_generates_a_queued_report(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_world(top_orgs=6, sub_orgs=4, tricky=False)
    report, queued = report_request(kind="reseller", subject=world.top, update=world.update)
    assert queued and tasks_for(report) == 1
    call_command("db_worker", batch=True, startup_delay=False, reload=False, queue_name="*")
    report.refresh_from_db()
    assert report.status == Report.Status.READY, report.error
    assert report.row_count == len(world.below(world.top)) == 10
    data = (settings.MEDIA_ROOT / report.file.name).read_bytes()
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    task = DBTaskResult.objects.get(task_path=TASK_PATH)
    assert (task.status, task.return_value) == ("SUCCESSFUL", "ready")
