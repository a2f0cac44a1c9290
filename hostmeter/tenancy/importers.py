"""Import the customer base from files: resellers, organizations and limits.

Rows come as (line number, fields) pairs (see hostmeter.metering.readers) and
are upserted by domain: importing the same file again changes nothing. Every
good row is stored even when others are bad; each row is saved in its own
savepoint, and a bad one becomes a RowError with a reason naming the column.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q

from hostmeter.fields import to_thousandths
from hostmeter.metering.services import RowError

from .models import Organization, Reseller, Resource, ResourceLimit, Service
from .services import limit_set, organization_save, reseller_links_rebuild

RESELLER_COLUMNS = ("name", "domain", "parent_domain", "services")
ORGANIZATION_COLUMNS = ("name", "domain", "reseller_domain", "services")
LIMIT_COLUMNS = ("kind", "domain", "resource", "limit")
PROVIDER, RESELLER, ORGANIZATION = LIMIT_KINDS = ("provider", "reseller", "organization")

# Rows whose domains are looked up together: one query per batch, not per row.
BATCH = 500
# A QuantityField is a BIGINT of thousandths.
MAX_THOUSANDTHS = 2**63 - 1

Rows = Iterable[tuple[int, Mapping[str, object]]]
T = TypeVar("T")


@dataclass
class TenancyImportResult:
    """What an import did: rows created, updated, left unchanged, and the bad ones."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def received(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.errors)


class RowRejected(Exception):
    """A row that cannot be imported; its message is the reason."""


# ---------------------------------------------------------------- resellers


@dataclass
class _ResellerRow:
    line: int
    name: str
    domain: str
    parent_domain: str
    services: frozenset[str]


def tenancy_import_resellers(*, rows: Rows) -> TenancyImportResult:
    """Creates or updates resellers by domain, parents before their sub-resellers.

    A row may name a parent that comes later in the file; rows whose parents
    never turn up, or that would make the tree a cycle, are refused. The tree
    closure is rebuilt once at the end, and contact details (not in the file)
    are kept.
    """
    result = TenancyImportResult()
    with transaction.atomic():
        tree = _ResellerTree(result)
        for line, fields in rows:
            tree.take(line, fields)
        tree.finish()
        if tree.changed:
            reseller_links_rebuild()
    result.errors.sort(key=lambda e: e.line)
    return result


class _ResellerTree:
    """Every reseller in memory, so that parents and cycles are checked without a
    query per row: there are thousands of resellers, not millions."""

    def __init__(self, result: TenancyImportResult):
        self.result = result
        self.catalog = {s.code: s for s in Service.objects.all()}
        self.by_domain: dict[str, Reseller] = {}
        by_id = {}
        for reseller in Reseller.objects.all():
            self.by_domain[reseller.domain] = by_id[reseller.pk] = reseller
        for reseller in by_id.values():
            # Linked in memory: Reseller.clean() walks the ancestors without queries.
            reseller.parent = by_id.get(reseller.parent_id)
        grouped = defaultdict(set)
        for pk, code in Reseller.services.through.objects.values_list(
            "reseller_id", "service__code"
        ):
            grouped[pk].add(code)
        self.services = defaultdict(frozenset, {pk: frozenset(c) for pk, c in grouped.items()})
        self.seen: dict[str, int] = {}  # domain → line, to refuse a domain listed twice
        self.failed: dict[str, int] = {}  # domain → line of a refused row
        self.pending: dict[str, _ResellerRow] = {}  # rows whose parent is not known yet
        self.waiting: dict[str, list[_ResellerRow]] = defaultdict(list)  # parent → rows
        self.changed = False

    def take(self, line: int, fields: Mapping[str, object]) -> None:
        try:
            row = _ResellerRow(
                line=line,
                name=_text(fields, "name"),
                domain=_domain(fields, "domain", required=True),
                parent_domain=_domain(fields, "parent_domain"),
                services=_service_codes(fields, self.catalog),
            )
        except RowRejected as exc:
            self.result.errors.append(RowError(line, str(exc)))
            if domain := _domain(fields, "domain"):
                self.failed.setdefault(domain, line)
            return
        if (first := self.seen.setdefault(row.domain, line)) != line:
            self.result.errors.append(RowError(line, _listed_twice(row.domain, first)))
        elif row.parent_domain == row.domain:
            self._reject(row, "parent_domain: a reseller cannot be its own parent")
        elif not row.parent_domain or row.parent_domain in self.by_domain:
            self._store_with_children(row)
        elif row.parent_domain in self.failed:
            self._reject(row, self._parent_failed(row.parent_domain))
        else:
            self.pending[row.domain] = row
            self.waiting[row.parent_domain].append(row)

    def finish(self) -> None:
        """Refuses what still waits for its parent: cycles, then unknown parents."""
        for row in sorted(self.pending.values(), key=lambda r: r.line):
            if row.domain in self.pending and (loop := self._loop_from(row)):
                path = " → ".join([r.domain for r in loop] + [loop[0].domain])
                for member in loop:
                    self.pending.pop(member.domain)
                for member in loop:
                    self._reject(member, f"parent_domain: the parents make a cycle ({path})")
        for row in sorted(self.pending.values(), key=lambda r: r.line):
            # Only the rows at the top of a waiting chain: the rest follow them.
            if row.domain not in self.pending or row.parent_domain in self.pending:
                continue
            if row.parent_domain in self.failed:
                self._reject(row, self._parent_failed(row.parent_domain))
            else:
                self._reject(
                    row,
                    f"parent_domain: no reseller with the domain “{row.parent_domain}” "
                    "(neither stored nor in this file)",
                )

    def _loop_from(self, row: _ResellerRow) -> list[_ResellerRow]:
        chain, on_chain = [row], {row.domain}
        parent = row.parent_domain
        while parent in self.pending and parent not in on_chain:
            chain.append(self.pending[parent])
            on_chain.add(parent)
            parent = self.pending[parent].parent_domain
        if parent not in on_chain:
            return []
        return chain[[r.domain for r in chain].index(parent) :]

    def _store_with_children(self, row: _ResellerRow) -> None:
        # A queue rather than recursion: a deep tree listed bottom-up is fine.
        queue = [row]
        while queue:
            row = queue.pop()
            try:
                self._store(row)
            except RowRejected as exc:
                self._reject(row, str(exc))
                continue
            for child in self.waiting.pop(row.domain, []):
                if self.pending.pop(child.domain, None) is not None:
                    queue.append(child)

    def _reject(self, row: _ResellerRow, reason: str) -> None:
        """Refuses a row, and the rows waiting for it as their parent."""
        queue = [(row, reason)]
        while queue:
            row, reason = queue.pop()
            self.pending.pop(row.domain, None)
            self.result.errors.append(RowError(row.line, reason))
            self.failed.setdefault(row.domain, row.line)
            for child in self.waiting.pop(row.domain, []):
                if child.domain in self.pending:
                    queue.append((child, self._parent_failed(row.domain)))

    def _parent_failed(self, parent: str) -> str:
        return (
            f"parent_domain: the parent reseller “{parent}” (line {self.failed[parent]}) "
            "was not imported"
        )

    def _store(self, row: _ResellerRow) -> None:
        reseller = self.by_domain.get(row.domain)
        parent = self.by_domain.get(row.parent_domain) if row.parent_domain else None
        created = reseller is None
        if created:
            reseller = Reseller(domain=row.domain)
        else:
            same_parent = reseller.parent_id == (parent.pk if parent else None)
            if same_parent and (reseller.name, self.services[reseller.pk]) == (
                row.name,
                row.services,
            ):
                self.result.unchanged += 1
                return
            self._refuse_cycle(reseller, parent)
        old_name, old_parent, old_parent_id = reseller.name, reseller.parent, reseller.parent_id
        reseller.name, reseller.parent = row.name, parent
        try:
            with transaction.atomic():
                reseller.full_clean()
                reseller.save()
                if created or self.services[reseller.pk] != row.services:
                    reseller.services.set([self.catalog[code] for code in row.services])
        except (ValidationError, DatabaseError) as exc:
            # The savepoint is gone; the copy in memory must not pretend otherwise.
            reseller.name, reseller.parent = old_name, old_parent
            raise RowRejected(_reason(exc, {"parent": "parent_domain"})) from None
        self.changed = self.changed or created or old_parent_id != reseller.parent_id
        self.by_domain[row.domain] = reseller
        self.services[reseller.pk] = row.services
        if created:
            self.result.created += 1
        else:
            self.result.updated += 1

    def _refuse_cycle(self, reseller: Reseller, parent: Reseller | None) -> None:
        chain, ancestor = [], parent
        while ancestor is not None:
            chain.append(ancestor.domain)
            if ancestor.pk == reseller.pk:
                path = " → ".join(reversed(chain))
                raise RowRejected(
                    f"parent_domain: “{parent.domain}” is a sub-reseller of “{reseller.domain}” "
                    f"({path}); a reseller cannot be its own ancestor"
                )
            ancestor = ancestor.parent


# ---------------------------------------------------------------- organizations


@dataclass
class _OrganizationRow:
    line: int
    name: str
    domain: str
    reseller_domain: str
    services: frozenset[str]


def tenancy_import_organizations(*, rows: Rows) -> TenancyImportResult:
    """Creates or updates organizations by domain, with their reseller and services.

    Existing organizations are changed with organization_save, one savepoint
    each; new ones are validated the same way and created in bulk per batch,
    as a first import of a customer base can hold 100,000 of them.
    """
    result = TenancyImportResult()
    catalog = {s.code: s for s in Service.objects.all()}
    seen: dict[str, int] = {}
    for batch in _batches(rows):
        parsed = []
        for line, fields in batch:
            try:
                row = _OrganizationRow(
                    line=line,
                    name=_text(fields, "name"),
                    domain=_domain(fields, "domain", required=True),
                    reseller_domain=_domain(fields, "reseller_domain"),
                    services=_service_codes(fields, catalog),
                )
                if (first := seen.setdefault(row.domain, line)) != line:
                    raise RowRejected(_listed_twice(row.domain, first))
            except RowRejected as exc:
                result.errors.append(RowError(line, str(exc)))
                continue
            parsed.append(row)
        with transaction.atomic():
            _store_organizations(parsed, catalog=catalog, result=result)
    result.errors.sort(key=lambda e: e.line)
    return result


def _store_organizations(
    rows: list[_OrganizationRow], *, catalog: Mapping[str, Service], result: TenancyImportResult
) -> None:
    existing = Organization.objects.in_bulk([r.domain for r in rows], field_name="domain")
    resellers = Reseller.objects.in_bulk(
        [r.reseller_domain for r in rows if r.reseller_domain], field_name="domain"
    )
    services = defaultdict(set)
    for org_id, code in Organization.services.through.objects.filter(
        organization__in=existing.values()
    ).values_list("organization_id", "service__code"):
        services[org_id].add(code)
    new = []
    for row in rows:
        try:
            reseller = None
            if row.reseller_domain and (reseller := resellers.get(row.reseller_domain)) is None:
                raise RowRejected(
                    f"reseller_domain: no reseller with the domain “{row.reseller_domain}”"
                )
            organization = existing.get(row.domain)
            if organization is None:
                candidate = Organization(name=row.name, domain=row.domain, reseller=reseller)
                # organization_save's checks without their queries: the reseller was
                # just looked up, and the domain is new (its unique index still guards).
                candidate.full_clean(exclude=["reseller"], validate_unique=False)
                new.append((row.line, (candidate, row.services)))
            elif (organization.name, organization.reseller_id, services[organization.pk]) == (
                row.name,
                reseller.pk if reseller else None,
                row.services,
            ):
                result.unchanged += 1
            else:
                # organization_save is atomic: inside this batch, a savepoint.
                organization_save(
                    organization=organization,
                    name=row.name,
                    domain=row.domain,
                    reseller=reseller,
                    services=row.services,
                )
                result.updated += 1
        except RowRejected as exc:
            result.errors.append(RowError(row.line, str(exc)))
        except (ValidationError, DatabaseError) as exc:
            result.errors.append(RowError(row.line, _organization_reason(exc)))

    def create_all(items: list[tuple[Organization, frozenset[str]]]) -> None:
        Organization.objects.bulk_create([organization for organization, _ in items])
        ids = dict(
            Organization.objects.filter(domain__in=[o.domain for o, _ in items]).values_list(
                "domain", "id"
            )
        )
        through = Organization.services.through
        through.objects.bulk_create(
            [
                through(organization_id=ids[organization.domain], service_id=catalog[code].pk)
                for organization, codes in items
                for code in codes
            ]
        )

    def create_one(item: tuple[Organization, frozenset[str]]) -> None:
        organization, codes = item
        organization_save(
            name=organization.name,
            domain=organization.domain,
            reseller=organization.reseller,
            services=codes,
        )

    _create_in_bulk(
        new, bulk=create_all, one=create_one, reason=_organization_reason, result=result
    )


def _organization_reason(exc: ValidationError | DatabaseError) -> str:
    return _reason(exc, {"reseller": "reseller_domain"})


# ---------------------------------------------------------------- limits


@dataclass
class _LimitRow:
    line: int
    kind: str
    domain: str
    resource: Resource
    limit: Decimal


def tenancy_import_limits(*, rows: Rows) -> TenancyImportResult:
    """Sets the provider's, resellers' and organizations' limits per resource.

    kind is provider (domain empty), reseller or organization (domain names it).
    Changed limits go through limit_set; new ones are validated the same way
    and created in bulk per batch.
    """
    result = TenancyImportResult()
    catalog = {r.code: r for r in Resource.objects.all()}
    seen: dict[tuple[str, str, str], int] = {}
    for batch in _batches(rows):
        parsed = []
        for line, fields in batch:
            try:
                kind, domain = _text(fields, "kind").lower(), _domain(fields, "domain")
                if kind not in LIMIT_KINDS:
                    raise RowRejected(f"kind: “{kind}” is not one of {', '.join(LIMIT_KINDS)}")
                if kind == PROVIDER and domain:
                    raise RowRejected("domain: must be empty for the provider's limit")
                if kind != PROVIDER and not domain:
                    raise RowRejected(f"domain: empty; a {kind}'s limit needs its domain")
                code = _text(fields, "resource")
                if (resource := catalog.get(code)) is None:
                    raise RowRejected(f"resource: no resource with the code “{code}”")
                row = _LimitRow(line, kind, domain, resource, _limit(_text(fields, "limit")))
                if (first := seen.setdefault((kind, domain, code), line)) != line:
                    raise RowRejected(f"the same limit is also on line {first}")
            except RowRejected as exc:
                result.errors.append(RowError(line, str(exc)))
                continue
            parsed.append(row)
        with transaction.atomic():
            _store_limits(parsed, result=result)
    result.errors.sort(key=lambda e: e.line)
    return result


def _store_limits(rows: list[_LimitRow], *, result: TenancyImportResult) -> None:
    holders = {
        kind: model.objects.in_bulk([r.domain for r in rows if r.kind == kind], field_name="domain")
        for kind, model in ((RESELLER, Reseller), (ORGANIZATION, Organization))
    }
    current = {
        (lim.resource_id, lim.reseller_id, lim.organization_id): lim.limit
        for lim in ResourceLimit.objects.filter(
            Q(reseller__in=holders[RESELLER].values())
            | Q(organization__in=holders[ORGANIZATION].values())
            | Q(reseller=None, organization=None)
        )
    }
    new = []
    for row in rows:
        holder = {}
        if row.kind != PROVIDER:
            if (found := holders[row.kind].get(row.domain)) is None:
                reason = f"domain: no {row.kind} with the domain “{row.domain}”"
                result.errors.append(RowError(row.line, reason))
                continue
            holder[row.kind] = found
        candidate = ResourceLimit(resource=row.resource, limit=row.limit, **holder)
        old = current.get((candidate.resource_id, candidate.reseller_id, candidate.organization_id))
        try:
            if old is None:
                # limit_set's checks without their queries: the holder was just looked up.
                candidate.full_clean(
                    exclude=["resource", "reseller", "organization"], validate_constraints=False
                )
                new.append((row.line, candidate))
            elif old == row.limit:
                result.unchanged += 1
            else:
                with transaction.atomic():
                    limit_set(resource=row.resource, limit=row.limit, **holder)
                result.updated += 1
        except (ValidationError, DatabaseError) as exc:
            result.errors.append(RowError(row.line, _reason(exc, {})))

    def create_one(limit: ResourceLimit) -> None:
        limit_set(
            resource=limit.resource,
            limit=limit.limit,
            reseller=limit.reseller,
            organization=limit.organization,
        )

    _create_in_bulk(
        new,
        bulk=ResourceLimit.objects.bulk_create,
        one=create_one,
        reason=lambda exc: _reason(exc, {}),
        result=result,
    )


def _limit(text: str) -> Decimal:
    if not text:
        raise RowRejected("limit: empty")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowRejected(f"limit: “{text}” is not a number") from None
    if not value.is_finite():
        raise RowRejected(f"limit: “{text}” is not a number")
    if value < 0:
        raise RowRejected(f"limit: {text} is negative")
    try:
        thousandths = to_thousandths(value)
    except ValueError:
        raise RowRejected(f"limit: {text} has more than three decimal places") from None
    if thousandths > MAX_THOUSANDTHS:
        raise RowRejected(f"limit: {text} is too large")
    return value


# ---------------------------------------------------------------- fields


def _create_in_bulk(
    new: list[tuple[int, T]],
    *,
    bulk: Callable[[list[T]], object],
    one: Callable[[T], object],
    reason: Callable[[Exception], str],
    result: TenancyImportResult,
) -> None:
    """Creates validated new rows with one bulk insert in a savepoint.

    If the database refuses it (say a domain added meanwhile by someone else),
    they are created one at a time with the service, so that only the row at
    fault is refused.
    """
    if not new:
        return
    try:
        with transaction.atomic():
            bulk([item for _, item in new])
    except DatabaseError:
        for line, item in new:
            try:
                with transaction.atomic():
                    one(item)
            except (ValidationError, DatabaseError) as exc:
                result.errors.append(RowError(line, reason(exc)))
                continue
            result.created += 1
    else:
        result.created += len(new)


def _batches(rows: Rows) -> Iterator[list[tuple[int, Mapping[str, object]]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def _text(fields: Mapping[str, object], key: str) -> str:
    value = fields.get(key)
    return "" if value is None else str(value).strip()


def _domain(fields: Mapping[str, object], key: str, *, required: bool = False) -> str:
    # As the models store it: the lookups and the duplicate check compare
    # domains before the models get to normalise them.
    domain = _text(fields, key).lower()
    if required and not domain:
        raise RowRejected(f"{key}: empty")
    return domain


def _listed_twice(domain: str, first: int) -> str:
    # Two rows for one domain would each undo the other on every import.
    return f"domain: “{domain}” is also on line {first}"


def _service_codes(fields: Mapping[str, object], catalog: Mapping[str, Service]) -> frozenset[str]:
    """Codes separated by spaces (commas are forgiven), or a JSON list of codes."""
    value = fields.get("services")
    if isinstance(value, list):
        codes = frozenset(str(v).strip() for v in value if str(v).strip())
    else:
        codes = frozenset(c for c in re.split(r"[\s,]+", _text(fields, "services")) if c)
    if unknown := codes - catalog.keys():
        raise RowRejected(
            f"services: unknown service code(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(catalog)})"
        )
    return codes


def _reason(exc: ValidationError | DatabaseError, columns: Mapping[str, str]) -> str:
    """A readable reason naming the file's column (e.g. parent_domain for parent)."""
    if isinstance(exc, DatabaseError):
        return f"could not be stored: {exc}"
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    parts = []
    for name, messages in exc.message_dict.items():
        text = " ".join(messages)
        parts.append(text if name == NON_FIELD_ERRORS else f"{columns.get(name, name)}: {text}")
    return "; ".join(parts)
