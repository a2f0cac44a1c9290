"""Imports resellers: the whole tree is held in memory, so a row may name a parent
further down the file, and unknown parents and cycles are refused row by row."""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from hostmeter.readers import RowError

from ..models import Reseller, Service
from ..services import reseller_links_rebuild
from .rows import (
    RowRejected,
    Rows,
    TenancyImportResult,
    _domain,
    _listed_twice,
    _reason,
    _service_codes,
    _text,
)

RESELLER_COLUMNS = ("name", "domain", "parent_domain", "services")


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
