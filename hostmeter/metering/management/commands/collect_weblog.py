"""`hostmeter collect_weblog`: add the bytes sent per organization to its bandwidth."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hostmeter.metering.collectors import CollectorError
from hostmeter.metering.collectors.weblog import usage_collect_weblog

TOP_HOSTS = 5


class Command(BaseCommand):
    help = (
        "Reads access logs (combined format preceded by the virtual host) from where the "
        "previous run stopped and stores one bandwidth sample (MB) per organization."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "logs", nargs="*", type=Path, help="Access logs (default: HOSTMETER_ACCESS_LOGS)."
        )

    def handle(self, *args, logs: list[Path], verbosity: int, **options):
        paths = logs or [Path(p) for p in settings.HOSTMETER["ACCESS_LOGS"]]
        if not paths:
            raise CommandError(
                "No access log: name one or set HOSTMETER_ACCESS_LOGS.", returncode=2
            )
        try:
            result = usage_collect_weblog(paths=paths)
        except CollectorError as exc:
            raise CommandError(str(exc)) from exc

        tally = result.tally
        self.stdout.write(f"Web traffic as of {result.measured_at.isoformat()}")
        for log in result.logs:
            self.stdout.write(
                f"  {log.path}: {log.lines} lines, {log.bytes} bytes read{_restart_note(log)}"
            )
        if verbosity > 1:
            for domain, mb in sorted(result.stored.items()):
                self.stdout.write(f"  {domain}: {mb} MB")
        waiting = sum(result.carried.values())
        self.stdout.write(
            f"Counted {tally.counted_lines} lines, {sum(tally.bytes_by_org.values())} bytes "
            f"for {len(tally.bytes_by_org)} organizations: {result.stored_mb} MB stored in "
            f"{len(result.stored)} bandwidth samples ({waiting} bytes under a kilobyte "
            "wait for the next run)."
        )
        if tally.unknown_lines:
            top = ", ".join(f"{h} ×{n}" for h, n in tally.unknown_hosts.most_common(TOP_HOSTS))
            self.stderr.write(
                self.style.WARNING(f"Skipped {tally.unknown_lines} lines for unknown hosts: {top}")
            )
        if tally.no_web:
            names = ", ".join(f"{d} ×{n}" for d, n in tally.no_web.most_common(TOP_HOSTS))
            self.stderr.write(
                self.style.WARNING(
                    f"Skipped {sum(tally.no_web.values())} lines for organizations without "
                    f"web hosting: {names}"
                )
            )
        if tally.unparseable_lines:
            self.stderr.write(
                self.style.WARNING(
                    f"Skipped {tally.unparseable_lines} unparseable lines, e.g. "
                    + "; ".join(tally.unparseable_examples)
                )
            )
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))


def _restart_note(log) -> str:
    if not log.restart:
        return ""
    old = f"the rest of {log.rotated} first" if log.rotated else "old content not found"
    return f" ({log.restart}: {old})"
