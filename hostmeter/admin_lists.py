"""The admin's change lists, made safe against filters in the address that cannot be run."""

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet, FullResultSet

# Every integer column is at most 64 bits; SQLite refuses to bind a larger Python int
# (OverflowError) where PostgreSQL compares it as a numeric.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class CheckedChangeList(ChangeList):
    """A change list whose query string cannot cause a server error.

    The admin turns any filter in the address (``?cutoff__year=2020``, ``?id__in=1,2``)
    into a query, and refuses a wrong one with IncorrectLookupParameters (the list
    again, without the filters) only when building the queryset fails. Some fail later,
    when the query is compiled or sent: a year before 1 or past 9999
    (``?measured_at__year=0``), a date-hierarchy day at the very end of the calendar
    (``?cutoff__year=9999&cutoff__month=12&cutoff__day=31``), a month past a C long, an
    id past 64 bits in ``__in``. Here every one of them is refused up front, the same
    way."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as exc:  # the date hierarchy's own bounds
            raise _out_of_range(exc) from exc

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        try:
            _, params = queryset.query.sql_with_params()
        except (EmptyResultSet, FullResultSet):
            return queryset  # nothing to send, or no condition: nothing that can fail
        except (ValueError, OverflowError) as exc:
            raise _out_of_range(exc) from exc
        # (a comparison, not `in range(...)`: that walks the range for an int subclass)
        if any(isinstance(p, int) and not INT64_MIN <= p <= INT64_MAX for p in params):
            raise IncorrectLookupParameters("a number in the filter is past 64 bits")
        return queryset


def _out_of_range(exc: Exception) -> IncorrectLookupParameters:
    # Python's own words ("signed integer is greater than maximum") need the context
    return IncorrectLookupParameters(f"a date or number in it is out of range: {exc}")
