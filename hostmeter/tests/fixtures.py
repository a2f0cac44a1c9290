"""Shared test fixtures, a pytest plugin (the root conftest.py names it in pytest_plugins):
logins of a level (`login`), report files in the test's folder (`media`), the small
customer base the pages are tested on (`world`), the report tests' customer base
(`report_world`), a closed billing period and the one after it (`period_world`), the
pages' small base over three billing months (`months`), and the helpers they are built
with.

Page reading is in hostmeter/tests/pages.py, the model factories in factories.py.
Worlds of another shape keep their own, differently named fixture beside their tests:
`api_world` (hostmeter/api/tests/conftest.py), `report_files_world`
(reports/tests/test_report_files.py), `sampled_orgs` (metering/tests/test_partitions.py).
"""

import io
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from hostmeter.accounts.services import user_save
from hostmeter.fields import to_thousandths
from hostmeter.metering.models import UsageSample, UsageUpdate
from hostmeter.metering.services.samples import usage_samples_store
from hostmeter.metering.services.updates import usage_update_request, usage_update_run
from hostmeter.reports.tests.reportdata import build_world
from hostmeter.tenancy.models import Provider
from hostmeter.tenancy.services import limit_set
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory

PASSWORD = "x-long-password-for-tests"
VIEWERS = ["systems", "operations", "marketing"]  # the login levels that view usage
REFUSED = ["support", "billing"]  # and those that may not
# The lists' columns, as the help text names them (after the select-all box)
RESELLER_COLUMNS = ["Name", "Domain", "Services", "Report status", "Report last updated"]
ORGANIZATION_COLUMNS = [
    "Name",
    "Domain",
    "Reseller",
    "Services",
    "Report status",
    "Report last updated",
]


def store_sample(org, resource, at, value: str, source: str = "test") -> None:
    """Stores one usage sample (value in the resource's unit, as a decimal string)."""
    usage_samples_store([(org.pk, resource.pk, at, to_thousandths(Decimal(value)), source)])


def run_update(cutoff):
    """Runs a usage update as of cutoff right here, as the command line does."""
    update = usage_update_request(cutoff=cutoff, trigger="command", enqueue=False)
    return usage_update_run(update_id=update.pk)


def sample_sum(org, resource, after, upto) -> Decimal:
    """The reference for a counter: the samples stored with after < measured_at ≤ upto,
    summed here from what the test stored."""
    values = UsageSample.objects.filter(
        organization=org, resource=resource, measured_at__gt=after, measured_at__lte=upto
    ).values_list("value", flat=True)
    return sum(values, Decimal(0))


def sample_level(org, resource, upto) -> Decimal | None:
    """The reference for a gauge: its latest sample at or before upto."""
    return (
        UsageSample.objects.filter(organization=org, resource=resource, measured_at__lte=upto)
        .order_by("-measured_at", "-id")
        .values_list("value", flat=True)
        .first()
    )


def table_counts() -> dict[str, int]:
    """Rows in every table of the project (sessions aside)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label != "sessions"
    }


@dataclass
class CommandRun:
    """What a management command left: its exit code, stdout, stderr's lines and the
    message it exited with."""

    code: int
    out: str
    err: list[str]
    message: str = ""


def run_command(name: str, *args, **options) -> CommandRun:
    """Runs a management command as the console would (an import's exit code is
    CommandError's returncode)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        return CommandRun(exc.returncode, out.getvalue(), err.getvalue().splitlines(), str(exc))
    return CommandRun(0, out.getvalue(), err.getvalue().splitlines())


def write_file(tmp_path, name: str, text: str, *, bom: bool = False) -> str:
    """An input file in tmp_path, UTF-8 (after a byte order mark when bom); its path."""
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return str(path)


@pytest.fixture
def login(client, db):
    """login("marketing") signs the test client in with a login of that level."""

    def sign_in(level: str):
        user = user_save(username=f"{level}-user", password=PASSWORD, login_level=level)
        client.force_login(user)
        return user

    return sign_in


@pytest.fixture
def media(settings, tmp_path):
    """The report files in the test's own folder (MEDIA_ROOT tmp_path/media): its path."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(resources, t0):
    """A small customer base with one completed usage update as of t0.

    Resellers: Acme Hosting (web, mail) added Beta Web (web), which added Gamma Net
    (web); Omega Cloud (db) was added by the provider too. Organizations: Zeta Shop and
    Theta Mail (Acme's), Eta Blog (Beta's), Omega Site (Omega's) and Direct Site (the
    provider's own).

    Limits: provider disk 10,000 MB; Acme disk 1,000 MB and bandwidth 100 MB; Beta disk
    400 MB; Zeta disk 100 MB; Eta disk 300 MB. Usage: Zeta disk 90 MB and bandwidth
    50 + 45 MB; Eta disk 150 MB; Direct Site disk 10 MB.
    """
    disk, bandwidth = resources["disk_space"], resources["bandwidth"]
    w = SimpleNamespace()
    w.acme = ResellerFactory(name="Acme Hosting", domain="acme.example", services=["web", "mail"])
    w.beta = ResellerFactory(
        name="Beta Web", domain="beta.example", parent=w.acme, services=["web"]
    )
    w.gamma = ResellerFactory(
        name="Gamma Net", domain="gamma.example", parent=w.beta, services=["web"]
    )
    w.omega = ResellerFactory(name="Omega Cloud", domain="omega.example", services=["db"])
    w.zeta = OrganizationFactory(name="Zeta Shop", domain="zeta.example", reseller=w.acme)
    w.theta = OrganizationFactory(
        name="Theta Mail", domain="theta.example", reseller=w.acme, services=["web", "mail"]
    )
    w.eta = OrganizationFactory(name="Eta Blog", domain="eta.example", reseller=w.beta)
    w.omega_site = OrganizationFactory(
        name="Omega Site", domain="omega-site.example", reseller=w.omega, services=["db"]
    )
    w.direct = OrganizationFactory(name="Direct Site", domain="direct.example")

    limit_set(resource=disk, limit=Decimal(10000))  # the provider's capacity
    limit_set(resource=disk, limit=Decimal(1000), reseller=w.acme)
    limit_set(resource=bandwidth, limit=Decimal(100), reseller=w.acme)
    limit_set(resource=disk, limit=Decimal(400), reseller=w.beta)
    limit_set(resource=disk, limit=Decimal(100), organization=w.zeta)
    limit_set(resource=disk, limit=Decimal(300), organization=w.eta)

    store_sample(w.zeta, disk, t0 - timedelta(hours=1), "90")
    store_sample(w.eta, disk, t0 - timedelta(hours=1), "150")
    store_sample(w.direct, disk, t0 - timedelta(hours=1), "10")
    store_sample(w.zeta, bandwidth, t0 - timedelta(minutes=90), "50")
    store_sample(w.zeta, bandwidth, t0 - timedelta(minutes=60), "45")
    w.update = run_update(t0)
    assert w.update.status == "succeeded", w.update.error
    return w


@pytest.fixture
def report_world(db):
    """The report tests' customer base (reports/tests/reportdata.py's build_world) at a
    small size: Top Hosting with sub-reseller Sub Hosting, Other Hosting, organizations
    under each and the provider's own, random usage and one completed update as of
    2026-03-01 02:00 UTC; the provider in Europe/Berlin (the cut-off is 03:00 there)."""
    provider = Provider.get()
    provider.time_zone = "Europe/Berlin"
    provider.save()
    return build_world(top_orgs=6, sub_orgs=4, tricky=False)


# November 2026 in Europe/Berlin: (31 Oct 23:00 UTC, 30 Nov 23:00 UTC]
NOVEMBER_START = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
NOVEMBER_END = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)


@pytest.fixture
def period_world(resources):
    """A closed billing period and the current one after it, in Europe/Berlin (anchor
    day 1): Top Hosting (web, mail) with sub-reseller Sub Hosting (web), organizations
    Alpha Shop (Top's, web and mail), Bravo Blog (Sub's, web) and Charlie Direct (the
    provider's own, web), random samples on 30 Oct (October's), 3, 10 and 20 Nov, at
    midnight of 1 Dec local time (still November's) and on 2 Dec, and updates as of
    15 Nov and 4 Dec 02:00 local time, so that November closes in between (`november`,
    its update as of the period's end; `mid`, the one of 15 Nov; `december`, the latest)."""
    provider = Provider.get()
    provider.time_zone, provider.billing_anchor_day = "Europe/Berlin", 1
    provider.save()
    w = SimpleNamespace()
    w.top = ResellerFactory(name="Top Hosting", domain="top.example", services=["web", "mail"])
    w.sub = ResellerFactory(
        name="Sub Hosting", domain="sub.example", parent=w.top, services=["web"]
    )
    w.alpha = OrganizationFactory(
        name="Alpha Shop", domain="alpha.example", reseller=w.top, services=["web", "mail"]
    )
    w.bravo = OrganizationFactory(name="Bravo Blog", domain="bravo.example", reseller=w.sub)
    w.charlie = OrganizationFactory(name="Charlie Direct", domain="charlie.example")
    limit_set(resource=resources["bandwidth"], limit=Decimal(1000), reseller=w.top)
    rnd = random.Random(9)
    measured = {
        w.alpha: ["disk_space", "bandwidth", "mailboxes", "emails_sent"],
        w.bravo: ["disk_space", "bandwidth"],
        w.charlie: ["disk_space", "bandwidth"],
    }
    times = [
        datetime(2026, 10, 30, 12, tzinfo=UTC),
        datetime(2026, 11, 3, 12, tzinfo=UTC),
        datetime(2026, 11, 10, 12, tzinfo=UTC),
        datetime(2026, 11, 20, 12, tzinfo=UTC),
        NOVEMBER_END,
        datetime(2026, 12, 2, 12, tzinfo=UTC),
    ]
    for org, codes in measured.items():
        for code in codes:
            whole = code in ("mailboxes", "emails_sent")
            for at in times:
                value = str(rnd.randint(0, 400)) if whole else f"{rnd.randint(0, 9_000_000) / 1000}"
                store_sample(org, resources[code], at, value)
    w.mid = run_update(datetime(2026, 11, 15, 1, tzinfo=UTC))
    w.december = run_update(datetime(2026, 12, 4, 1, tzinfo=UTC))
    w.november = UsageUpdate.objects.get(cutoff=NOVEMBER_END)
    for update in (w.mid, w.november, w.december):
        assert update.status == UsageUpdate.Status.SUCCEEDED, update.error
    assert w.november.closes_period and not w.december.closes_period
    w.orgs = [w.alpha, w.bravo, w.charlie]
    return w


@pytest.fixture
def months(world, resources):
    """The `world` over three monthly billing periods (UTC, anchor day 1): March and April
    2026 closed, May to date. Besides world's samples (March), Zeta Shop's:

    - bandwidth (a counter) 5 MB on 15 Mar; 30 MB on 1 Apr, 20 MB on 10 Apr; 7 MB on 1 May
    - disk space (a gauge) 110 MB on 20 Mar, 80 MB on 25 Mar; 120 MB on 1 Apr, 100 MB on
      10 Apr

    with updates as of 21 Mar, 2 Apr (which first closes March at 1 Apr 00:00) and 1 May
    06:00 (which first closes April). `samples` lists every sample stored (world's too),
    as (organization, resource, measured at, value), for the tests to compute what the
    pages should show.
    """
    disk, bandwidth = resources["disk_space"], resources["bandwidth"]
    zeta = world.zeta
    t0 = world.update.cutoff
    samples = [
        (zeta, disk, t0 - timedelta(hours=1), "90"),
        (world.eta, disk, t0 - timedelta(hours=1), "150"),
        (world.direct, disk, t0 - timedelta(hours=1), "10"),
        (zeta, bandwidth, t0 - timedelta(minutes=90), "50"),
        (zeta, bandwidth, t0 - timedelta(minutes=60), "45"),
    ]

    def at(month: int, day: int, hour: int = 12) -> datetime:
        return datetime(2026, month, day, hour, tzinfo=UTC)

    steps = [
        [(zeta, bandwidth, at(3, 15), "5"), (zeta, disk, at(3, 20), "110")],
        [
            (zeta, disk, at(3, 25), "80"),
            (zeta, bandwidth, at(4, 1), "30"),
            (zeta, disk, at(4, 1), "120"),
        ],
        [
            (zeta, bandwidth, at(4, 10), "20"),
            (zeta, disk, at(4, 10), "100"),
            (zeta, bandwidth, at(5, 1, 3), "7"),
        ],
    ]
    cutoffs = [at(3, 21, 0), at(4, 2, 0), at(5, 1, 6)]
    for step, cutoff in zip(steps, cutoffs, strict=True):
        for sample in step:
            store_sample(*sample)
        samples += step
        update = run_update(cutoff)
        assert update.status == "succeeded", update.error
    world.samples = samples
    return world
