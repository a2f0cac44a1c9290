"""The benchmarks' data generators still fit the schema (tiny sizes; no timing here).

They write rows around the ORM for speed, so a new NOT NULL column or constraint breaks
them first; `make bench` is not part of `make test`, and found out only when it ran.
"""

import pytest

from hostmeter.tenancy.models import Organization, Reseller

# VACUUM (the generators' upkeep on PostgreSQL) cannot run inside a transaction;
# serialized_rollback: the catalog seeded by migrations survives the flush
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def keyed_everywhere() -> bool:
    return not (
        Reseller.objects.filter(name_key="").exists()
        or Organization.objects.filter(name_key="").exists()
    )


def test_usage_update_benchmark_data():
    from bench import datagen

    plan = datagen.Plan(orgs=40, samples_per_day=1)
    counts = datagen.tenancy_generate(plan)
    assert counts["organizations"] == Organization.objects.count() == 40
    assert datagen.samples_bulk_load(datagen.samples(plan, range(plan.rounds))) > 0
    assert keyed_everywhere()


def test_page_benchmark_data():
    from bench import pagedata

    counts = pagedata.generate(pagedata.Plan(resellers=6, orgs=60))
    assert Organization.objects.count() == 60
    assert counts["resellers"] == Reseller.objects.count() == 6
    assert keyed_everywhere()


def test_report_benchmark_data():
    from bench import reports

    counts = reports.generate(60)
    assert counts["usage_rows"] > 0
    assert Organization.objects.count() == counts["organizations"]
    assert keyed_everywhere()
