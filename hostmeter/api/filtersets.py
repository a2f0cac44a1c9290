"""What the API's FilterSets share: query parameters naming a record by its domain, code or
id, true/false flags and choices, refused with the answers the API has always given."""

import django_filters as filters
from django import forms
from django.core.exceptions import ValidationError

from hostmeter.ids import row_id

from .models import ApiToken


class FlagField(forms.Field):
    """true, 1 or yes; false, 0 or no (any case); empty: not filtered."""

    def to_python(self, value) -> bool | None:
        if value in (None, ""):
            return None
        if str(value).lower() in {"true", "1", "yes"}:
            return True
        if str(value).lower() in {"false", "0", "no"}:
            return False
        raise ValidationError("Give true or false.", code="invalid")


class RecordField(forms.Field):
    """The record whose to_field_name (domain, code or id) the parameter gives; empty: not
    filtered. Domains are matched in lower case; an id is digits that fit 64 bits."""

    def __init__(self, *, model, to_field_name: str, **kwargs):
        self.model, self.to_field_name = model, to_field_name
        # where the record is looked for: RecordsFilterSet narrows it to what the login sees
        self.records = model._default_manager.all()
        super().__init__(**kwargs)

    def to_python(self, value):
        raw = value or ""
        if self.to_field_name != "id":
            raw = raw.strip()
        if self.to_field_name == "domain":
            raw = raw.lower()
        if not raw:
            return None
        found = None
        if self.to_field_name != "id" or row_id(raw) is not None:
            found = self.records.filter(**{self.to_field_name: raw}).first()
        if found is None:
            raise ValidationError(
                "No %(noun)s with the %(key)s %(value)s.",
                code="invalid_choice",
                params={
                    "noun": self.model._meta.verbose_name,
                    "key": self.to_field_name,
                    "value": raw,
                },
            )
        return found


class RecordsFilterSet(filters.FilterSet):
    """A FilterSet whose record parameters look only among the records the request's login
    sees: the view sets request.narrow_records(model) (tenancy.access.ScopedApiMixin), so
    that a reseller login is told "No reseller with the domain …" of one outside its
    subtree, as of one that does not exist."""

    @property
    def form(self):
        form = super().form
        narrow = getattr(self.request, "narrow_records", None)
        if narrow is not None:
            for field in form.fields.values():
                if isinstance(field, RecordField):
                    field.records = narrow(field.model)
        return form


class FlagFilter(filters.BooleanFilter):
    field_class = FlagField


class RecordFilter(filters.CharFilter):
    """A record named by its domain (default) or code."""

    field_class = RecordField

    def __init__(self, *args, model, to_field_name: str = "domain", **kwargs):
        super().__init__(*args, model=model, to_field_name=to_field_name, **kwargs)


class RecordIdFilter(filters.NumberFilter):
    """A record named by its id (an integer in the schema)."""

    field_class = RecordField

    def __init__(self, *args, model, **kwargs):
        super().__init__(*args, model=model, to_field_name="id", **kwargs)

    def get_max_validator(self):
        return None  # RecordField checks the id itself


def choice_filter(choices, **kwargs) -> filters.ChoiceFilter:
    """One of the choices ((value, label) pairs), else 400 naming them."""
    values = ", ".join(value for value, _ in choices)
    messages = {"invalid_choice": f"Choose one of: {values}."}
    return filters.ChoiceFilter(choices=choices, error_messages=messages, **kwargs)


class ApiTokenFilterSet(filters.FilterSet):
    user = filters.CharFilter(
        field_name="user__username", help_text="One login's tokens (username)."
    )
    active = FlagFilter(
        field_name="revoked_at", lookup_expr="isnull", help_text="true: only tokens not revoked."
    )

    class Meta:
        model = ApiToken
        fields = ["user", "active"]
