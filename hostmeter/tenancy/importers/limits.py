"""Imports the provider's, resellers' and organizations' limits per resource, per
batch: changed ones go through limit_set, new ones are validated and created in bulk."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q

from hostmeter.fields import QuantityError, quantity_parse
from hostmeter.readers import RowError

from ..models import Organization, Reseller, Resource, ResourceLimit
from ..services import limit_set
from .rows import (
    RowRejected,
    Rows,
    TenancyImportResult,
    _batches,
    _create_in_bulk,
    _domain,
    _reason,
    _text,
)

LIMIT_COLUMNS = ("kind", "domain", "resource", "limit")
PROVIDER, RESELLER, ORGANIZATION = LIMIT_KINDS = ("provider", "reseller", "organization")


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
        return quantity_parse(text)[0]
    except QuantityError as exc:
        raise RowRejected(f"limit: {exc.problem.about(text)}") from None
