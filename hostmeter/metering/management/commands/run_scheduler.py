"""The scheduler: queues usage updates when the provider's schedule says they are due."""

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from hostmeter.housekeeping import housekeeping_run
from hostmeter.metering.collectors.runs import usage_collection_tick
from hostmeter.metering.services.schedule import usage_schedule_tick

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Queue usage updates when due, and the configured collectors a few minutes before. "
        "Safe to run on several hosts at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Look once, then exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.HOSTMETER["SCHEDULER_INTERVAL_SECONDS"],
            help="Seconds between looks at the schedule.",
        )

    def handle(self, *args, once=False, interval=30.0, **options):
        stop = threading.Event()
        if not once:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            log.info("Scheduler started; looking every %s s", interval)
        while True:
            close_old_connections()
            # each part on its own: one failing (a database hiccup) neither ends the
            # scheduler nor keeps the others from their turn
            failed = None
            for part in (housekeeping_run, self._updates, self._collectors):
                try:
                    part()
                except Exception as exc:
                    log.exception("Scheduler tick failed in %s", part.__name__)
                    failed = failed or exc
            if once and failed:
                raise failed
            if once or stop.wait(interval):
                break

    def _updates(self):
        if update := usage_schedule_tick():
            self.stdout.write(f"Queued the usage update as of {update.cutoff.isoformat()}")

    def _collectors(self):
        if run := usage_collection_tick():
            self.stdout.write(
                f"Queued the collectors for the update due at {run.due_at.isoformat()}"
            )
