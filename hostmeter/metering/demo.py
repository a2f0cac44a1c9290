"""Demo data: a believable provider, reseller tree, customers and usage history.

Everything is derived from the seed alone (names, domains, limits, sample
values), so a seed always gives the same data; only the dates follow today.
Limits are whole units. A counter's limit is an amount per usage update (the
demo's schedule is daily), since usage % compares one update's sum with it.
"""

import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from datetime import time as clock
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from hostmeter.accounts.levels import LoginLevel
from hostmeter.accounts.models import User
from hostmeter.accounts.services import user_save
from hostmeter.fields import SCALE
from hostmeter.tenancy.models import (
    Organization,
    Provider,
    Reseller,
    Resource,
    ResourceLimit,
    Service,
)
from hostmeter.tenancy.services import reseller_links_rebuild

from .models import UsageSample, UsageUpdate
from .services import usage_samples_store, usage_update_request, usage_update_run

DEMO_PASSWORD = "hostmeter-demo"
DEMO_SOURCE = "demo"
DEMO_PROVIDER = {
    "name": "Demo Hosting",
    "time_zone": "Europe/Amsterdam",
    "usage_schedule": "0 2 * * *",
}
CUTOFF_AT = clock(2, 0)  # matches DEMO_PROVIDER's schedule
SAMPLE_BEFORE_CUTOFF = timedelta(hours=1)
TLD = "example"  # reserved (RFC 2606): a demo domain never points at a real site

# Tiers of the organizations' plans and how many customers pick each.
TIERS = ("Starter", "Business", "Pro", "Enterprise")
TIER_WEIGHTS = (45, 35, 15, 5)
# Per resource: a plan's limit per tier, whole MB or count (counters: per day).
PLAN_LIMITS: dict[str, tuple[int, int, int, int]] = {
    "disk_space": (2_000, 10_000, 50_000, 200_000),
    "bandwidth": (2_000, 10_000, 50_000, 200_000),
    "mailboxes": (5, 25, 100, 500),
    "mail_storage": (5_000, 25_000, 100_000, 500_000),
    "emails_sent": (300, 1_000, 5_000, 20_000),
    "databases": (3, 10, 50, 200),
    "db_storage": (1_000, 5_000, 20_000, 100_000),
    "dns_zones": (3, 10, 25, 100),
    "ftp_accounts": (3, 10, 50, 200),
    "certificates": (3, 10, 25, 100),
    "backup_storage": (5_000, 20_000, 100_000, 500_000),
}
# Resources the provider added after the catalog migration get plans by unit.
GENERIC_LIMITS = {"MB": (2_000, 10_000, 50_000, 200_000), "count": (3, 10, 50, 200)}
# How often a service is allocated to a reseller / enabled on an organization.
RESELLER_SERVICE_ODDS = {
    "web": 0.96, "mail": 0.85, "db": 0.7, "dns": 0.6, "ftp": 0.45, "ssl": 0.55, "backup": 0.4,
}  # fmt: skip
ORGANIZATION_SERVICE_ODDS = {
    "web": 0.95, "mail": 0.75, "db": 0.5, "dns": 0.4, "ftp": 0.25, "ssl": 0.35, "backup": 0.2,
}  # fmt: skip
OTHER_SERVICE_ODDS = 0.3
DIRECT_SHARE = 0.12  # organizations the provider added itself
HOT_SHARE = 0.04  # organizations over a threshold in the latest update
HOT_RESOURCE_WEIGHTS = {"disk_space": 5, "mail_storage": 3, "bandwidth": 2, "db_storage": 2}

RESELLER_PREFIXES = (
    "Northwind", "Bluepeak", "Silverline", "Brightlake", "Redwood", "Ironbridge", "Clearwater",
    "Stonegate", "Oakridge", "Sunfield", "Greenhill", "Harbourside", "Maplewood", "Summit",
    "Falcon", "Cedar", "Aurora", "Evergreen", "Granite", "Lighthouse", "Riverside", "Westbrook",
    "Highland", "Copperleaf", "Blackbird", "Starling", "Nordlicht", "Zuiderzee", "Alpenglow",
    "Tidewater", "Kestrel", "Meridian", "Polaris", "Driftwood", "Foxglove", "Larkspur",
    "Windmill", "Bergamot", "Ashford", "Moorland",
)  # fmt: skip
RESELLER_CORES = (
    "Web", "Hosting", "Cloud", "Digital", "Net", "Data", "Host", "Online", "Sites", "Media",
)  # fmt: skip
RESELLER_SUFFIXES = (
    "Services", "Solutions", "Partners", "Group", "Networks", "Labs", "Works", "Collective",
    "& Co", "Studio",
)  # fmt: skip
CONTACT_FIRST_NAMES = (
    "Anna", "Bram", "Chloe", "Daan", "Emma", "Finn", "Greta", "Hugo", "Ines", "Jonas", "Katja",
    "Lars", "Mila", "Noah", "Olivia", "Pieter", "Rosa", "Sven", "Tess", "Victor",
)  # fmt: skip
# A few accented names on purpose: reports must carry them through to spreadsheets.
ORGANIZATION_NAMES = (
    "Rosewood", "Kessler", "Alpine", "Lindqvist", "Marlow", "Bakker", "Janssen", "Moreau",
    "Rossi", "Novak", "Castillo", "Okafor", "Tanaka", "Hughes", "Fischer", "Van Dijk", "Müller",
    "Lefèvre", "Peña", "Nyström", "Dvořák", "Çelik", "Harbor", "Willow", "Juniper", "Meadow",
    "Foxhill", "Kingsley", "Bellamy", "Whitaker", "Hawthorne", "Ellison", "Mendes", "Kowalski",
    "Haddad", "Nakamura", "Olsen", "Quinn", "Bianchi", "Dubois", "Schmidt", "Visser", "Mulder",
    "Patel", "Singh", "Kaya", "Larsen", "Berg", "Costa", "Garnier",
)  # fmt: skip
ORGANIZATION_TRADES = (
    "Bakery", "Dental Clinic", "Plumbing", "Law Office", "Architects", "Bike Shop", "Florist",
    "Bookshop", "Yoga Studio", "Photography", "Garage", "Accountants", "Coffee Roasters",
    "Veterinary Clinic", "Travel", "Bistro", "Brewery", "Hair Studio", "Real Estate",
    "Consulting", "Print Shop", "Music School", "Tailors", "Gallery", "Physiotherapy",
    "Carpentry", "Electricians", "Landscaping", "Opticians", "Pharmacy", "Kindergarten",
    "Driving School", "Wine Bar", "Catering", "Cleaning", "Roofing", "Pet Supplies", "Toy Store",
    "Fitness", "Tattoo", "Pottery", "Translations", "Insurance", "Removals", "Locksmiths",
    "Ceramics", "Bridal", "Cycling Club", "Football Club", "Choir",
)  # fmt: skip
TOWNS = (
    "Amsterdam", "Utrecht", "Delft", "Leiden", "Haarlem", "Gouda", "Zwolle", "Breda", "Arnhem",
    "Antwerp", "Ghent", "Bruges", "Cologne", "Aachen", "Münster", "Lyon", "Lille", "Porto",
    "Turin", "Graz", "Bergen", "Malmö", "Aarhus", "Cork", "York", "Bath", "Galway", "Basel",
    "Bern", "Lucerne",
)  # fmt: skip


class DemoDataExists(Exception):
    """The database already holds data: demo data is never mixed into it."""


class DemoLoadError(Exception):
    """The demo data could not be loaded; nothing of it was kept."""


@dataclass
class DemoSummary:
    loaded: bool
    message: str = ""
    resellers: int = 0
    sub_resellers: int = 0
    organizations: int = 0
    direct_organizations: int = 0
    over_threshold: int = 0
    limits: int = 0
    samples: int = 0
    updates: int = 0
    first_cutoff: datetime | None = None
    last_cutoff: datetime | None = None
    logins_created: list[str] = field(default_factory=list)
    logins_kept: list[str] = field(default_factory=list)
    password: str = ""
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """The summary as a person reads it: counts, time taken, the logins."""
        if not self.loaded:
            return [self.message]
        lines = [
            f"Demo data loaded in {self.seconds:.1f} s:",
            f"  {_n(self.resellers, 'reseller')} ({_n(self.sub_resellers, 'sub-reseller')}), "
            f"{_n(self.organizations, 'organization')} ({self.direct_organizations} added "
            f"directly, {self.over_threshold} over a threshold), {_n(self.limits, 'limit')}",
            f"  {_n(self.samples, 'usage sample')}, {_n(self.updates, 'usage update')} "
            f"({self.first_cutoff:%Y-%m-%d %H:%M %Z} to {self.last_cutoff:%Y-%m-%d %H:%M %Z})",
        ]
        if self.logins_created:
            lines.append(f"  Logins: {', '.join(self.logins_created)}; password: {self.password}")
        if self.logins_kept:
            lines.append(f"  Kept as they were (password unchanged): {', '.join(self.logins_kept)}")
        return lines


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# ---------------------------------------------------------------- the plan


@dataclass
class _Reseller:
    name: str
    domain: str
    contact_name: str
    contact_email: str
    parent: int | None  # index into the plan's resellers, parents first
    depth: int
    services: list[str]
    limits: dict[str, int] = field(default_factory=dict)
    pk: int | None = None


@dataclass
class _Organization:
    index: int
    name: str
    domain: str
    reseller: int | None
    services: list[str]
    limits: dict[str, int]
    hot: dict[str, float]  # resource code → usage ÷ limit it ends at
    pk: int | None = None


@dataclass
class _Catalog:
    services: list[str]
    resources: dict[str, list[Resource]]  # by service code

    def resources_of(self, services: list[str]) -> list[Resource]:
        return [r for s in services for r in self.resources.get(s, [])]


def _catalog() -> _Catalog:
    services = list(Service.objects.values_list("code", flat=True))
    by_service: dict[str, list[Resource]] = {code: [] for code in services}
    for resource in Resource.objects.select_related("service"):
        by_service[resource.service.code].append(resource)
    return _Catalog(services, by_service)


def _plan_limit(resource: Resource, tier: int) -> int:
    plans = PLAN_LIMITS.get(resource.code) or GENERIC_LIMITS.get(resource.unit)
    return (plans or GENERIC_LIMITS["count"])[tier]


def _nice_up(value: float) -> int:
    """Rounds up to two significant digits, as a person would write a quota."""
    if value <= 100:
        return max(1, math.ceil(value))
    step = 10 ** (int(math.log10(value)) - 1)
    return math.ceil(value / step) * step


def _pick_services(rng: random.Random, offered: list[str], odds: dict[str, float]) -> list[str]:
    chosen = [s for s in offered if rng.random() < odds.get(s, OTHER_SERVICE_ODDS)]
    return chosen or ["web" if "web" in offered else offered[0]]


def _unique_domain(bases: list[str], taken: set[str]) -> tuple[str, int]:
    """The first free domain of the bases (else the last one numbered), and its base."""
    for index, base in enumerate(bases):
        if (domain := f"{base}.{TLD}") not in taken:
            taken.add(domain)
            return domain, index
    n = 2
    while (domain := f"{bases[-1]}-{n}.{TLD}") in taken:
        n += 1
    taken.add(domain)
    return domain, len(bases) - 1


def _plan_resellers(rng: random.Random, count: int, catalog: _Catalog) -> list[_Reseller]:
    """About 60 % added by the provider, the rest below them, one at least two deep."""
    top = max(1, round(count * 0.6)) if count else 0
    plan: list[_Reseller] = []
    names: set[str] = set()
    taken: set[str] = set()
    for i in range(count):
        for _ in range(20):
            prefix, core = rng.choice(RESELLER_PREFIXES), rng.choice(RESELLER_CORES)
            name = f"{prefix} {core} {rng.choice(RESELLER_SUFFIXES)}"
            if name not in names:
                break
        names.add(name)
        domain, _ = _unique_domain([slugify(f"{prefix} {core}"), slugify(name)], taken)
        first = rng.choice(CONTACT_FIRST_NAMES)
        if i < top:
            parent, depth, offered = None, 0, catalog.services
        else:
            # The second sub-reseller goes below the first, so the tree is two deep.
            if i == top + 1:
                parent = top
            else:
                parent = rng.choice([j for j, r in enumerate(plan) if r.depth < 2])
            depth, offered = plan[parent].depth + 1, plan[parent].services
        odds = RESELLER_SERVICE_ODDS if depth == 0 else dict.fromkeys(offered, 0.75) | {"web": 0.95}
        plan.append(
            _Reseller(
                name=name,
                domain=domain,
                contact_name=f"{first} {rng.choice(ORGANIZATION_NAMES)}",
                contact_email=f"{first.lower()}@{domain}",
                parent=parent,
                depth=depth,
                services=_pick_services(rng, offered, odds),
            )
        )
    return plan


def _plan_organizations(
    rng: random.Random, count: int, resellers: list[_Reseller], catalog: _Catalog
) -> list[_Organization]:
    weights = [rng.lognormvariate(0, 0.8) for _ in resellers]
    hot = set(rng.sample(range(count), max(1, round(count * HOT_SHARE)))) if count else set()
    hot_seen = 0
    plan: list[_Organization] = []
    taken: set[str] = set()
    for i in range(count):
        first, trade = rng.choice(ORGANIZATION_NAMES), rng.choice(ORGANIZATION_TRADES)
        # Another bakery of the same name is told apart by its town, as in real life.
        names = [f"{first} {trade}", f"{first} {trade} {rng.choice(TOWNS)}"]
        domain, chosen = _unique_domain([slugify(n) for n in names], taken)
        name = names[chosen]
        reseller = None
        if resellers and rng.random() >= DIRECT_SHARE:
            reseller = rng.choices(range(len(resellers)), weights)[0]
        offered = resellers[reseller].services if reseller is not None else catalog.services
        services = _pick_services(rng, offered, ORGANIZATION_SERVICE_ODDS)
        tier = rng.choices(range(len(TIERS)), TIER_WEIGHTS)[0]
        resources = catalog.resources_of(services)
        limits = {r.code: _plan_limit(r, tier) for r in resources}
        targets: dict[str, float] = {}
        if i in hot and resources:
            hot_seen += 1
            weights_hot = [HOT_RESOURCE_WEIGHTS.get(r.code, 1) for r in resources]
            for resource in set(rng.choices(resources, weights_hot, k=rng.choice((1, 1, 2)))):
                threshold = float(resource.threshold_percent) / 100
                # Half of them beyond the limit itself, half between threshold and limit.
                if hot_seen % 2 or threshold >= 1:
                    targets[resource.code] = max(threshold, 1) + rng.uniform(0.02, 0.35)
                else:
                    targets[resource.code] = threshold + (1 - threshold) * rng.uniform(0.2, 0.9)
        plan.append(_Organization(i, name, domain, reseller, services, limits, targets))
    return plan


def _plan_limits(
    rng: random.Random,
    resellers: list[_Reseller],
    organizations: list[_Organization],
    catalog: _Catalog,
) -> dict[str, int]:
    """Limits bottom-up, so what a holder gives away always fits in what it has."""
    given: list[dict[str, int]] = [{} for _ in resellers]
    direct: dict[str, int] = {}
    for org in organizations:
        target = given[org.reseller] if org.reseller is not None else direct
        for code, limit in org.limits.items():
            target[code] = target.get(code, 0) + limit
    # Children come after their parents in the plan: walk it backwards.
    for i in range(len(resellers) - 1, -1, -1):
        reseller = resellers[i]
        for resource in catalog.resources_of(reseller.services):
            need = given[i].get(resource.code, 0) * rng.uniform(1.15, 1.6)
            floor = 2 * _plan_limit(resource, len(TIERS) - 1)
            reseller.limits[resource.code] = _nice_up(max(need, floor))
        target = given[reseller.parent] if reseller.parent is not None else direct
        for code, limit in reseller.limits.items():
            target[code] = target.get(code, 0) + limit
    capacities = {}
    for resource in catalog.resources_of(catalog.services):
        need = direct.get(resource.code, 0) * rng.uniform(1.2, 1.5)
        capacities[resource.code] = _nice_up(max(need, 10 * _plan_limit(resource, -1)))
    return capacities


# ---------------------------------------------------------------- usage


def _gauge(
    rng: random.Random,
    limit: int,
    days: int,
    fill: float,
    hot: float | None,
    *,
    whole: bool,
    threshold: float,
) -> list[int]:
    """A level growing towards its last value, with small day-to-day noise."""
    if whole:
        if hot is not None:  # a hot count must really end above its threshold
            end = max(round(hot * limit), math.floor(threshold * limit) + 1)
        else:
            end = min(max(round(fill * limit), 1), math.floor(_fill_cap(threshold) * limit))
        start = max(0, round(end * rng.uniform(0.5, 1.0)))
    else:
        end = (hot or fill) * limit
        start = end * rng.uniform(0.55, 0.9)
    values = []
    for day in range(days):
        share = day / (days - 1) if days > 1 else 1.0
        level = start + (end - start) * share
        if day < days - 1 and not whole:
            level *= 1 + rng.gauss(0, 0.015)
        values.append(round(level) * SCALE if whole else max(0, round(level * SCALE)))
    return values


def _counter(
    rng: random.Random,
    limit: int,
    days: int,
    fill: float,
    hot: float | None,
    *,
    whole: bool,
    threshold: float,
) -> list[int]:
    """An amount per day, busier as the customer grows; a hot one spikes on the last day."""
    growth = rng.uniform(0.0, 0.4)
    ceiling = _fill_cap(threshold) * limit
    values = []
    for day in range(days):
        share = day / (days - 1) if days > 1 else 1.0
        amount = min(ceiling, fill * limit * (1 + growth * share) * rng.uniform(0.75, 1.25))
        if hot is not None and day == days - 1:
            amount = hot * limit
            if whole:
                amount = max(round(amount), math.floor(threshold * limit) + 1)
        values.append(round(amount) * SCALE if whole else round(amount * SCALE))
    return values


def _fill_cap(threshold: float) -> float:
    """How full an organization that is not meant to be flagged may get, noise included."""
    return min(0.7, threshold * 0.85)


def _usage_samples(
    *,
    seed: int,
    organizations: list[_Organization],
    catalog: _Catalog,
    measured: list[datetime],
    progress: Callable[[str], None],
) -> Iterator[tuple[int, int, datetime, int, str]]:
    """Yields every sample, one organization at a time, so memory stays flat."""
    step = max(1, len(organizations) // 5)
    for org in organizations:
        # One generator per organization: its numbers do not depend on the others.
        rng = random.Random(f"{seed}:usage:{org.index}")
        for resource in catalog.resources_of(org.services):
            limit = org.limits[resource.code]
            whole = resource.unit != "MB"
            threshold = float(resource.threshold_percent) / 100
            fill = min(_fill_cap(threshold), 0.05 + rng.betavariate(2, 5) * 0.8)
            shape = _counter if resource.kind == Resource.Kind.COUNTER else _gauge
            values = shape(
                rng,
                limit,
                len(measured),
                fill,
                org.hot.get(resource.code),
                whole=whole,
                threshold=threshold,
            )
            for at, value in zip(measured, values, strict=True):
                yield org.pk, resource.pk, at, value, DEMO_SOURCE
        if (org.index + 1) % step == 0 or org.index + 1 == len(organizations):
            progress(f"  usage samples: {org.index + 1}/{len(organizations)} organizations")


def demo_cutoffs(*, days: int, now: datetime, zone: tzinfo) -> list[datetime]:
    """The daily cut-offs at 02:00 provider time, the last one at or before now.

    Built per local date rather than by walking the cron expression, so the
    day the clocks go back still has one update, not two.
    """
    local_now = now.astimezone(zone)
    last = local_now.date()
    if datetime.combine(last, CUTOFF_AT, tzinfo=zone) > now:
        last -= timedelta(days=1)
    dates = [last - timedelta(days=k) for k in range(days - 1, -1, -1)]
    return [datetime.combine(d, CUTOFF_AT, tzinfo=zone) for d in dates]


# ---------------------------------------------------------------- the service


def demo_existing_data() -> str:
    """What the database already holds that demo data must not be mixed into ("" if none)."""
    found = []
    for model, noun in (
        (Reseller, "reseller"),
        (Organization, "organization"),
        (ResourceLimit, "limit"),
        (UsageSample, "usage sample"),
        (UsageUpdate, "usage update"),
    ):
        if count := model.objects.count():
            found.append(_n(count, noun))
    return ", ".join(found)


def demo_load(
    *,
    resellers: int = 25,
    organizations: int = 400,
    days: int = 60,
    seed: int = 1,
    password: str = DEMO_PASSWORD,
    if_empty: bool = False,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Loads a demo provider, resellers, organizations, logins and `days` of usage history.

    Only into a database without customer or usage data: raises DemoDataExists
    otherwise, or with if_empty returns a summary saying nothing was loaded.
    All or nothing: one transaction. `now` (aware, not in the future) fixes
    the last day; `progress` receives a line per step.
    """
    if resellers < 0 or organizations < 0:
        raise ValueError("The numbers of resellers and organizations cannot be negative.")
    if not 1 <= days <= 3660:
        raise ValueError("The number of days must be between 1 and 3660.")
    if not password:
        raise ValueError("The demo logins need a password.")
    say = progress or (lambda line: None)
    started = time.monotonic()
    now = now or timezone.now()
    if existing := demo_existing_data():
        message = f"The database already has data ({existing}); demo data is only loaded into "
        if if_empty:
            return DemoSummary(loaded=False, message=message + "an empty one: nothing loaded.")
        raise DemoDataExists(message + "an empty database.")

    summary = DemoSummary(loaded=True, password=password)
    with transaction.atomic():
        summary.logins_created, summary.logins_kept = _logins(password)
        say(f"Demo logins: {', '.join(summary.logins_created) or 'none new'}")

        provider = Provider.get()
        for attr, value in DEMO_PROVIDER.items():
            setattr(provider, attr, value)
        provider.full_clean()
        provider.save()

        rng = random.Random(seed)
        catalog = _catalog()
        reseller_plan = _plan_resellers(rng, resellers, catalog)
        org_plan = _plan_organizations(rng, organizations, reseller_plan, catalog)
        capacities = _plan_limits(rng, reseller_plan, org_plan, catalog)
        _store_tenancy(reseller_plan, org_plan)
        summary.limits = _store_limits(capacities, reseller_plan, org_plan, catalog)
        summary.resellers = len(reseller_plan)
        summary.sub_resellers = sum(1 for r in reseller_plan if r.parent is not None)
        summary.organizations = len(org_plan)
        summary.direct_organizations = sum(1 for o in org_plan if o.reseller is None)
        summary.over_threshold = sum(1 for o in org_plan if o.hot)
        say(
            f"Resellers: {summary.resellers} ({summary.sub_resellers} sub-resellers); "
            f"organizations: {summary.organizations} ({summary.direct_organizations} direct); "
            f"limits: {summary.limits}"
        )

        cutoffs = demo_cutoffs(days=days, now=now, zone=provider.zone)
        measured = [c - SAMPLE_BEFORE_CUTOFF for c in cutoffs]
        say(f"Usage samples for {_n(days, 'day')} ({cutoffs[0].date()} to {cutoffs[-1].date()}):")
        summary.samples = usage_samples_store(
            _usage_samples(
                seed=seed, organizations=org_plan, catalog=catalog, measured=measured, progress=say
            )
        )

        say(f"Usage updates: one per day at {CUTOFF_AT:%H:%M} {provider.time_zone}")
        step = max(1, days // 5)
        for n, cutoff in enumerate(cutoffs, 1):
            update = usage_update_request(
                cutoff=cutoff, trigger=UsageUpdate.Trigger.DEMO, enqueue=False
            )
            update = usage_update_run(update_id=update.pk)
            if update.status != UsageUpdate.Status.SUCCEEDED:
                raise DemoLoadError(f"The usage update as of {cutoff} failed: {update.error}")
            if n % step == 0 or n == days:
                say(f"  usage updates: {n}/{days}")
        summary.updates = len(cutoffs)
        summary.first_cutoff, summary.last_cutoff = cutoffs[0], cutoffs[-1]
    summary.seconds = time.monotonic() - started
    return summary


def _logins(password: str) -> tuple[list[str], list[str]]:
    """One login per level, named after it. A login that exists keeps its password:
    the demo must never reset a real account to a password printed on screen."""
    existing = set(
        User.objects.filter(username__in=LoginLevel.values).values_list("username", flat=True)
    )
    created = []
    for level in LoginLevel.values:
        if level not in existing:
            user_save(username=level, password=password, login_level=level)
            created.append(level)
    return created, sorted(existing, key=LoginLevel.values.index)


def _store_tenancy(resellers: list[_Reseller], organizations: list[_Organization]) -> None:
    """Bulk inserts, parents before children; the tree closure is rebuilt once at the end."""
    for depth in range(max((r.depth for r in resellers), default=-1) + 1):
        level = [r for r in resellers if r.depth == depth]
        objs = [
            Reseller(
                name=r.name,
                domain=r.domain,
                parent_id=resellers[r.parent].pk if r.parent is not None else None,
                contact_name=r.contact_name,
                contact_email=r.contact_email,
            )
            for r in level
        ]
        for obj in objs:
            obj.clean_fields(exclude=["parent"])
        Reseller.objects.bulk_create(objs, batch_size=500)
        ids = dict(
            Reseller.objects.filter(domain__in=[r.domain for r in level]).values_list(
                "domain", "id"
            )
        )
        for r in level:
            r.pk = ids[r.domain]
    reseller_links_rebuild()

    org_objs = [
        Organization(
            name=o.name,
            domain=o.domain,
            reseller_id=resellers[o.reseller].pk if o.reseller is not None else None,
        )
        for o in organizations
    ]
    for obj in org_objs:
        obj.clean_fields(exclude=["reseller"])
    Organization.objects.bulk_create(org_objs, batch_size=500)
    ids = dict(Organization.objects.values_list("domain", "id"))  # the table was empty
    for o in organizations:
        o.pk = ids[o.domain]

    service_ids = dict(Service.objects.values_list("code", "id"))
    through = Reseller.services.through
    through.objects.bulk_create(
        [
            through(reseller_id=r.pk, service_id=service_ids[s])
            for r in resellers
            for s in r.services
        ],
        batch_size=2000,
    )
    through = Organization.services.through
    through.objects.bulk_create(
        (
            through(organization_id=o.pk, service_id=service_ids[s])
            for o in organizations
            for s in o.services
        ),
        batch_size=2000,
    )


def _store_limits(
    capacities: dict[str, int],
    resellers: list[_Reseller],
    organizations: list[_Organization],
    catalog: _Catalog,
) -> int:
    resource_ids = {r.code: r.pk for r in catalog.resources_of(catalog.services)}
    limits = [
        ResourceLimit(resource_id=resource_ids[code], limit=Decimal(limit))
        for code, limit in capacities.items()
    ]
    limits += [
        ResourceLimit(resource_id=resource_ids[code], reseller_id=r.pk, limit=Decimal(limit))
        for r in resellers
        for code, limit in r.limits.items()
    ]
    limits += [
        ResourceLimit(resource_id=resource_ids[code], organization_id=o.pk, limit=Decimal(limit))
        for o in organizations
        for code, limit in o.limits.items()
    ]
    ResourceLimit.objects.bulk_create(limits, batch_size=2000)
    return len(limits)
