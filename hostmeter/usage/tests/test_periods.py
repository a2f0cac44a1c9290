"""The Usage pages by billing period: the period selector, a closed period's figures on
every page (checked against sums of the samples computed here), the period kept by the
lists' links and the action bar, the gauges' peak, the change since the previous period,
the trend by period, and a period that is not one."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from hostmeter.metering.models import UsageUpdate
from hostmeter.reports.models import Report
from hostmeter.tests.fixtures import table_counts
from hostmeter.tests.pages import (
    action_bar,
    facts,
    figure_rows,
    html,
    listed_names,
    messages_of,
    row_of,
    status_line,
    usage_table,
)

pytestmark = pytest.mark.django_db

# The Usage pages, each as a function of the customer base (`months`) to its address
PAGES = [
    lambda w: reverse("usage:summary"),
    lambda w: reverse("usage:reseller-usage"),
    lambda w: reverse("usage:organization-usage"),
    lambda w: reverse("usage:reseller-overview", args=[w.acme.pk]),
    lambda w: reverse("usage:organization-overview", args=[w.zeta.pk]),
]


def _at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


# (start, end] of each billing period, and every update's cut-off (the closing ones too)
PERIODS = {
    "2026-03": (_at(3, 1), _at(4, 1)),
    "2026-04": (_at(4, 1), _at(5, 1)),
    "2026-05": (_at(5, 1), _at(6, 1)),
}
CUTOFFS = [_at(3, 1, 2), _at(3, 21), _at(4, 1), _at(4, 2), _at(5, 1), _at(5, 1, 6)]
SHOWN = {"2026-03": _at(4, 1), "2026-04": _at(5, 1), "2026-05": _at(5, 1, 6)}


# ---------------------------------------------------------------- the reference


def counter_total(samples, orgs, resource, key: str) -> Decimal:
    """The period's total to its shown cut-off: samples with start < measured_at ≤ cut-off."""
    start, _ = PERIODS[key]
    return sum(
        (
            Decimal(v)
            for o, r, at, v in samples
            if o in orgs and r == resource and start < at <= SHOWN[key]
        ),
        Decimal(0),
    )


def gauge_level(samples, orgs, resource, cutoff) -> Decimal:
    """The organizations' summed level: each one's latest sample at or before the cut-off."""
    total = Decimal(0)
    for org in orgs:
        mine = [(at, v) for o, r, at, v in samples if o == org and r == resource and at <= cutoff]
        total += Decimal(max(mine)[1]) if mine else Decimal(0)
    return total


def gauge_peak(samples, orgs, resource, key: str) -> Decimal:
    """The highest level any update of the period (up to the shown one) froze."""
    start, _ = PERIODS[key]
    return max(gauge_level(samples, orgs, resource, c) for c in CUTOFFS if start < c <= SHOWN[key])


def mb(value: Decimal) -> str:
    return f"{value:,.0f} MB"


def change(now: Decimal, before: Decimal, label: str) -> str:
    pct = ((now - before) * 100 / before).quantize(Decimal("0.1"))
    sign = "+" if pct > 0 else "−" if pct < 0 else "±"
    return f"{sign}{abs(pct)} % vs {label}"


def period_links(response) -> list[str]:
    """The hrefs on the page that lead to another Usage page (or this one's query)."""
    page = html(response)
    return [
        a.attrs["href"]
        for a in page.find_all("a")
        if a.attrs.get("href", "").startswith(("/reports/usage", "?"))
    ]


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


# ---------------------------------------------------------------- the selector


@pytest.mark.parametrize("url", PAGES)
def test_every_page_offers_the_periods_with_figures(client, login, months, url):
    login("marketing")
    response = client.get(url(months))
    assert response.status_code == 200
    page = html(response)
    picker = page.find("form", cls="period-picker")
    assert picker.attrs["method"] == "get"
    assert page.find("label", for_="period-select").text() == "Billing period"
    select = picker.find("select", id="period-select")
    options = [
        (o.attrs["value"], o.text(), "selected" in o.attrs) for o in select.find_all("option")
    ]
    assert options == [
        ("2026-05", "May 2026, to date", True),  # no period asked for: the latest
        ("2026-04", "April 2026", False),
        ("2026-03", "March 2026", False),
    ]
    assert picker.find("button", type="submit") is not None  # works without JavaScript

    chosen = client.get(url(months), {"period": "2026-03"})
    select = html(chosen).find("select", id="period-select")
    assert [o.attrs["value"] for o in select.find_all("option") if "selected" in o.attrs] == [
        "2026-03"
    ]


def test_the_status_line_says_which_closed_period_is_shown(client, login, months):
    login("marketing")
    latest = status_line(client.get(reverse("usage:summary"))).text()
    assert "Billing period: May 2026 (counters to date)" in latest
    assert "Showing" not in latest
    closed = status_line(client.get(reverse("usage:summary"), {"period": "2026-03"})).text()
    assert "Showing March 2026 (closed), usage as of 1 Apr 2026, 00:00 UTC" in closed
    assert "Usage last updated: 1 May 2026, 06:00 UTC" in closed
    assert "Billing period: May 2026" not in closed
    # the current period asked for by name is the latest: nothing to point out
    current = status_line(client.get(reverse("usage:summary"), {"period": "2026-05"})).text()
    assert "Showing" not in current


# ---------------------------------------------------------------- a period's figures


@pytest.mark.parametrize("key", ["2026-03", "2026-04", "2026-05"])
def test_each_page_shows_the_periods_figures(client, login, months, resources, key):
    login("marketing")
    disk, bandwidth = resources["disk_space"], resources["bandwidth"]
    s = months.samples
    acme_orgs = [months.zeta, months.theta, months.eta]
    everyone = [*acme_orgs, months.omega_site, months.direct]

    summary = figure_rows(client.get(reverse("usage:summary"), {"period": key}))
    assert summary["Disk space"][3] == mb(gauge_level(s, everyone, disk, SHOWN[key]))
    assert summary["Bandwidth"][3] == mb(counter_total(s, everyone, bandwidth, key))

    url = reverse("usage:reseller-overview", args=[months.acme.pk])
    overview = client.get(url, {"period": key})
    acme = figure_rows(overview)
    assert acme["Disk space"][3] == mb(gauge_level(s, acme_orgs, disk, SHOWN[key]))
    assert acme["Bandwidth"][3] == mb(counter_total(s, acme_orgs, bandwidth, key))
    assert facts(overview)  # the summary card
    table = [t for t in html(overview).find_all("table") if "Added by" in t.find("thead").text()]
    heads = [th.text() for th in table[0].find("thead").find_all("th")]
    zeta_row = [tr for tr in table[0].find("tbody").find_all("tr") if "Zeta Shop" in tr.text()]
    cells = [td.text() for td in zeta_row[0].find_all("td")]
    disk_cell = cells[heads.index("Disk space (MB)")]
    assert disk_cell.split()[0] == f"{gauge_level(s, [months.zeta], disk, SHOWN[key]):,.0f}"

    url = reverse("usage:organization-overview", args=[months.zeta.pk])
    org = client.get(url, {"period": key})
    zeta = figure_rows(org)
    assert zeta["Disk space"][1] == mb(gauge_level(s, [months.zeta], disk, SHOWN[key]))
    assert zeta["Bandwidth"][1] == mb(counter_total(s, [months.zeta], bandwidth, key))
    assert facts(org)["Usage as of"].startswith(f"{SHOWN[key]:%-d %b %Y, %H:%M} UTC")


def test_gauges_show_the_periods_peak_and_counters_none(client, login, months, resources):
    login("marketing")
    disk = resources["disk_space"]
    s = months.samples
    acme_orgs = [months.zeta, months.theta, months.eta]
    for key in PERIODS:
        url = reverse("usage:reseller-overview", args=[months.acme.pk])
        acme = figure_rows(client.get(url, {"period": key}))
        # Resource | limit, allocated, available, used, usage %, peak, change
        assert acme["Disk space"][5] == mb(gauge_peak(s, acme_orgs, disk, key))
        assert acme["Bandwidth"][5] == ""
        url = reverse("usage:organization-overview", args=[months.zeta.pk])
        zeta = figure_rows(client.get(url, {"period": key}))
        assert zeta["Disk space"][3] == mb(gauge_peak(s, [months.zeta], disk, key))
        assert zeta["Bandwidth"][3] == ""
    # the peak is not the level: March's highest was on 21 March, April's on 2 April
    assert gauge_peak(s, [months.zeta], disk, "2026-03") == 110
    assert gauge_level(s, [months.zeta], disk, SHOWN["2026-03"]) == 80


def test_the_change_is_against_the_previous_periods_closing_figure(
    client, login, months, resources
):
    login("marketing")
    disk, bandwidth = resources["disk_space"], resources["bandwidth"]
    s = months.samples
    everyone = [months.zeta, months.theta, months.eta, months.omega_site, months.direct]
    previous = {"2026-04": ("2026-03", "March 2026"), "2026-05": ("2026-04", "April 2026")}
    for key, (before, label) in previous.items():
        summary = figure_rows(client.get(reverse("usage:summary"), {"period": key}))
        expected_bw = change(
            counter_total(s, everyone, bandwidth, key),
            counter_total(s, everyone, bandwidth, before),
            label,
        )
        assert summary["Bandwidth"][-1] == expected_bw
        expected_disk = change(
            gauge_level(s, everyone, disk, SHOWN[key]),
            gauge_level(s, everyone, disk, SHOWN[before]),
            label,
        )
        assert summary["Disk space"][-1] == expected_disk

        url = reverse("usage:organization-overview", args=[months.zeta.pk])
        zeta = figure_rows(client.get(url, {"period": key}))
        assert zeta["Bandwidth"][-1] == change(
            counter_total(s, [months.zeta], bandwidth, key),
            counter_total(s, [months.zeta], bandwidth, before),
            label,
        )
    # the figures behind it: May's 7 MB to date against April's 50
    assert counter_total(s, everyone, bandwidth, "2026-05") == 7
    assert summary["Bandwidth"][-1] == "−86.0 % vs April 2026"
    # March has no previous period; an organization at 0 in it has no change either
    march = figure_rows(client.get(reverse("usage:summary"), {"period": "2026-03"}))
    assert march["Disk space"][-1] == march["Bandwidth"][-1] == ""
    url = reverse("usage:organization-overview", args=[months.theta.pk])
    assert figure_rows(client.get(url, {"period": "2026-04"}))["Disk space"][-1] == ""


def test_the_trend_by_period_has_a_point_per_period(client, login, months):
    login("marketing")
    url = reverse("usage:organization-overview", args=[months.zeta.pk])
    by_update = html(client.get(url))
    assert by_update.find("h2", id="trend-title").text() == "Usage over the kept updates"
    toggle = by_update.find("nav", aria_label="Trend charts")
    links = {a.text(): a.attrs["href"] for a in toggle.find_all("a")}
    assert query_of(links["by period"]) == {"trend": ["period"]}

    page = html(client.get(url, {"trend": "period"}))
    assert page.find("h2", id="trend-title").text() == "Usage by billing period"
    charts = {f.find("figcaption").text(): f for f in page.find_all("figure")}
    disk = charts["Disk space (MB)"]
    assert disk.find("polyline", cls="line").attrs["points"].count(",") == 3  # 3 periods
    assert disk.find("desc").text().startswith("Disk space from Mar 2026 to May 2026: latest 100")
    # a closed period's trend ends with it
    page = html(client.get(url, {"trend": "period", "period": "2026-04"}))
    disk = {f.find("figcaption").text(): f for f in page.find_all("figure")}["Disk space (MB)"]
    assert disk.find("desc").text().startswith("Disk space from Mar 2026 to Apr 2026: latest 100")
    toggle = page.find("nav", aria_label="Trend charts")
    links = {a.text(): a.attrs["href"] for a in toggle.find_all("a")}
    assert query_of(links["by update"]) == {"period": ["2026-04"]}
    # by update, a closed period's charts stop at its closing update
    page = html(client.get(url, {"period": "2026-03"}))
    disk = {f.find("figcaption").text(): f for f in page.find_all("figure")}["Disk space (MB)"]
    assert "to 01 Apr 2026: latest 80" in disk.find("desc").text()


# ---------------------------------------------------------------- links keep the period


def test_lists_sorting_search_and_paging_keep_the_period(client, login, months):
    from hostmeter.tests.factories import ResellerFactory

    for n in range(26):  # a second page
        ResellerFactory(name=f"Extra {n:02}", domain=f"extra{n:02}.example")
    login("marketing")
    url = reverse("usage:reseller-usage")
    response = client.get(url, {"period": "2026-03", "sort": "-name", "q": "e"})
    assert response.status_code == 200
    links = period_links(response)
    sort_links = [h for h in links if "sort=" in h]
    pager = [h for h in links if "page=" in h]
    overview = [
        h for h in links if re.fullmatch(r"/reports/usage/resellers/\d+/", urlsplit(h).path)
    ]
    tabs = [a.attrs["href"] for a in html(response).find("nav", aria_label="Usage").find_all("a")]
    assert sort_links and pager and overview
    for href in [*sort_links, *pager, *overview, *tabs]:
        assert query_of(href).get("period") == ["2026-03"], href
    form = html(response).find("form", role="search")
    assert form.find("input", type="hidden", name="period").attrs["value"] == "2026-03"
    selection = html(response).find("form", id="selection")
    assert selection.find("input", type="hidden", name="period").attrs["value"] == "2026-03"
    # the picker keeps the search and the sort, and starts again at page 1
    picker = html(client.get(url, {"period": "2026-03", "q": "e", "page": "2"})).find(
        "form", cls="period-picker"
    )
    kept = {i.attrs["name"]: i.attrs["value"] for i in picker.find_all("input", type="hidden")}
    assert kept == {"q": "e"}

    second = client.get(url, {"period": "2026-03", "page": "2"})
    assert "Acme Hosting" not in listed_names(second)
    # without a period, links add none
    for href in period_links(client.get(url)):
        assert "period" not in query_of(href), href

    # organization site usage: the reseller filter links keep it too
    orgs = client.get(reverse("usage:organization-usage"), {"period": "2026-04"})
    link = row_of(orgs, "Eta Blog").find("a", href=lambda h: h and "reseller=" in h)
    assert query_of(link.attrs["href"]) == {
        "reseller": [str(months.beta.pk)],
        "period": ["2026-04"],
    }
    url = reverse("usage:reseller-overview", args=[months.acme.pk])
    overview = client.get(url, {"period": "2026-04"})
    for href in period_links(overview):
        if "/reports/usage" in href and href != url:  # but "show the latest"
            assert query_of(href).get("period") == ["2026-04"], href


def test_the_report_status_and_action_bar_follow_the_period(client, login, months):
    login("marketing")
    closing = UsageUpdate.objects.get(cutoff=SHOWN["2026-03"])
    Report.objects.create(kind="reseller", reseller=months.acme, update=closing, status="ready")
    url = reverse("usage:reseller-usage")
    march = client.get(url, {"period": "2026-03", "selected": months.acme.pk})
    assert "Ready" in row_of(march, "Acme Hosting").text()
    assert action_bar(march)["export csv report"]
    latest = client.get(url, {"selected": months.acme.pk})
    assert "Not generated" in row_of(latest, "Acme Hosting").text()
    assert not action_bar(latest)["export csv report"]

    bar = reverse("usage:reseller-action-bar")
    with_period = client.get(bar, {"selected": months.acme.pk, "period": "2026-03"})
    assert action_bar(with_period)["export csv report"]
    assert not action_bar(client.get(bar, {"selected": months.acme.pk}))["export csv report"]

    Report.objects.filter(update=closing).update(status="generating")
    status = reverse("usage:reseller-report-status")
    poll = html(client.get(status, {"ids": months.acme.pk, "period": "2026-03"}))
    assert "Generating" in poll.find(id=f"report-status-{months.acme.pk}").text()
    # the poller asks again for the same period
    assert "period=2026-03" in poll.find(id="status-poller").attrs["hx-get"]
    poll = html(client.get(status, {"ids": months.acme.pk}))
    assert "Not generated" in poll.find(id=f"report-status-{months.acme.pk}").text()


def test_generate_on_a_closed_period_queues_the_report_of_its_closing_update(client, login, months):
    login("marketing")
    actions = reverse("usage:reseller-actions")
    data = {"action": "generate", "selected": [months.acme.pk], "period": "2026-03"}
    response = client.post(actions, data)
    assert response.status_code == 303
    back = response["Location"]
    assert urlsplit(back).path == reverse("usage:reseller-usage")
    assert query_of(back) == {"period": ["2026-03"], "selected": [str(months.acme.pk)]}
    report = Report.objects.get(reseller=months.acme)
    assert report.update.cutoff == SHOWN["2026-03"]
    assert report.update.closes_period
    assert report.status == Report.Status.QUEUED
    assert messages_of(client.get(back)) == ["1 report queued."]
    # the list of that period shows it queued; the latest's does not have it
    assert "Queued" in row_of(client.get(back), "Acme Hosting").text()

    # overview keeps the period as well
    data["action"] = "overview"
    response = client.post(actions, data)
    target = reverse("usage:reseller-overview", args=[months.acme.pk])
    assert response["Location"] == f"{target}?period=2026-03"


# ---------------------------------------------------------------- a period that is not one


BAD = ["2026-13", "2025-01", "garbage", "2026-03-01", "2026-3", "x" * 300]


@pytest.mark.parametrize("key", BAD)
@pytest.mark.parametrize(
    "url",
    [
        *PAGES,
        lambda w: reverse("usage:reseller-action-bar"),
        lambda w: reverse("usage:organization-report-status"),
    ],
)
def test_a_period_that_is_not_one_is_not_found_with_the_reason(client, login, months, url, key):
    login("marketing")
    response = client.get(url(months), {"period": key})
    assert response.status_code == 404
    page = html(response)
    assert page.find("h1").text() == "No such billing period"
    text = page.find("section", cls="refused").text()
    assert "is not a billing period with usage figures" in text
    assert "known: 2026-05, 2026-04, 2026-03" in text


@pytest.mark.parametrize("action", ["generate", "export", "overview"])
def test_an_action_on_a_period_that_is_not_one_changes_nothing(client, login, months, action):
    login("marketing")
    before = table_counts()
    response = client.post(
        reverse("usage:reseller-actions"),
        {"action": action, "selected": [months.acme.pk], "period": "2026-02"},
    )
    assert response.status_code == 404
    assert "“2026-02” is not a billing period with usage figures" in html(response).text()
    assert table_counts() == before
    assert not Report.objects.exists()


def test_without_a_period_or_with_an_empty_one_the_latest_is_shown(client, login, months):
    login("marketing")
    for params in ({}, {"period": ""}):
        response = client.get(reverse("usage:reseller-usage"), params)
        assert response.status_code == 200
        assert "Showing" not in status_line(response).text()
    assert usage_table(client.get(reverse("usage:reseller-usage"))) is not None


@pytest.mark.parametrize("level", ["support", "billing"])
def test_a_level_that_may_not_view_usage_is_refused_before_the_period_is_read(
    client, login, months, level
):
    """No list of the periods there are for a login that may not see usage: 403 first."""
    login(level)
    for key in ("2026-03", "garbage"):
        response = client.get(reverse("usage:summary"), {"period": key})
        assert response.status_code == 403
        assert "2026-05" not in response.content.decode()


def test_a_closed_periods_pages_show_the_late_usage_that_arrived_after_it_closed(
    client, login, months, resources
):
    """A March sample stored in May: not in March's frozen figures, shown beside them
    (and counted once, by the next update, as March's adjustment)."""
    from hostmeter.fields import to_thousandths
    from hostmeter.metering.services.samples import usage_samples_store
    from hostmeter.tests.fixtures import run_update

    bandwidth = resources["bandwidth"]
    usage_samples_store(
        [(months.zeta.pk, bandwidth.pk, _at(3, 28), to_thousandths(Decimal("3")), "late")]
    )
    run_update(_at(5, 2))
    login("marketing")
    march = {"period": "2026-03"}
    pages = [
        reverse("usage:summary"),
        reverse("usage:reseller-overview", args=[months.acme.pk]),
        reverse("usage:organization-overview", args=[months.zeta.pk]),
    ]
    for url in pages:
        used = figure_rows(client.get(url, march))["Bandwidth"]
        frozen = mb(counter_total(months.samples, [months.zeta], bandwidth, "2026-03"))
        assert any(cell.startswith(frozen) and cell.endswith("+3 MB late") for cell in used), (
            url,
            used,
        )
    # not on the current period's pages, nor on a reseller it does not belong to
    assert "MB late" not in " ".join(figure_rows(client.get(pages[2]))["Bandwidth"])
    omega = reverse("usage:reseller-overview", args=[months.omega.pk])
    assert "MB late" not in html(client.get(omega, march)).text()
