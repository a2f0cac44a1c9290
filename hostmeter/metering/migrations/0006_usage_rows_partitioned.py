"""PostgreSQL: usage rows partitioned by usage update.

Each update's rows live in a table of their own, `metering_usagerow_u<update id>`,
attached to `metering_usagerow` as the partition FOR VALUES IN (<update id>). The
update writes that table in one CREATE TABLE AS, indexes it in bulk and attaches it
(`sql.organization_rows_partition`, `sql.PARTITION_SEAL`): maintaining the two indexes
row by row cost half as much again as writing the rows. Reading one update's rows
touches its partition only.

The model does not change. In the database the primary key is (id, update_id), as a
partitioned table's unique constraints must hold its partition key; ids still come
from the table's one identity sequence, so each is unique on its own. There is no
DEFAULT partition: rows are only written by updates, and ATTACH would have to lock a
DEFAULT partition against every reader that cannot rule it out (and did, in a review:
a reseller deleted during an update deadlocked with it). SQLite keeps its plain table:
nothing to do there.

Existing rows move to one partition per update; going back moves them into a plain
table again. The table's grants are carried over, the sequence goes on from where it
was, and anything else built on the table (a view) stops the migration instead of
being dropped with it.
"""

from django.db import migrations

TABLE = "metering_usagerow"
COLUMNS = 'id, used, "limit", organization_id, reseller_id, resource_id, update_id'


def _sequence(schema_editor, table: str) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        return cursor.fetchone()[0]


def _set_aside(schema_editor, aside: str) -> None:
    """Renames the table, its constraints and its sequence, freeing their names."""
    run = schema_editor.execute
    sequence = _sequence(schema_editor, TABLE)
    run(f"ALTER TABLE {TABLE} RENAME TO {aside}")
    run(f"ALTER TABLE {aside} RENAME CONSTRAINT {TABLE}_pkey TO {aside}_pkey")
    run(f"ALTER TABLE {aside} RENAME CONSTRAINT {TABLE}_unique_row TO {aside}_unique_row")
    run(f"ALTER SEQUENCE {sequence} RENAME TO {aside}_id_seq")


def _fill_from(schema_editor, aside: str) -> None:
    """Copies the rows and grants set aside, carries the sequence on (never back: ids
    are unique by the sequence alone), and drops what was set aside."""
    run = schema_editor.execute
    run(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {aside} ORDER BY id")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT GREATEST((SELECT last_value FROM {aside}_id_seq), "
            f"(SELECT COALESCE(MAX(id), 0) FROM {aside}))"
        )
        (last,) = cursor.fetchone()
        cursor.execute(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = current_schema() AND table_name = %s "
            "AND grantee <> (SELECT pg_get_userbyid(relowner) FROM pg_class "
            "                WHERE oid = %s::regclass)",
            [aside, aside],
        )
        grants = cursor.fetchall()
    run(f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), {int(last)})")
    for grantee, privilege in grants:
        grantee = "PUBLIC" if grantee == "PUBLIC" else schema_editor.quote_name(grantee)
        run(f"GRANT {privilege} ON {TABLE} TO {grantee}")
    run(f"DROP TABLE {aside}")


def _create(schema_editor, aside: str, *, partitioned: bool) -> None:
    run = schema_editor.execute
    key = "(id, update_id)" if partitioned else "(id)"
    run(
        f"CREATE TABLE {TABLE} (LIKE {aside} INCLUDING DEFAULTS INCLUDING IDENTITY)"
        + (" PARTITION BY LIST (update_id)" if partitioned else "")
    )
    run(f"ALTER TABLE {TABLE} ALTER COLUMN id SET CACHE 1000")  # as migration 0005
    run(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY {key}, "
        f"ADD CONSTRAINT {TABLE}_unique_row UNIQUE (update_id, organization_id, resource_id)"
    )


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    aside = f"{TABLE}_unpartitioned"
    _set_aside(schema_editor, aside)
    _create(schema_editor, aside, partitioned=True)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT update_id FROM {aside} ORDER BY update_id")
        updates = [row[0] for row in cursor.fetchall()]
    for update_id in updates:
        schema_editor.execute(
            f"CREATE TABLE {TABLE}_u{int(update_id)} PARTITION OF {TABLE} "
            f"FOR VALUES IN ({int(update_id)})"
        )
    _fill_from(schema_editor, aside)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    aside = f"{TABLE}_partitioned"
    _set_aside(schema_editor, aside)
    _create(schema_editor, aside, partitioned=False)
    _fill_from(schema_editor, aside)


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0005_usage_row_id_cache"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
