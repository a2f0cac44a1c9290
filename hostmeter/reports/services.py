"""Functions that change reports: request, generate, fail stale ones, hand out files."""

import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone

from hostmeter.accounts.models import User
from hostmeter.heartbeat import Heartbeat
from hostmeter.jit import without_jit
from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.selectors.updates import usage_period_of
from hostmeter.tenancy.models import Organization, Provider, Reseller

from .columns import report_query
from .models import Report, ReportEvent
from .tasks import report_generate_task
from .writers import HashingWriter, write_csv, write_xlsx

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5
# A file in the scratch folder that belongs to no run is removed after a day.
STRAY_SECONDS = 24 * 3600
QUEUE_PATIENCE = timedelta(minutes=10)


MISSING_FILE = "Its file is missing from storage; generate the report again."


class ReportError(Exception):
    """A report cannot be requested or handed out as asked."""


class ReportFileMissing(ReportError):
    """Ready reports whose files are gone from storage; they are now marked Failed."""

    def __init__(self, reports: list[Report]):
        names = ", ".join(_subject_label(r) for r in reports)
        super().__init__(
            f"The file of {names} is missing from storage. The report is now marked "
            "Failed: generate it again."
        )
        self.reports = reports


def _subject_label(report: Report) -> str:
    holder = report.reseller or report.organization or report.subtree
    label = f"the {report.get_kind_display().lower()} report"
    return f"{label} of {holder.domain}" if holder else label


# ---------------------------------------------------------------- requests


def _subject_fields(
    kind: str, subject: Reseller | Organization | None
) -> dict[str, Reseller | Organization | None]:
    if kind == Report.Kind.RESELLER:
        assert isinstance(subject, Reseller)
        return {"reseller": subject, "organization": None}
    if kind == Report.Kind.ORGANIZATION:
        assert isinstance(subject, Organization)
        return {"reseller": None, "organization": subject}
    return {"reseller": None, "organization": None}


def report_request(
    *,
    kind: str,
    subject: Reseller | Organization | None = None,
    update: UsageUpdate | None,
    user: User | None = None,
    format: str = Report.Format.CSV,
    regenerate: bool = False,
    subtree: Reseller | None = None,
) -> tuple[Report, bool]:
    """Queues a report of the update for the subject; returns (report, queued now).
    subtree: a reseller login's summary, reseller usage or organization site usage file,
    of that reseller's subtree.

    Asking again while one is queued or generating starts nothing; asking again when
    it is Ready starts nothing unless regenerate; a Failed one is queued again.
    """
    if update is None or update.status != UsageUpdate.Status.SUCCEEDED:
        raise ReportError("There is no completed usage update to report on yet.")
    if subtree is not None and kind not in WHOLE_NAMES:
        raise ReportError("A reseller's or an organization's report is the same for everyone.")
    where = {
        "kind": kind,
        "update": update,
        "format": format,
        "subtree": subtree,
        **_subject_fields(kind, subject),
    }
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(**where).first()
        if report is None:
            try:
                with transaction.atomic():
                    report = Report.objects.create(**where, requested_by=user)
            except IntegrityError:  # a concurrent request created it first
                return Report.objects.get(**where), False
        elif _still_wanted(report, regenerate):
            return report, False
        else:
            _reset(report, user)
        ReportEvent.objects.create(report=report, action=ReportEvent.Action.REQUESTED, user=user)
        transaction.on_commit(partial(report_generate_task.enqueue, report_id=report.pk))
    return report, True


def _still_wanted(report: Report, regenerate: bool) -> bool:
    """Whether a request for this report needs nothing new."""
    if report.status == Report.Status.QUEUED:
        # Queued for long, its task may be lost (the queue's worker has no retries): it
        # is queued again; a duplicate task is harmless, report_generate claims once.
        return report.requested_at >= timezone.now() - QUEUE_PATIENCE
    if report.status == Report.Status.GENERATING:
        return True
    return report.status == Report.Status.READY and not regenerate


def _reset(report: Report, user: User | None) -> None:
    report.status, report.progress, report.error = Report.Status.QUEUED, 0, ""
    report.requested_by, report.requested_at = user, timezone.now()
    report.started_at = report.heartbeat_at = None
    report.save(
        update_fields=[
            "status",
            "progress",
            "error",
            "requested_by",
            "requested_at",
            "started_at",
            "heartbeat_at",
        ]
    )


@dataclass
class RequestOutcome:
    queued: list[Report] = field(default_factory=list)
    busy: list[Report] = field(default_factory=list)
    ready: list[Report] = field(default_factory=list)

    def message(self) -> str:
        parts = []
        if self.queued:
            parts.append(f"{len(self.queued)} report{'s' * (len(self.queued) != 1)} queued")
        if self.busy:
            parts.append(f"{len(self.busy)} already being generated")
        if self.ready:
            parts.append(
                f"{len(self.ready)} already Ready for this usage update (use regenerate to "
                "make a new file)"
            )
        return "; ".join(parts).capitalize() + "."


def report_request_many(
    *,
    kind: str,
    subjects: Iterable[Reseller | Organization],
    update: UsageUpdate | None,
    user: User | None = None,
    regenerate: bool = False,
) -> RequestOutcome:
    outcome = RequestOutcome()
    for subject in subjects:
        report, queued = report_request(
            kind=kind, subject=subject, update=update, user=user, regenerate=regenerate
        )
        if queued:
            outcome.queued.append(report)
        elif report.status == Report.Status.READY:
            outcome.ready.append(report)
        else:
            outcome.busy.append(report)
    return outcome


# ---------------------------------------------------------------- generation


def _file_name(report: Report, *, zone: ZoneInfo) -> str:
    """hostmeter-reseller-<domain>-<period>.csv: see _period_part."""
    # a reseller's or an organization's report has its subject, the others none (the
    # subject_matches_kind constraint): "reseller-<domain>", "organization-<domain>"
    holder = report.reseller or report.organization
    subject = f"{report.kind}-{holder.domain}" if holder else WHOLE_NAMES[report.kind]
    if report.subtree is not None:  # a reseller login's: "acme.example-summary"
        subject = f"{report.subtree.domain}-{subject}"
    return f"hostmeter-{subject}-{_period_part(report.update, zone=zone)}.{report.format}"


def _period_part(update: UsageUpdate, *, zone: ZoneInfo) -> str:
    """Which figures a file holds, in its name: "2026-11" for a closed period (its closing
    update: one per period), "2026-12-to-date-20261204-0200" for a period to date (the
    update's time in the provider's zone), so each report's name is its own."""
    when = update.cutoff.astimezone(zone).strftime("%Y%m%d-%H%M")
    found = usage_period_of(update=update, zone=zone)
    if found is None:
        return when
    return found.key if found.closed else f"{found.key}-to-date-{when}"


WHOLE_NAMES: dict[str, str] = {
    Report.Kind.SUMMARY: "summary",
    Report.Kind.RESELLERS: "reseller-usage",
    Report.Kind.ORGANIZATIONS: "organization-site-usage",
}


class _Progress:
    """The rows written so far, and the beat that records them with a sign of life."""

    def __init__(self, mine: QuerySet[Report], total: int):
        self.mine, self.total, self.rows = mine, max(total, 1), 0

    def beat(self) -> None:
        self.mine.update(
            heartbeat_at=timezone.now(), progress=min(99, self.rows * 100 // self.total)
        )


class _StoredTempFile(File[bytes]):
    """Lets FileSystemStorage move the finished file into place with a rename."""

    file: IO[bytes]  # always made with the open file

    def temporary_file_path(self) -> str:
        return self.file.name


def report_generate(*, report_id: int) -> Report:
    """Writes the report's file under a temporary name, checksums it, stores it, and only
    then marks it Ready. Any failure marks it Failed with the reason."""
    # started_at is this run's claim: every later write requires it, so a run declared
    # dead (and perhaps retried by another worker) can no longer change the report
    claim = timezone.now()
    claimed = Report.objects.filter(pk=report_id, status=Report.Status.QUEUED).update(
        status=Report.Status.GENERATING, started_at=claim, heartbeat_at=claim, progress=0
    )
    report = Report.objects.select_related("update", "reseller", "organization").get(pk=report_id)
    if not claimed:
        return report  # generated, failed or taken by another worker meanwhile
    mine = Report.objects.filter(pk=report.pk, status=Report.Status.GENERATING, started_at=claim)
    # the file under a temporary name, and a folder for the XLSX writer's own scratch
    run_dir = _scratch() / _run_dir_name(report.pk, claim)
    run_dir.mkdir(parents=True)
    fd, tmp_path = tempfile.mkstemp(prefix=f"report-{report.pk}-", suffix=".part", dir=_scratch())
    heartbeat = None
    try:
        query = report_query(report=report)
        provider = Provider.get()
        # without JIT: the reseller tree's recursive CTE is overestimated, which crosses
        # the JIT cost thresholds, and compiling took most of a small report's time
        # (docs/benchmarks.md, Report generation, "Reading them")
        with os.fdopen(fd, "wb") as raw, without_jit():
            with connection.cursor() as cursor:
                cursor.execute(query.count_sql, query.params)
                total = cursor.fetchone()[0]
            counted = _Progress(mine, total)
            heartbeat = Heartbeat(
                counted.beat, every=HEARTBEAT_SECONDS, name=f"report-{report.pk}-heartbeat"
            )
            heartbeat.start()
            progress = partial(setattr, counted, "rows")
            if report.format == Report.Format.XLSX:
                rows = write_xlsx(query, tmp_path, scratch=run_dir, progress=progress)
            else:
                out = HashingWriter(raw)
                rows = write_csv(
                    query,
                    out,
                    bom=provider.csv_bom,
                    delimiter=provider.csv_delimiter,
                    progress=progress,
                )
        if report.format == Report.Format.XLSX:  # XlsxWriter wrote the file itself
            sha256, size = _digest(tmp_path)
        else:
            sha256, size = out.sha256.hexdigest(), out.size
        _pause_for_tests()
        stored_as = _file_name(report, zone=provider.zone)
        with open(tmp_path, "rb") as done:
            name = default_storage.save(
                f"reports/{report.update.cutoff:%Y/%m}/{report.pk}-{stored_as}",
                _StoredTempFile(done),
            )
        ready = mine.update(
            file=name,
            status=Report.Status.READY,
            progress=100,
            error="",
            generated_at=timezone.now(),
            row_count=rows,
            size=size,
            sha256=sha256,
        )
        if not ready:  # declared dead meanwhile: its file is not trusted
            default_storage.delete(name)
        else:
            if report.file and report.file.name != name:  # the file of a regenerated report
                default_storage.delete(report.file.name)
            ReportEvent.objects.create(
                report=report, action=ReportEvent.Action.GENERATED, detail=f"{rows} rows"
            )
    except Exception as exc:
        log.exception("Report %s failed", report.pk)
        if mine.update(status=Report.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]):
            ReportEvent.objects.create(
                report=report, action=ReportEvent.Action.FAILED, detail=str(exc)[:300]
            )
    finally:
        if heartbeat is not None:
            heartbeat.stopped.set()
        shutil.rmtree(run_dir, ignore_errors=True)
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
    report.refresh_from_db()
    return report


def _scratch() -> Path:
    """Where generation writes before a file is stored: under the data directory, so
    customer data never lands in the system's /tmp; housekeeping sweeps it."""
    return Path(settings.MEDIA_ROOT) / "tmp"


def _run_dir_name(report_id: int, claim: datetime) -> str:
    """One folder a generation run, named by its report and claim, so housekeeping knows
    a crashed run's leftovers from the files of the run under way."""
    return f"report-{report_id}-{claim.timestamp():.6f}"


def _digest(path: str) -> tuple[str, int]:
    import hashlib

    sha, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            sha.update(block)
            size += len(block)
    return sha.hexdigest(), size


def _pause_for_tests() -> None:
    """Fault-injection point for the crash test: a worker killed here has written its
    file but not marked it Ready. Off unless HOSTMETER_REPORT_TEST_PAUSE is set."""
    if pause := float(os.environ.get("HOSTMETER_REPORT_TEST_PAUSE", "0")):
        import time

        time.sleep(pause)


def reports_fail_stale(*, now: datetime | None = None) -> int:
    """Marks reports whose generating task went silent (worker killed) as Failed, and
    removes the partial files such a worker left behind."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.HOSTMETER["REPORT_LEASE_SECONDS"])
    candidates = list(
        Report.objects.filter(
            status=Report.Status.GENERATING, heartbeat_at__lt=now - lease
        ).values_list("pk", flat=True)
    )
    stale = []
    for pk in candidates:
        # one by one, with the condition again: a report that finished meanwhile stays
        if Report.objects.filter(
            pk=pk, status=Report.Status.GENERATING, heartbeat_at__lt=now - lease
        ).update(
            status=Report.Status.FAILED,
            error="The worker generating this report stopped before it finished. "
            "Generate it again.",
        ):
            stale.append(pk)
            ReportEvent.objects.create(
                report_id=pk, action=ReportEvent.Action.FAILED, detail="worker stopped"
            )
    for pk in stale:  # what the dead run had written so far
        for left in _scratch().glob(f"report-{pk}-*"):
            _remove(left)
    return len(stale)


def report_scratch_sweep(*, now: datetime | None = None) -> int:
    """Removes what crashed generation runs left in the scratch folder: a run's folder
    once its report no longer runs with that claim, and stray files past a day old.
    Returns how many were removed."""
    now = now or timezone.now()
    scratch = _scratch()
    if not scratch.is_dir():
        return 0
    running = {
        _run_dir_name(pk, claim)
        for pk, claim in Report.objects.filter(status=Report.Status.GENERATING).values_list(
            "pk", "started_at"
        )
        if claim is not None
    }
    removed = 0
    for entry in scratch.iterdir():
        if entry.is_dir() and entry.name.startswith("report-"):
            if entry.name in running:
                continue
        elif now.timestamp() - entry.stat().st_mtime <= STRAY_SECONDS:
            continue
        _remove(entry)
        removed += 1
    return removed


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------- downloads


def report_download_response(*, reports: list[Report], user: User | None) -> FileResponse:
    """Streams one Ready report's file, or several as one ZIP; records who downloaded.

    A Ready report whose file is gone from storage (deleted by hand, a lost bucket) is
    marked Failed, so that it can be generated again, and ReportFileMissing says which.
    """
    if not reports or any(r.status != Report.Status.READY or not r.file for r in reports):
        raise ReportError("Only reports that are Ready can be downloaded.")
    missing = [r for r in reports if not default_storage.exists(r.file.name)]
    if missing:
        _fail_missing(missing)
        raise ReportFileMissing(missing)
    zone = Provider.get().zone
    if len(reports) == 1:
        report = reports[0]
        handle = default_storage.open(report.file.name, "rb")
        _log_downloads(reports, user)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=_file_name(report, zone=zone),
            content_type=_content_type(report),
        )
    _scratch().mkdir(parents=True, exist_ok=True)
    spool = tempfile.SpooledTemporaryFile(max_size=16 << 20, dir=str(_scratch()))  # noqa: SIM115 (FileResponse closes it)
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for report in reports:
            with (
                default_storage.open(report.file.name, "rb") as src,
                archive.open(_file_name(report, zone=zone), "w") as dst,
            ):
                while block := src.read(1 << 20):
                    dst.write(block)
    spool.seek(0)
    _log_downloads(reports, user)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"hostmeter-reports-{_period_part(reports[0].update, zone=zone)}.zip",
        content_type="application/zip",
    )


def _fail_missing(reports: list[Report]) -> None:
    for report in reports:
        if Report.objects.filter(pk=report.pk, status=Report.Status.READY).update(
            status=Report.Status.FAILED, error=MISSING_FILE
        ):
            ReportEvent.objects.create(
                report=report, action=ReportEvent.Action.FAILED, detail="file missing"
            )
        report.status, report.error = Report.Status.FAILED, MISSING_FILE


def _log_downloads(reports: list[Report], user: User | None) -> None:
    ReportEvent.objects.bulk_create(
        [ReportEvent(report=r, action=ReportEvent.Action.DOWNLOADED, user=user) for r in reports]
    )


def _content_type(report: Report) -> str:
    if report.format == Report.Format.XLSX:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return "text/csv; charset=utf-8"
