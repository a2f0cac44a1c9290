"""PostgreSQL's JIT compiler, switched off around statements it only slows down."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def without_jit() -> Iterator[None]:
    """PostgreSQL: no JIT compilation for the statements run inside, then the
    connection's setting as it was (its own SET, or the server's). SQLite: nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting, source FROM pg_settings WHERE name = 'jit'")
        before, source = cursor.fetchone()
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if source == "session":  # the connection's own SET: put it back
                cursor.execute("SELECT set_config('jit', %s, false)", [before])
            else:  # from the server's configuration: keep following it
                cursor.execute("RESET jit")
