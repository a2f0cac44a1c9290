"""When the provider's schedule says usage updates are due."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from croniter import croniter

from hostmeter.tenancy.models import Provider


def _schedule_times(
    provider: Provider, start: datetime, *, backwards: bool = False
) -> Iterator[datetime]:
    """Due times of the provider's cron schedule from start, in its time zone.

    When clocks go back, a wall-clock time happens twice; an update is due at
    the first of the two only (counters lose nothing: the next window is longer).
    A time skipped when clocks go forward is due at the first time after the gap.
    """
    itr = croniter(provider.usage_schedule, start.astimezone(provider.zone))
    step = itr.get_prev if backwards else itr.get_next
    pending = step(datetime)
    while True:
        following = step(datetime)
        if following.replace(tzinfo=None) == pending.replace(tzinfo=None):
            if backwards:  # going back, the later-found one is the first occurrence
                pending = following
            continue
        yield pending
        pending = following


def usage_schedule_due(*, provider: Provider, now: datetime) -> datetime:
    """The latest time at or before now when the schedule says an update is due (UTC)."""
    due = next(_schedule_times(provider, now + timedelta(seconds=1), backwards=True))
    return due.astimezone(UTC)


def usage_schedule_next(*, provider: Provider, now: datetime, count: int = 1) -> list[datetime]:
    """The next `count` times an update is due after now, in the provider's time zone."""
    times = _schedule_times(provider, now)
    return [next(times) for _ in range(count)]
