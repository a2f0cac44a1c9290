"""Billing periods over the API: a report of a closed month or of the current one
(`period` on POST reports/ and on the report list), and a closed month's usage figures
(`usage-updates/latest/…?period=YYYY-MM`, `usage-updates/?period=`); an unknown or
malformed period is 400 with the reason, and nothing is stored."""

from datetime import datetime
from decimal import Decimal

import pytest

from hostmeter.reports.models import Report
from hostmeter.reports.services import report_request
from hostmeter.tests.fixtures import NOVEMBER_END, NOVEMBER_START, sample_sum, table_counts

BAD = {
    "2026-10": "is not a billing period with usage figures",  # before the first update
    "2027-01": "is not a billing period with usage figures",  # not yet
    "2026-13": "is not a billing period with usage figures",
    "Nov 2026": "is not a billing period with usage figures",
}


@pytest.fixture
def client(marketing, period_world):
    return marketing


def refused(response, field="period") -> str:
    assert response.status_code == 400, response.data
    return " ".join(str(e) for e in response.data[field])


# ---------------------------------------------------------------- reports


@pytest.mark.parametrize(
    ("period", "update", "closed"), [("2026-11", "november", True), ("2026-12", "december", False)]
)
def test_a_report_of_a_period(client, period_world, period, update, closed):
    response = client.post(
        "/api/v1/reports/",
        {"kind": "reseller", "domain": "top.example", "period": period},
        format="json",
    )
    assert response.status_code == 202, response.data
    assert response.data["update"] == getattr(period_world, update).pk
    assert (response.data["period"], response.data["period_closed"]) == (period, closed)
    report = Report.objects.get(pk=response.data["id"])
    assert (report.reseller, report.update) == (period_world.top, getattr(period_world, update))


@pytest.mark.parametrize("period", BAD)
def test_a_report_of_an_unknown_or_malformed_period_is_400_and_stores_nothing(
    client, period_world, period
):
    before = table_counts()
    response = client.post("/api/v1/reports/", {"kind": "summary", "period": period}, format="json")
    reason = refused(response)
    assert BAD[period] in reason and "known: 2026-12, 2026-11" in reason
    assert table_counts() == before


def test_a_report_names_an_update_or_a_period_not_both(client, period_world):
    before = table_counts()
    body = {"kind": "summary", "period": "2026-11", "update": period_world.december.pk}
    assert "not both" in refused(client.post("/api/v1/reports/", body, format="json"))
    assert refused(
        client.post("/api/v1/reports/", {"kind": "summary", "period": ""}, format="json")
    )
    assert table_counts() == before


def test_the_report_list_filters_by_period(client, period_world):
    for update in (period_world.mid, period_world.november, period_world.december):
        report_request(kind="summary", update=update)
    listed = client.get("/api/v1/reports/?period=2026-11")
    assert listed.status_code == 200
    got = {(r["update"], r["period"], r["period_closed"]) for r in listed.data["results"]}
    assert got == {
        (period_world.mid.pk, "2026-11", False),
        (period_world.november.pk, "2026-11", True),
    }
    current = client.get("/api/v1/reports/?period=2026-12").data["results"]
    assert [r["update"] for r in current] == [period_world.december.pk]
    assert "known: 2026-12, 2026-11" in refused(client.get("/api/v1/reports/?period=2026-10"))


# ---------------------------------------------------------------- usage figures


def november_bandwidth(world, resources, orgs) -> Decimal:
    return sum(
        (sample_sum(o, resources["bandwidth"], NOVEMBER_START, NOVEMBER_END) for o in orgs),
        Decimal(0),
    )


def bandwidth_of(services) -> Decimal:
    web = next(s for s in services if s["service"] == "web")
    return Decimal(next(r for r in web["resources"] if r["resource"] == "bandwidth")["used"])


def test_a_closed_months_figures(client, period_world, resources):
    november = period_world.november
    ref = {
        "id": november.pk,
        "period": "2026-11",
        "closes_period": True,
    }

    update = client.get("/api/v1/usage-updates/latest/?period=2026-11").data
    assert (update["id"], update["period"], update["closes_period"]) == tuple(ref.values())
    assert datetime.fromisoformat(update["period_end"]) == NOVEMBER_END

    summary = client.get("/api/v1/usage-updates/latest/summary/?period=2026-11").data
    assert {k: summary["update"][k] for k in ref} == ref
    assert bandwidth_of(summary["services"]) == november_bandwidth(
        period_world, resources, period_world.orgs
    )

    top = client.get("/api/v1/usage-updates/latest/resellers/top.example/?period=2026-11").data
    assert top["update"]["id"] == november.pk
    assert bandwidth_of(top["services"]) == november_bandwidth(
        period_world, resources, [period_world.alpha, period_world.bravo]
    )

    alpha = client.get(
        "/api/v1/usage-updates/latest/organizations/alpha.example/?period=2026-11"
    ).data
    assert bandwidth_of(alpha["services"]) == november_bandwidth(
        period_world, resources, [period_world.alpha]
    )

    rows = client.get("/api/v1/usage-updates/latest/organizations/?period=2026-11").data
    cells = {
        r["organization"]: next(c["used"] for c in r["usage"] if c["resource"] == "bandwidth")
        for r in rows["results"]
    }
    assert cells == {
        o.domain: f"{november_bandwidth(period_world, resources, [o]):.3f}"
        for o in period_world.orgs
    }

    # the current period: the latest update, as without a period
    current = client.get("/api/v1/usage-updates/latest/summary/?period=2026-12").data
    assert (current["update"]["id"], current["update"]["closes_period"]) == (
        period_world.december.pk,
        False,
    )
    assert client.get("/api/v1/usage-updates/latest/summary/").data["update"]["id"] == (
        period_world.december.pk
    )


@pytest.mark.parametrize(
    "path",
    [
        "latest/",
        "latest/summary/",
        "latest/resellers/top.example/",
        "latest/organizations/",
        "latest/organizations/alpha.example/",
    ],
)
@pytest.mark.parametrize("period", BAD)
def test_usage_figures_of_an_unknown_or_malformed_period_are_400(client, path, period):
    before = table_counts()
    reason = refused(client.get(f"/api/v1/usage-updates/{path}", {"period": period}))
    assert BAD[period] in reason and "known: 2026-12, 2026-11" in reason
    assert table_counts() == before


def test_a_period_goes_with_latest_not_an_update_id(client, period_world):
    reason = refused(
        client.get(f"/api/v1/usage-updates/{period_world.december.pk}/summary/?period=2026-11")
    )
    assert "with latest" in reason


def test_the_update_list_filters_by_period(client, period_world):
    listed = client.get("/api/v1/usage-updates/?period=2026-11").data["results"]
    assert [(u["id"], u["closes_period"]) for u in listed] == [
        (period_world.november.pk, True),
        (period_world.mid.pk, False),
    ]
    assert {u["period"] for u in listed} == {"2026-11"}
    assert "known: 2026-12, 2026-11" in refused(client.get("/api/v1/usage-updates/?period=x"))
