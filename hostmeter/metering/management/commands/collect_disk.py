"""`hostmeter collect_disk`: store each organization's disk space as a usage sample."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hostmeter.metering.collectors import CollectorError
from hostmeter.metering.collectors.disk import usage_collect_disk


class Command(BaseCommand):
    help = (
        "Measures the folder ROOT/<domain> of every organization with web hosting and "
        "stores its size as a disk space sample (MB)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--root",
            type=Path,
            help="Directory with one folder per organization domain "
            "(default: HOSTMETER_DOCUMENT_ROOT).",
        )

    def handle(self, *args, root: Path | None, verbosity: int, **options):
        configured = settings.HOSTMETER.get("DOCUMENT_ROOT")
        if root is None and not configured:
            raise CommandError(
                "No document root: pass --root DIR or set HOSTMETER_DOCUMENT_ROOT.", returncode=2
            )
        try:
            result = usage_collect_disk(root=root or Path(configured))
        except CollectorError as exc:
            raise CommandError(str(exc)) from exc

        self.stdout.write(f"Disk usage under {result.root} as of {result.measured_at.isoformat()}")
        if verbosity > 1:
            for usage in result.measured:
                self.stdout.write(f"  {usage.domain}: {usage.value} MB ({usage.bytes} bytes)")
        already = len(result.measured) - result.stored
        self.stdout.write(
            f"Measured {len(result.measured)} organizations: {result.total_mb} MB in total; "
            f"{result.stored} samples stored" + (f", {already} already there." if already else ".")
        )
        if result.missing:
            self.stderr.write(
                self.style.WARNING(
                    f"No folder (no sample) for {len(result.missing)} organizations with web "
                    f"hosting: {', '.join(result.missing)}"
                )
            )
        if result.unknown:
            self.stderr.write(
                self.style.WARNING(
                    f"{len(result.unknown)} folders match no organization: "
                    f"{', '.join(result.unknown)}"
                )
            )
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
