"""PostgreSQL: each usage update's rows are a partition of their own (migration 0006)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from hostmeter.fields import to_thousandths
from hostmeter.metering import sql
from hostmeter.metering.models import UsageRow, UsageUpdate
from hostmeter.metering.services.samples import usage_samples_store
from hostmeter.metering.services.updates import usage_update_request, usage_update_run
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory
from hostmeter.tests.fixtures import run_update as run

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="usage rows are partitioned on PostgreSQL only"
    ),
]

TABLE = UsageRow._meta.db_table


def fetch(query: str, *params) -> list[tuple]:
    """The rows of one query."""
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def partitions() -> dict[str, str]:
    """Partition name → its bound, as PostgreSQL has them."""
    return dict(
        fetch(
            """SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
                 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = %s::regclass""",
            TABLE,
        )
    )


def constraints(table: str) -> dict[str, str]:
    return dict(
        fetch(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass",
            table,
        )
    )


def rows_in(table: str) -> int:
    return fetch(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")[0][0]


@pytest.fixture
def sampled_orgs(resources, t0):
    """Four organizations (three of one reseller's, one the provider's) with a disk sample
    each before t0, and no usage update yet: each test runs its own (a usage world, as
    the shared `world` fixture has, would bring a first update and its partition)."""
    reseller = ResellerFactory(services=["web", "mail"])
    orgs = [OrganizationFactory(reseller=reseller, services=["web", "mail"]) for _ in range(3)]
    orgs.append(OrganizationFactory(services=["web"]))
    disk = resources["disk_space"]
    usage_samples_store(
        (org.pk, disk.pk, t0 - timedelta(hours=1), to_thousandths(Decimal(n + 1)), "test")
        for n, org in enumerate(orgs)
    )
    return orgs


def test_each_update_writes_its_rows_into_a_partition_of_its_own(sampled_orgs, t0):
    first = run(t0)
    second = run(t0 + timedelta(days=1))
    assert first.status == second.status == UsageUpdate.Status.SUCCEEDED

    found = partitions()
    for update in (first, second):
        name = sql.partition_name(update.pk)
        assert found[name] == f"FOR VALUES IN ('{update.pk}')"
        assert rows_in(name) == update.rows_count == UsageRow.objects.filter(update=update).count()
        # the parent's two constraints, adopted at ATTACH; the CHECK that proved the
        # bound is gone (the partition bound says the same)
        assert constraints(name) == {
            f"{name}_pkey": "PRIMARY KEY (id, update_id)",
            f"{name}_unique": "UNIQUE (update_id, organization_id, resource_id)",
        }
    assert "DEFAULT" not in found.values()  # migration 0006 says why
    ids = list(UsageRow.objects.values_list("id", flat=True))
    assert len(ids) == len(set(ids)) == first.rows_count + second.rows_count


def test_one_row_per_organization_resource_and_update_still_holds(sampled_orgs, t0):
    update = run(t0)
    row = UsageRow.objects.filter(update=update).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageRow.objects.create(
            update=update,
            organization_id=row.organization_id,
            resource_id=row.resource_id,
            used=0,
        )


def test_a_partition_has_the_columns_of_the_table(sampled_orgs, t0):
    """ATTACH wants the same columns, types and NOT NULLs: a field added to UsageRow
    needs its column in sql.organization_rows_partition and PARTITION_SEAL too."""
    update = run(t0)
    assert update.status == UsageUpdate.Status.SUCCEEDED, update.error

    def shape(table):
        return set(
            fetch(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s",
                table,
            )
        )

    assert shape(sql.partition_name(update.pk)) == shape(TABLE)
    assert {name for name, _, _ in shape(TABLE)} == {
        f.column for f in UsageRow._meta.concrete_fields
    }


def test_rows_can_only_be_written_into_an_update_s_partition(sampled_orgs, resources, t0):
    """No DEFAULT partition: rows come from updates (migration 0006 says why)."""
    update = UsageUpdate.objects.create(cutoff=t0, trigger="command")
    with pytest.raises(IntegrityError, match="no partition"), transaction.atomic():
        UsageRow.objects.create(
            update=update, organization=sampled_orgs[0], resource=resources["disk_space"], used=5
        )


def test_a_failed_update_leaves_no_partition(sampled_orgs, t0, monkeypatch):
    monkeypatch.setattr(sql, "ROLLUPS", "SELECT no_such_column FROM {row}")
    update = run(t0)
    assert update.status == UsageUpdate.Status.FAILED
    assert sql.partition_name(update.pk) not in partitions()
    assert not UsageRow.objects.filter(update=update).exists()


def with_leftover_partition(cutoff) -> tuple[UsageUpdate, str]:
    """A requested update whose partition is already there (left by a crash): the update
    and the partition's name."""
    update = usage_update_request(cutoff=cutoff, trigger="command", enqueue=False)
    name = sql.partition_name(update.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES IN ({update.pk})")
    return update, name


def test_an_empty_leftover_partition_is_replaced(sampled_orgs, t0):
    update, name = with_leftover_partition(t0)
    update = usage_update_run(update_id=update.pk)
    assert update.status == UsageUpdate.Status.SUCCEEDED, update.error
    assert rows_in(name) == update.rows_count > 0


def test_a_leftover_partition_with_rows_fails_the_update_and_keeps_them(
    sampled_orgs, resources, t0
):
    update, name = with_leftover_partition(t0)
    UsageRow.objects.create(
        update=update, organization=sampled_orgs[0], resource=resources["disk_space"], used=7
    )
    update = usage_update_run(update_id=update.pk)
    assert update.status == UsageUpdate.Status.FAILED
    assert f"Usage rows of update {update.pk} already exist" in update.error
    assert rows_in(name) == 1


# serialized_rollback: the catalog seeded by migrations survives the flush
def sequence() -> tuple[int, int]:
    """The ids' sequence: its last value and its cache size."""
    (row,) = fetch(
        "SELECT last_value, cache_size FROM pg_sequences "
        "WHERE schemaname || '.' || sequencename = pg_get_serial_sequence(%s, 'id')",
        TABLE,
    )
    return row


def public_privileges() -> set[str]:
    rows = fetch(
        "SELECT privilege_type FROM information_schema.role_table_grants "
        "WHERE table_name = %s AND grantee = 'PUBLIC'",
        TABLE,
    )
    return {row[0] for row in rows}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_moves_rows_both_ways(sampled_orgs, t0):
    first, second = run(t0), run(t0 + timedelta(days=1))
    # the newest ids gone: the sequence must still go on past them, never back
    newest = UsageRow.objects.filter(update=second).order_by("-id")[:2]
    UsageRow.objects.filter(pk__in=[row.pk for row in newest]).delete()
    last_value, _ = sequence()
    before = sorted(UsageRow.objects.values_list("id", "update_id", "organization_id", "used"))
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT SELECT ON {TABLE} TO PUBLIC")  # as for a read-only role
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("metering", "0005_usage_row_id_cache")])
        assert partitions() == {}
        assert constraints(TABLE)[f"{TABLE}_pkey"] == "PRIMARY KEY (id)"
        assert sequence() == (last_value, 1000)
        assert public_privileges() == {"SELECT"}
        assert (
            sorted(UsageRow.objects.values_list("id", "update_id", "organization_id", "used"))
            == before
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert set(partitions()) == {sql.partition_name(first.pk), sql.partition_name(second.pk)}
    assert sequence() == (last_value, 1000)
    assert public_privileges() == {"SELECT"}
    after = sorted(UsageRow.objects.values_list("id", "update_id", "organization_id", "used"))
    assert after == before
    # new ids carry on after the moved ones
    third = run(t0 + timedelta(days=2))
    assert third.status == UsageUpdate.Status.SUCCEEDED, third.error
    assert UsageRow.objects.filter(update=third).order_by("id").first().id > last_value


# serialized_rollback: the catalog seeded by migrations survives the flush
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readers_go_on_while_an_update_attaches_its_partition(sampled_orgs, t0, monkeypatch):
    """ATTACH locks nothing a page, a report or a delete check reads, even a query no
    update id narrows (with a DEFAULT partition it did: ATTACH locked that one)."""
    first = run(t0)
    attached, release = threading.Event(), threading.Event()
    real = sql.run_statement

    def pausing(template, **kwargs):
        rows = real(template, **kwargs)
        if "ATTACH PARTITION" in template:
            attached.set()
            release.wait(timeout=30)
        return rows

    monkeypatch.setattr(sql, "run_statement", pausing)
    outcome = {}

    def second_update():
        try:
            outcome["update"] = run(t0 + timedelta(days=1))
        finally:
            connection.close()

    worker = threading.Thread(target=second_update)
    worker.start()
    try:
        assert attached.wait(timeout=30), "the update never reached ATTACH"
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
            try:
                cursor.execute(
                    f"SELECT COUNT(*) FROM {TABLE} WHERE organization_id = %s", [sampled_orgs[0].pk]
                )
                assert cursor.fetchone()[0] > 0
                cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE update_id = %s", [first.pk])
                assert cursor.fetchone()[0] == first.rows_count
                # what Django reads before deleting an organization (PROTECT)
                assert UsageRow.objects.filter(organization=sampled_orgs[0]).exists()
            finally:
                cursor.execute("RESET lock_timeout")
    finally:
        release.set()
        worker.join(timeout=60)
    assert outcome["update"].status == UsageUpdate.Status.SUCCEEDED, outcome["update"].error
    # (earlier transactional tests leave their emptied partitions behind: a flush
    # truncates tables, it does not drop them)
    assert {sql.partition_name(first.pk), sql.partition_name(outcome["update"].pk)} <= set(
        partitions()
    )
