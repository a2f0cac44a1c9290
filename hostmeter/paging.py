"""Pages of long lists: Django's paginator, counting and slicing the cheap way."""

from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.utils.functional import cached_property

PER_PAGE = 25

_M = TypeVar("_M", bound=Model)


class _Paginator(Paginator[_M]):
    """Counts the rows of another queryset: the list's filters without its joins."""

    object_list: QuerySet[_M]

    def __init__(
        self,
        object_list: QuerySet[_M],
        per_page: int,
        *,
        count_of: QuerySet[Any],
        ids_of: QuerySet[Any] | None = None,
    ):
        super().__init__(object_list, per_page)
        self.count_of = count_of
        self.ids_of = object_list if ids_of is None else ids_of

    @cached_property
    def count(self) -> int:
        return self.count_of.count()

    def page(self, number: int | str) -> Page[_M]:
        """The page's ids first (from ids_of: the same order with only the joins it
        needs), then its rows: an OFFSET deep into a long list skips bare ids, not rows
        joined to their reseller and report (docs/benchmarks.md, Usage pages, "The fixes,
        shipped": the other sorts of the organization list)."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        return Page(slice_in_order(self.ids_of, self.object_list, bottom, top), number, self)


def slice_in_order(ids_of: QuerySet[Any], rows: QuerySet[_M], start: int, stop: int) -> list[_M]:
    """rows[start:stop] in the order of ids_of: the ids first, then those rows."""
    ids = list(ids_of.values_list("pk", flat=True)[start:stop])
    found = {row.pk: row for row in rows.filter(pk__in=ids).order_by()} if ids else {}
    return [found[pk] for pk in ids]


def page_of(
    qs: QuerySet[_M],
    page: int | str | None,
    per_page: int,
    *,
    count_of: QuerySet[Any] | None = None,
    ids_of: QuerySet[Any] | None = None,
) -> Page[_M]:
    if count_of is None:
        return Paginator(qs, per_page).get_page(page)
    return _Paginator(qs, per_page, count_of=count_of, ids_of=ids_of).get_page(page)
