"""Keyset ("cursor") pagination: every page is one index range scan, however deep, and
no request counts the table. Fast at a million organizations on both engines
(docs/benchmarks.md, API lists at a million organizations)."""

import base64
import binascii
import json

from django.db.models import Q, QuerySet
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def keyset_filter(fields: tuple[str, ...], values: list) -> Q:
    """Rows after (values) in the order of fields, all ascending or all descending.

    Written as `a >= x AND (a > x OR (a = x AND b > y))` rather than the OR alone, so
    the database starts its index scan at x instead of filtering from the first row.
    """
    descending = fields[0].startswith("-")
    names = [f.lstrip("-") for f in fields]
    op = "lt" if descending else "gt"
    after = Q(**{f"{names[-1]}__{op}": values[-1]})
    for name, value in zip(reversed(names[:-1]), reversed(values[:-1]), strict=True):
        after = Q(**{f"{name}__{op}": value}) | (Q(**{name: value}) & after)
    if len(names) == 1:
        return after
    return Q(**{f"{names[0]}__{op}e": values[0]}) & after


class PageSizeField(serializers.IntegerField):
    """A whole number as Python's int() reads it, within the field's bounds."""

    def to_internal_value(self, data):
        try:
            return int(data)
        except (TypeError, ValueError):
            self.fail("invalid")


class PageQuerySerializer(serializers.Serializer):
    """A list's page parameters; `orderings` are the view's (the first is the default)."""

    page_size = PageSizeField(
        required=False,
        default=PAGE_SIZE,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        error_messages=dict.fromkeys(
            ("invalid", "min_value", "max_value"),
            f"Give a whole number from 1 to {MAX_PAGE_SIZE}.",
        ),
    )
    ordering = serializers.ChoiceField(choices=[], required=False, allow_blank=True)
    cursor = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)

    def __init__(self, *args, orderings: dict[str, tuple[str, ...]], **kwargs):
        super().__init__(*args, **kwargs)
        ordering = self.fields["ordering"]
        ordering.choices = list(orderings)
        ordering.error_messages["invalid_choice"] = f"Choose one of: {', '.join(orderings)}."
        self.default_ordering = next(iter(orderings))

    def validate_ordering(self, value: str) -> str:
        return value or self.default_ordering


class KeysetPagination(BasePagination):
    """Pages of `page_size` rows (default 50, at most 500) with a `next` link.

    The view declares `orderings`: {name: (field, …, unique field)}; the first is the
    default and `?ordering=` picks another. The cursor holds the last row's values of
    those fields, so a row inserted or removed meanwhile shifts nothing.
    """

    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    ordering_query_param = "ordering"

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        self.request = request
        orderings: dict[str, tuple[str, ...]] = view.orderings
        # The last value of each parameter, as QueryDict.get() gives it.
        params = PageQuerySerializer(data=dict(request.query_params.items()), orderings=orderings)
        params.is_valid(raise_exception=True)
        self.key = params.validated_data.get("ordering") or next(iter(orderings))
        self.fields = orderings[self.key]
        size = params.validated_data["page_size"]
        queryset = queryset.order_by(*self.fields)
        if raw := params.validated_data.get("cursor"):
            queryset = queryset.filter(keyset_filter(self.fields, self._decode(raw, queryset)))
        rows = list(queryset[: size + 1])
        self.has_next = len(rows) > size
        self.page = rows[:size]
        return self.page

    def _values(self, row) -> list:
        out = []
        for name in (f.lstrip("-") for f in self.fields):
            value = row
            for part in name.split("__"):
                value = getattr(value, part)
            out.append(value.isoformat() if hasattr(value, "isoformat") else value)
        return out

    def _decode(self, raw: str, queryset: QuerySet) -> list:
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))
            if data["o"] != self.key or len(data["v"]) != len(self.fields):
                raise ValueError("cursor of another ordering")
            values = []
            for name, value in zip(self.fields, data["v"], strict=True):
                field = queryset.model._meta.get_field(name.lstrip("-").split("__")[0])
                values.append(field.to_python(value))
            return values
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise ValidationError(
                {"cursor": ["Invalid cursor: use the next link of the previous page."]}
            ) from exc
        except Exception as exc:  # a field's to_python refusing the value
            raise ValidationError({"cursor": ["Invalid cursor."]}) from exc

    def _encode(self, row) -> str:
        data = json.dumps({"o": self.key, "v": self._values(row)}, separators=(",", ":"))
        return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.page:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self._encode(self.page[-1]))

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page, or null on the last page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        orderings = list(getattr(view, "orderings", {}) or ["id"])
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "Where the page starts: copy it from the previous page's next.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"Rows per page, 1 to {MAX_PAGE_SIZE} (default {PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
            {
                "name": self.ordering_query_param,
                "in": "query",
                "required": False,
                "description": f"Sort order (default {orderings[0]}); - is descending.",
                "schema": {"type": "string", "enum": orderings},
            },
        ]
