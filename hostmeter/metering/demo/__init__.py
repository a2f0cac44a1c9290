"""Demo data: a believable provider, reseller tree, customers and usage history.

Everything is derived from the seed alone (names, domains, limits, sample
values), so a seed always gives the same data; only the dates follow today.
Limits are whole units. A counter's limit is an amount per usage update (the
demo's schedule is daily), since usage % compares one update's sum with it.

The parts: the plan of names, the reseller tree, services and limits (plan); the
usage samples and the daily cut-offs (usage); and the loading itself, with its logins
and summary (loading).
"""

from .loading import (
    DEMO_PASSWORD,
    DemoDataExists,
    DemoLoadError,
    DemoSummary,
    demo_existing_data,
    demo_load,
)
from .plan import TLD
from .usage import CUTOFF_AT, DEMO_PROVIDER, DEMO_SOURCE, SAMPLE_BEFORE_CUTOFF, demo_cutoffs

__all__ = [
    "CUTOFF_AT",
    "DEMO_PASSWORD",
    "DEMO_PROVIDER",
    "DEMO_SOURCE",
    "SAMPLE_BEFORE_CUTOFF",
    "TLD",
    "DemoDataExists",
    "DemoLoadError",
    "DemoSummary",
    "demo_cutoffs",
    "demo_existing_data",
    "demo_load",
]
