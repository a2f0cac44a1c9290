"""The supervisor behind `hostmeter serve`: a dead process is restarted with back-off, the
others keep running, a failed first start stops everything, stop() stops for sure."""

import logging
import os
import signal
import sys
import time

import pytest

from hostmeter.supervise import StartupFailed, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
FAILS = [sys.executable, "-c", "raise SystemExit(3)"]
DEAF = [
    sys.executable,
    "-c",
    "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)",
]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def supervisors():
    made = []

    def make(commands, **kwargs):
        supervisor = Supervisor(commands, **kwargs)
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:  # whatever the test did, no process outlives it
        supervisor.stop(timeout=2)


def test_a_killed_process_is_restarted_and_the_others_keep_running(supervisors, caplog):
    clock = Clock()
    supervisor = supervisors({"web": SLEEPER, "worker": SLEEPER}, clock=clock)
    supervisor.start()
    web, worker = supervisor.children
    web_pid, worker_pid = web.process.pid, worker.process.pid

    os.kill(worker_pid, signal.SIGKILL)
    worker.process.wait(10)
    with caplog.at_level(logging.INFO, logger="hostmeter.supervise"):
        supervisor.check()
        assert worker.restart_at == clock.now + 1  # not at once: back-off
        supervisor.check()
        assert worker.process.poll() is not None, "restarted before its back-off"
        clock.now += 1
        supervisor.check()
    assert worker.process.poll() is None and worker.process.pid != worker_pid
    assert web.process.pid == web_pid and web.process.poll() is None
    assert f"worker process (pid {worker_pid}) stopped (killed by SIGKILL)" in caplog.text
    assert "restarting it in 1 s" in caplog.text
    assert f"Started the worker process (pid {worker.process.pid})" in caplog.text


def test_quick_deaths_back_off_doubling_up_to_the_maximum_and_reset_once_stable(supervisors):
    clock = Clock()
    supervisor = supervisors({"worker": SLEEPER}, clock=clock, max_delay=8, stable_after=60)
    supervisor.start()
    (worker,) = supervisor.children
    delays = []
    for uptime in (5, 5, 5, 5, 5, 300, 5):
        clock.now += uptime
        worker.process.kill()
        worker.process.wait(10)
        supervisor.check()
        delays.append(worker.restart_at - clock.now)
        clock.now = worker.restart_at
        supervisor.check()
        assert worker.process.poll() is None
    # a process that ran for 300 s before dying starts the back-off over
    assert delays == [1, 2, 4, 8, 8, 1, 2]


def test_a_process_that_fails_its_first_start_stops_them_all(supervisors):
    supervisor = supervisors({"web": FAILS, "worker": SLEEPER})
    with pytest.raises(StartupFailed, match=r"The web process could not start \(exit code 3\)"):
        supervisor.run(lambda: False, interval=0.05)
    web, worker = supervisor.children
    assert worker.process.poll() is not None, "run() stops the others"


def test_a_later_error_exit_is_restarted_not_fatal(supervisors):
    clock = Clock()
    supervisor = supervisors({"worker": SLEEPER}, clock=clock)
    supervisor.start()
    (worker,) = supervisor.children
    worker.argv = FAILS  # its next runs fail, long after the first start
    clock.now += 30
    worker.process.kill()
    worker.process.wait(10)
    supervisor.check()
    clock.now = worker.restart_at
    supervisor.check()
    worker.process.wait(10)
    supervisor.check()
    assert worker.restart_at is not None and worker.starts == 2


def test_stop_terminates_all_and_kills_one_that_ignores_sigterm(supervisors):
    supervisor = supervisors({"web": SLEEPER, "deaf": DEAF})
    supervisor.start()
    web, deaf = supervisor.children
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not _started_ignoring(deaf.process.pid):
        time.sleep(0.05)
    started = time.monotonic()
    supervisor.stop(timeout=1)
    assert time.monotonic() - started < 5
    assert web.process.returncode == -signal.SIGTERM
    assert deaf.process.returncode == -signal.SIGKILL


def _started_ignoring(pid: int) -> bool:
    """Whether the process has set SIGTERM to ignored (SigIgn in /proc/PID/status)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigIgn:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    except FileNotFoundError:
        pass
    return False
