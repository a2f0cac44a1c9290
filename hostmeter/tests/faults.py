"""Test-only app for the served panel of test_serve: pauses a usage update mid-way.

While the file named by HOSTMETER_TEST_UPDATE_PAUSE_FILE exists, a worker about to write
an update's usage rows (the update already claimed and Running) touches FILE.reached and
waits (at most a minute), so that a test can kill it there. Loaded only through
hostmeter.tests.serve_settings."""

import os
import time
from pathlib import Path

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _pause_before_usage_rows(execute, sql, params, many, context):
    marker = Path(os.environ.get("HOSTMETER_TEST_UPDATE_PAUSE_FILE", ""))
    inserts_rows = "usagerow" in sql.lower() and sql.lstrip()[:6].upper() == "INSERT"
    if inserts_rows and marker.name and marker.exists():
        Path(f"{marker}.reached").touch()
        deadline = time.monotonic() + 60
        while marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    return execute(sql, params, many, context)


def _install(sender, connection, **kwargs):
    if _pause_before_usage_rows not in connection.execute_wrappers:
        connection.execute_wrappers.append(_pause_before_usage_rows)


class FaultsConfig(AppConfig):
    name = "hostmeter.tests.faults"
    label = "hostmeter_test_faults"

    def ready(self):
        connection_created.connect(_install)
