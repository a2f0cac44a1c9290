"""top_resellers below a reseller: the largest of its own subtree only, whether the subtree
goes in as a list of ids (a few sub-resellers) or as the frozen tree's subquery."""

from datetime import timedelta

import pytest

from hostmeter.metering.selectors import summary
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory
from hostmeter.tests.fixtures import run_update, store_sample

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("few", [100, 2], ids=["ids", "subquery"])
def test_the_largest_below_a_reseller_and_none_outside_it(resources, t0, monkeypatch, few):
    monkeypatch.setattr(summary, "_FEW_SUB_RESELLERS", few)
    disk = resources["disk_space"]

    def reseller(name, used, parent=None):
        made = ResellerFactory(name=name, domain=f"{name.lower()}.example", parent=parent)
        org = OrganizationFactory(domain=f"site-{name.lower()}.example", reseller=made)
        store_sample(org, disk, t0 - timedelta(hours=1), used)
        return made

    top = reseller("Top", "500")
    subs = [reseller(f"S{i}", str(10 * i), parent=top) for i in range(1, 5)]
    reseller("Deep", "35", parent=subs[0])  # a sub-reseller's sub-reseller is below Top too
    reseller("Outside", "900")  # the largest of all, but not below Top
    update = run_update(t0)

    leaders = summary.top_resellers(update=update, resource_ids=[disk.pk], below=top)
    # S1 holds Deep's usage too (a roll-up is of the whole subtree)
    assert [(r.reseller.name, str(r.used)) for r in leaders[disk.pk]] == [
        ("S1", "45.000"),
        ("S4", "40.000"),
        ("Deep", "35.000"),
        ("S3", "30.000"),
        ("S2", "20.000"),
    ]
    lonely = reseller("Lonely", "5")
    assert (
        summary.top_resellers(
            update=run_update(t0 + timedelta(hours=1)), resource_ids=[disk.pk], below=lonely
        )
        == {}
    )
