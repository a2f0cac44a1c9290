"""Settings of the panel that test_serve serves: the real ones plus the faults app."""

from hostmeter.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "hostmeter.tests.faults.FaultsConfig"]  # noqa: F405
