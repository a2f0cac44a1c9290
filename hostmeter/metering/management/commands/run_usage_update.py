"""Run one usage update now (or queue it for the worker)."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.services.updates import (
    UsageUpdateError,
    usage_update_request,
    usage_update_run_now,
)


class Command(BaseCommand):
    help = (
        "Freeze every organization's usage as of a cut-off time (default: now). "
        "Exit codes: 0 completed (or queued with --queue), 1 refused or failed, "
        "2 bad arguments."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--cutoff",
            help="ISO 8601 date and time with offset, e.g. 2026-11-25T02:00:00+01:00.",
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Queue it for the task worker instead of running it in this process.",
        )

    def handle(self, *args, cutoff=None, queue=False, **options):
        when = timezone.now() if cutoff is None else _parse(cutoff)
        try:
            if queue:
                update = usage_update_request(cutoff=when, trigger=UsageUpdate.Trigger.COMMAND)
                self.stdout.write(f"Queued the usage update as of {update.cutoff.isoformat()}.")
                return
            update = usage_update_run_now(cutoff=when, trigger=UsageUpdate.Trigger.COMMAND)
        except UsageUpdateError as exc:
            raise CommandError(str(exc)) from exc
        if update.status != UsageUpdate.Status.SUCCEEDED:
            raise CommandError(f"The usage update failed: {update.error}")
        self.stdout.write(
            f"Usage update as of {update.cutoff.isoformat()} completed: "
            f"{update.organizations_count} organizations, {update.rows_count} usage rows."
        )


def _parse(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(
            f"--cutoff “{text}” is not an ISO 8601 date and time.", returncode=2
        ) from None
    if when.tzinfo is None:
        raise CommandError(f"--cutoff “{text}” needs a UTC offset, e.g. +00:00.", returncode=2)
    return when
