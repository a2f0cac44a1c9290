"""Keeps `hostmeter serve`'s processes running: restarts one that dies, with back-off."""

import logging
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


class StartupFailed(Exception):
    """A process exited with an error on its first start: a setup problem, not a crash."""


@dataclass
class Child:
    """One supervised process and its restart bookkeeping."""

    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    starts: int = 0
    quick_deaths: int = 0  # deaths in a row, each before the process was up stable_after
    restart_at: float | None = None


def _how(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class Supervisor:
    """Starts the commands, restarts any that stops (1 s, 2 s, 4 s … up to max_delay
    when it keeps dying quickly), and stops them all on request.

    A process that exits with an error within startup_grace of its first start raises
    StartupFailed instead (port taken, database not migrated): restarting cannot help.
    """

    def __init__(
        self,
        commands: dict[str, list[str]],
        *,
        first_delay: float = 1.0,
        max_delay: float = 60.0,
        stable_after: float = 60.0,
        startup_grace: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.children = [Child(name, argv) for name, argv in commands.items()]
        self.first_delay, self.max_delay = first_delay, max_delay
        self.stable_after, self.startup_grace = stable_after, startup_grace
        self.clock = clock

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(child.argv)
        child.started_at, child.restart_at = self.clock(), None
        child.starts += 1
        log.info("Started the %s process (pid %s)", child.name, child.process.pid)

    def check(self) -> None:
        """Notices dead processes and restarts those whose back-off has passed."""
        now = self.clock()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._spawn(child)
                continue
            code = child.process.poll()
            if code is None:
                continue
            uptime = now - child.started_at
            if child.starts == 1 and code > 0 and uptime < self.startup_grace:
                raise StartupFailed(f"The {child.name} process could not start ({_how(code)}).")
            child.quick_deaths = child.quick_deaths + 1 if uptime < self.stable_after else 1
            delay = min(self.max_delay, self.first_delay * 2 ** (child.quick_deaths - 1))
            child.restart_at = now + delay
            log.warning(
                "The %s process (pid %s) stopped (%s) after %.0f s; restarting it in %.0f s",
                child.name,
                child.process.pid,
                _how(code),
                uptime,
                delay,
            )

    def run(self, stopping: Callable[[], bool], *, interval: float = 0.2) -> None:
        """Supervises until stopping() says so (then stops them all), or a start fails."""
        try:
            self.start()
            while not stopping():
                self.check()
                time.sleep(interval)
        finally:
            self.stop()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to every running process, SIGKILL to any still running after timeout."""
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = self.clock() + timeout
        for process in running:
            try:
                process.wait(max(0.1, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                log.warning("pid %s did not stop within %s s; killing it", process.pid, timeout)
                process.kill()
                process.wait()
