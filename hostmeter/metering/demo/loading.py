"""Loads the demo into an empty database in one transaction: the logins, the provider,
the planned resellers, organizations and limits, the usage samples and one usage update
per day; and the summary of what was loaded."""

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from hostmeter.accounts.levels import LoginLevel
from hostmeter.accounts.models import User
from hostmeter.accounts.services import user_save
from hostmeter.tenancy.models import (
    Organization,
    Provider,
    Reseller,
    ResellerLink,
    ResourceLimit,
    Service,
)
from hostmeter.tenancy.services import reseller_links_rebuild, reseller_login_save

from ..models import UsageSample, UsageUpdate
from ..services.samples import usage_samples_store
from ..services.updates import usage_update_run_now
from .plan import (
    _Catalog,
    _catalog,
    _Organization,
    _plan_limits,
    _plan_organizations,
    _plan_resellers,
    _Reseller,
)
from .usage import CUTOFF_AT, DEMO_PROVIDER, SAMPLE_BEFORE_CUTOFF, _usage_samples, demo_cutoffs

DEMO_PASSWORD = "hostmeter-demo"


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
    closed_periods: int = 0  # updates as of a billing period's end, run on the way
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
            f"({self.first_cutoff:%Y-%m-%d %H:%M %Z} to {self.last_cutoff:%Y-%m-%d %H:%M %Z}), "
            f"{_n(self.closed_periods, 'closed billing period')}",
        ]
        if self.logins_created:
            lines.append(f"  Logins: {', '.join(self.logins_created)}; password: {self.password}")
        if self.logins_kept:
            lines.append(f"  Kept as they were (password unchanged): {', '.join(self.logins_kept)}")
        return lines


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


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
    days: int = 70,
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
        created, kept = _reseller_logins(password)
        summary.logins_created += created
        summary.logins_kept += kept
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
        periods = [provider.billing_period(at).start for at in measured]
        summary.samples = usage_samples_store(
            _usage_samples(
                seed=seed,
                organizations=org_plan,
                catalog=catalog,
                measured=measured,
                periods=[periods.index(p) for p in periods],
                progress=say,
            )
        )

        say(f"Usage updates: one per day at {CUTOFF_AT:%H:%M} {provider.time_zone}")
        step = max(1, days // 5)
        for n, cutoff in enumerate(cutoffs, 1):
            update = usage_update_run_now(cutoff=cutoff, trigger=UsageUpdate.Trigger.DEMO)
            if update.status != UsageUpdate.Status.SUCCEEDED:
                raise DemoLoadError(f"The usage update as of {cutoff} failed: {update.error}")
            if n % step == 0 or n == days:
                say(f"  usage updates: {n}/{days}")
        summary.updates = len(cutoffs)
        summary.closed_periods = UsageUpdate.objects.filter(
            trigger=UsageUpdate.Trigger.CLOSE, status=UsageUpdate.Status.SUCCEEDED
        ).count()
        summary.first_cutoff, summary.last_cutoff = cutoffs[0], cutoffs[-1]
    summary.seconds = time.monotonic() - started
    return summary


def _logins(password: str) -> tuple[list[str], list[str]]:
    """One login per level, named after it. A login that exists keeps its password:
    the demo must never reset a real account to a password printed on screen."""
    levels = [lvl for lvl in LoginLevel.values if lvl != LoginLevel.RESELLER]
    existing = set(User.objects.filter(username__in=levels).values_list("username", flat=True))
    created = []
    for level in levels:
        if level not in existing:
            user_save(username=level, password=password, login_level=level)
            created.append(level)
    return created, sorted(existing, key=LoginLevel.values.index)


# The reseller logins: the provider's reseller with the most organizations below it, and
# its sub-reseller with the most.
RESELLER_LOGINS = ("reseller", "subreseller")


def _reseller_logins(password: str) -> tuple[list[str], list[str]]:
    """`reseller` for the largest top-level reseller, `subreseller` for its largest
    sub-reseller ("login (reseller name)"); existing ones are kept as they are."""
    direct = Counter(
        Organization.objects.filter(reseller__isnull=False).values_list("reseller_id", flat=True)
    )
    below = Counter[int]()
    for ancestor, descendant in ResellerLink.objects.values_list("ancestor_id", "descendant_id"):
        below[ancestor] += direct[descendant]
    resellers = list(Reseller.objects.order_by("name_key", "pk"))

    def largest(candidates: list[Reseller]) -> Reseller | None:
        return max(candidates, key=lambda r: below[r.pk], default=None)  # first of a tie

    top = largest([r for r in resellers if r.parent_id is None])
    sub = largest([r for r in resellers if top is not None and r.parent_id == top.pk])
    created, kept = [], []
    for username, reseller in zip(RESELLER_LOGINS, (top, sub), strict=True):
        if reseller is None:
            continue
        label = f"{username} ({reseller.name})"
        if User.objects.filter(username=username).exists():
            kept.append(label)
            continue
        reseller_login_save(username=username, reseller=reseller, password=password)
        created.append(label)
    return created, kept


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
    _link_services(Reseller, "reseller_id", resellers, service_ids)
    _link_services(Organization, "organization_id", organizations, service_ids)


def _link_services(model, owner: str, owners, service_ids: dict[str, int]) -> None:
    """The services each of `owners` (planned resellers or organizations) has, in bulk."""
    through = model.services.through
    through.objects.bulk_create(
        (through(**{owner: o.pk}, service_id=service_ids[s]) for o in owners for s in o.services),
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
