"""What every endpoint shares: the level-checked base views, query-parameter parsing
and the error answers."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from hostmeter.accounts.levels import Action
from hostmeter.metering.models import UsageUpdate

from .. import selectors
from .. import serializers as s

VIEW, REPORTS, TENANCY, SCHEDULE = (
    Action.VIEW_USAGE,
    Action.GENERATE_REPORTS,
    Action.MANAGE_TENANCY,
    Action.MANAGE_SCHEDULE,
)


BY_NAME = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "domain": ("domain",),
    "-domain": ("-domain",),
    "id": ("id",),
    "-id": ("-id",),
}


def param(name: str, description: str, type=OpenApiTypes.STR, **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, type, OpenApiParameter.QUERY, description=description, **kwargs)


def flag_param(request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in {"true", "1", "yes"}:
        return True
    if raw.lower() in {"false", "0", "no"}:
        return False
    raise ValidationError({name: ["Give true or false."]})


def domain_param(request, name: str, model):
    """The reseller or organization a query parameter names by domain (None if absent)."""
    raw = (request.query_params.get(name) or "").strip().lower()
    if not raw:
        return None
    found = model.objects.filter(domain=raw).first()
    if found is None:
        noun = model._meta.verbose_name
        raise ValidationError({name: [f"No {noun} with the domain {raw}."]})
    return found


def code_param(request, name: str, model):
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return None
    found = model.objects.filter(code=raw).first()
    if found is None:
        raise ValidationError({name: [f"No {model._meta.verbose_name} with the code {raw}."]})
    return found


def choice_param(request, name: str, choices) -> str | None:
    raw = request.query_params.get(name) or None
    if raw is not None and raw not in choices:
        raise ValidationError({name: [f"Choose one of: {', '.join(choices)}."]})
    return raw


def created(data, url: str, code=status.HTTP_201_CREATED) -> Response:
    return Response(data, status=code, headers={"Location": url})


class ApiView(GenericAPIView):
    """Every endpoint: level_actions maps an HTTP method to the levels.Action it needs."""

    level_actions: dict[str, str] = {}
    ingest = False  # only the ingest endpoint takes ingest-only tokens

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Ids are matched as any path segment and checked here, so that a bad one gets the
        # API's JSON 404, and no lookup overflows a 64-bit column.
        if "pk" in kwargs and not (kwargs["pk"].isascii() and kwargs["pk"].isdigit()):
            raise Http404
        if "pk" in kwargs and len(kwargs["pk"]) > 18:
            raise Http404
        # PostgreSQL text cannot hold NUL: refuse it here rather than fail in a query.
        if any("\x00" in str(v) for v in kwargs.values()):
            raise Http404
        if any("\x00" in k or "\x00" in v for k, v in request.query_params.items()):
            raise ValidationError({"detail": "Query parameters cannot contain NUL characters."})


class ListView(ListModelMixin, ApiView):
    """A paginated list (ListModelMixin tells the schema so; its list() is not used: each
    view builds its queryset from its query parameters)."""

    def list_response(self, queryset, serializer_class=None):
        page = self.paginate_queryset(queryset)
        cls = serializer_class or self.get_serializer_class()
        data = cls(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


def valid_data(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


CONFLICT = OpenApiResponse(
    s.ErrorSerializer, description="Not possible in the current state (see detail)."
)


ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Its id.")
DOMAIN = OpenApiParameter(
    "domain",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The domain, e.g. example.com.",
    pattern=r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$",
)
UPDATE_KEY = OpenApiParameter(
    "update",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="A usage update's id, or `latest` for the most recent completed one.",
    pattern=r"^(latest|[0-9]+)$",
)


def update_or_404(key: str, *, completed: bool = False) -> UsageUpdate:
    update = selectors.usage_update_find(key)
    if update is None:
        raise Http404("No such usage update (or no completed one yet, for latest).")
    if completed and update.status != UsageUpdate.Status.SUCCEEDED:
        raise Conflict(
            f"The usage update is {update.get_status_display().lower()}: its usage figures "
            "exist once it is completed."
        )
    return update
