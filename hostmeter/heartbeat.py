"""A sign of life for long work: a thread that writes a heartbeat from its own database
connection while the main thread works, so housekeeping can tell a dead worker's job
from a slow one (reports and usage updates both use it)."""

import logging
import threading
from collections.abc import Callable

from django.db import DatabaseError, connection

log = logging.getLogger(__name__)


class Heartbeat(threading.Thread):
    """Calls beat() every `every` seconds until stopped; a beat that fails (SQLite locked
    by the work itself, say) is logged and tried again at the next one."""

    def __init__(self, beat: Callable[[], object], *, every: float, name: str):
        super().__init__(daemon=True, name=name)
        self.beat, self.every = beat, every
        self.stopped = threading.Event()

    def run(self):
        try:
            while not self.stopped.wait(self.every):
                try:
                    self.beat()
                except DatabaseError:
                    log.warning("%s: a heartbeat could not be written", self.name, exc_info=True)
        finally:
            connection.close()

    def __enter__(self) -> "Heartbeat":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
