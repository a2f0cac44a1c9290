"""The demo's plan: names and domains, the reseller tree, the services each holder
gets and the limits that fit in one another, all drawn from the seed before anything
is stored."""

import math
import random
from dataclasses import dataclass, field

from django.utils.text import slugify

from hostmeter.tenancy.models import Resource, Service

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
