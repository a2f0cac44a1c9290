"""The admin, made safe against addresses it cannot use: change-list filters that cannot be
run, initial values of an add form that cannot be ids."""

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import (
    EmptyResultSet,
    FieldDoesNotExist,
    FullResultSet,
    ValidationError,
)

from hostmeter.ids import BIGINT_MAX, BIGINT_MIN


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
        if any(isinstance(p, int) and not BIGINT_MIN <= p <= BIGINT_MAX for p in params):
            raise IncorrectLookupParameters("a number in the filter is past 64 bits")
        return queryset


def _out_of_range(exc: Exception) -> IncorrectLookupParameters:
    # Python's own words ("signed integer is greater than maximum") need the context
    return IncorrectLookupParameters(f"a date or number in it is out of range: {exc}")


class AdminInputMixin:
    """For ModelAdmins: the checked change list, and the reason when it refuses a filter;
    an add form's initial values from the address (``?reseller=3``) kept only when they
    can be ids of the related rows."""

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

    def get_changelist_instance(self, request):
        """Django sends a list whose filters cannot be used back to itself without them
        (``?e=1``) and says nothing; this says why."""
        try:
            return super().get_changelist_instance(request)
        except IncorrectLookupParameters as exc:
            cause = exc.args[0] if exc.args else exc
            reason = "; ".join(cause.messages) if isinstance(cause, ValidationError) else cause
            messages.error(
                request, f"The filter in the address cannot be used ({reason}): the whole list."
            )
            raise

    def get_changeform_initial_data(self, request):
        """Django's widgets for related fields look the initial ids up (the autocomplete
        one with ``pk__in``), and an id that is not one (``?reseller=x``, an empty one, one
        past 64 bits) failed there with a server error; it is left out, and said so."""
        initial = super().get_changeform_initial_data(request)
        for name, value in list(initial.items()):
            try:
                field = self.opts.get_field(name)
            except FieldDoesNotExist:
                continue
            if field.is_relation and field.related_model is not None:
                ids = value if isinstance(value, list) else [value]  # many-to-many: a list
                if not all(_is_id(field.target_field, raw) for raw in ids):
                    del initial[name]
                    messages.warning(
                        request,
                        f"The address's {field.verbose_name} “{','.join(ids)}” is not an id "
                        "of one: left empty.",
                    )
        return initial


def _is_id(target, raw: str) -> bool:
    try:
        value = target.to_python(raw)
    except ValidationError:
        return False
    return not isinstance(value, int) or BIGINT_MIN <= value <= BIGINT_MAX
