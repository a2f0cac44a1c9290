"""Periodic checks that keep records honest when a worker dies; run by the scheduler.

Each app registers its own checks in its AppConfig.ready(), so the scheduler (in
metering) runs the reports' check without importing the app above it.
"""

from collections.abc import Callable

_CHECKS: dict[str, Callable[[], int]] = {}


def housekeeping_register(name: str, check: Callable[[], int]) -> None:
    """Adds a check that returns how many records it mended; a name registers once."""
    _CHECKS[name] = check


def housekeeping_run() -> dict[str, int]:
    """Runs every registered check; returns how many records each mended."""
    return {name: check() for name, check in _CHECKS.items()}
