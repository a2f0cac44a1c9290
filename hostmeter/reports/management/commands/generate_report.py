"""`hostmeter generate_report`: generate a report of the most recent usage update (or of a
billing period), wait for it and write its file — what a nightly script needs."""

import argparse
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from hostmeter.reports import cli
from hostmeter.reports.models import Report
from hostmeter.reports.services import ReportError, report_generate, report_request

# A report still Queued this long means no task worker is taking it.
NO_WORKER_HINT_SECONDS = 15


class Command(BaseCommand):
    help = (
        "Generate the report of a subject (summary, resellers, organizations, reseller "
        "DOMAIN, organization DOMAIN) from the most recent usage update, or with --period "
        "YYYY-MM a billing period's (a closed one's totals). --wait follows it "
        "until it is Ready (a task worker generates it; --now generates it in this process "
        "instead), --output writes the file (and implies --wait). Exit status: 0 queued, "
        "or Ready (and written); 1 the report failed; 2 bad arguments, unknown subject or "
        "no completed usage update; 3 --timeout passed before it was Ready."
    )

    def add_arguments(self, parser):
        cli.add_subject_arguments(parser)
        parser.add_argument("--wait", action="store_true", help="Wait until Ready or Failed.")
        parser.add_argument(
            "--now",
            action="store_true",
            help="Generate it in this process (no task worker needed); implies --wait.",
        )
        parser.add_argument("--output", metavar="PATH", help="Write the file here (- : stdout).")
        parser.add_argument(
            "--regenerate", action="store_true", help="Make a new file even if one is Ready."
        )
        parser.add_argument(
            "--timeout", type=float, default=3600, help="Seconds to wait (default 3600)."
        )
        parser.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
        cli.add_period_argument(parser, default="the most recent usage update")

    def handle(self, *args, kind, domain, format, wait, now, output, regenerate, **options):
        subject = cli.subject_from(kind, domain)
        update = cli.period_update(options["period"])
        try:
            report, queued = report_request(
                kind=kind, subject=subject, update=update, format=format, regenerate=regenerate
            )
        except ReportError as exc:
            raise CommandError(
                f"{exc} Run one with `hostmeter run_usage_update`.", returncode=cli.USAGE
            ) from exc
        what = f"{cli.subject_label(report)} report ({report.format}, {cli.update_label(update)})"
        self.stderr.write(
            f"{what}: {'queued' if queued else report.get_status_display()} (id {report.pk})."
        )
        if now and report.status == Report.Status.QUEUED:
            report = report_generate(report_id=report.pk)
        if not (wait or now or output):
            return
        # Returns at once when the report is already Ready or Failed.
        report = self._follow(report, timeout=options["timeout"], every=options["interval"])
        if report.status == Report.Status.FAILED:
            raise CommandError(f"The report failed: {report.error}", returncode=cli.FAILED)
        self.stderr.write(f"Ready: {report.row_count:,} rows, {report.size:,} bytes.")
        if output:
            self.stderr.write(f"Wrote {cli.write_file(report, output, self.stdout)}.")

    def _follow(self, report: Report, *, timeout: float, every: float) -> Report:
        """Polls the report until Ready or Failed, with a progress bar on a terminal."""
        start = time.monotonic()
        hinted = False
        seen = report.status
        with tqdm(total=100, unit="%", desc="Generating", disable=None, file=sys.stderr) as bar:
            while report.status in (Report.Status.QUEUED, Report.Status.GENERATING):
                waited = time.monotonic() - start
                if waited > timeout:
                    raise CommandError(
                        f"Still {report.get_status_display()} after {timeout:g} s; it goes on "
                        f"in the background (report id {report.pk}).",
                        returncode=cli.TIMED_OUT,
                    )
                stuck = report.status == Report.Status.QUEUED and waited > NO_WORKER_HINT_SECONDS
                if stuck and not hinted:
                    self.stderr.write(
                        "Still Queued: is a task worker running (`hostmeter db_worker` or "
                        "`hostmeter serve`)? Use --now to generate it in this process."
                    )
                    hinted = True
                time.sleep(every)
                report.refresh_from_db()
                bar.update(max(0, report.progress - bar.n))
                if report.status != seen:
                    seen = report.status
                    if bar.disable:  # not a terminal: one line per change, for logs
                        self.stderr.write(report.get_status_display())
                    else:
                        bar.write(report.get_status_display(), file=sys.stderr)
        return report
