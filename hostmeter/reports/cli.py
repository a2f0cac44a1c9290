"""What the report commands share: naming a report's subject on the command line, the exit
codes scripts rely on, and copying a Ready report's file out."""

import os
import sys
import tempfile
from pathlib import Path
from typing import IO

from django.core.files.storage import default_storage
from django.core.management.base import CommandError

from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.selectors.updates import UnknownPeriod
from hostmeter.tenancy.models import Organization, Reseller

from .columns import usage_as_of
from .models import Report, ReportEvent
from .selectors import report_update
from .services import ReportError

# Exit codes (documented in each command's help and in README.md).
OK, FAILED, USAGE, TIMED_OUT, NOT_READY = 0, 1, 2, 3, 4
STDOUT = "-"

KINDS = [k.value for k in Report.Kind]
SUBJECT_HELP = (
    "summary, resellers (reseller usage), organizations (organization site usage), "
    "reseller DOMAIN or organization DOMAIN"
)


def add_subject_arguments(parser) -> None:
    parser.add_argument("kind", choices=KINDS, help=f"What to report on: {SUBJECT_HELP}.")
    parser.add_argument("domain", nargs="?", help="The reseller's or organization's domain.")
    parser.add_argument(
        "--format", choices=[f.value for f in Report.Format], default="csv", help="Default: csv."
    )


def add_period_argument(parser, *, default: str) -> None:
    parser.add_argument(
        "--period",
        metavar="YYYY-MM",
        help="A billing period: the current one (to date) or a closed one (its totals, "
        f"as of its end). Default: {default}.",
    )


def period_update(period: str) -> UsageUpdate | None:
    """The update a report of the billing period is made from (report_update); a clear
    error for a key that names no period with figures."""
    try:
        return report_update(period=period)
    except UnknownPeriod as exc:
        raise CommandError(f"--period: {exc}", returncode=USAGE) from exc


def subject_from(kind: str, domain: str | None):
    """The Reseller or Organization named, or None for the whole-provider kinds."""
    if kind in (Report.Kind.RESELLER, Report.Kind.ORGANIZATION):
        if not domain:
            raise CommandError(f"Name the {kind}: {kind} DOMAIN.", returncode=USAGE)
        model = Reseller if kind == Report.Kind.RESELLER else Organization
        found = model.objects.filter(domain=domain.strip().lower()).first()
        if found is None:
            raise CommandError(f"No {kind} with the domain {domain}.", returncode=USAGE)
        return found
    if domain:
        raise CommandError(f"A {kind} report has no domain (got {domain}).", returncode=USAGE)
    return None


def subject_label(report: Report) -> str:
    holder = report.reseller or report.organization
    return f"{report.get_kind_display()} {holder.domain}" if holder else report.get_kind_display()


def write_file(report: Report, output: str, stdout) -> str:
    """Writes the file to the path (or "-": standard output); returns a description."""
    if output == STDOUT:
        stream = getattr(stdout, "_out", stdout)
        size = report_file_copy(
            report=report, destination=getattr(stream, "buffer", sys.stdout.buffer)
        )
        return f"{size:,} bytes to standard output"
    path = Path(output)
    if path.is_dir():
        raise CommandError(f"--output {output} is a directory; give a file name.", returncode=USAGE)
    if not path.parent.exists():
        raise CommandError(f"The folder of --output {output} does not exist.", returncode=USAGE)
    size = report_file_copy(report=report, destination=path)
    return f"{size:,} bytes to {path}"


def update_label(update: UsageUpdate) -> str:
    """ "usage of November 2026 (closed)", "usage of December 2026 to date (as of …)"."""
    return f"usage of {usage_as_of(update)}"


def report_file_copy(*, report: Report, destination: str | Path | IO[bytes], user=None) -> int:
    """Copies a Ready report's file to a path (written whole, then renamed into place) or
    to an open binary stream; records the download like the pages do. Returns the bytes."""
    if report.status != Report.Status.READY or not report.file:
        raise ReportError(
            f"The report is {report.get_status_display()}; only a Ready report can be exported."
        )
    with default_storage.open(report.file.name, "rb") as src:
        if hasattr(destination, "write"):
            size = _copy(src, destination)
        else:
            path = Path(destination)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
            try:
                with os.fdopen(fd, "wb") as out:
                    size = _copy(src, out)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    ReportEvent.objects.create(
        report=report, action=ReportEvent.Action.DOWNLOADED, user=user, detail="exported"
    )
    return size


def _copy(src: IO[bytes], dst: IO[bytes]) -> int:
    size = 0
    while block := src.read(1 << 20):
        dst.write(block)
        size += len(block)
    return size
