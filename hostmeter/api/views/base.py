"""What every endpoint shares: the level-checked base views, the list view with its
FilterSet and keyset pages, and the error answers."""

from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from hostmeter.accounts.levels import Action
from hostmeter.ids import row_id

from ..serializers import ErrorSerializer

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
        if "pk" in kwargs and row_id(kwargs["pk"]) is None:
            raise Http404
        # PostgreSQL text cannot hold NUL: refuse it here rather than fail in a query.
        if any("\x00" in str(v) for v in kwargs.values()):
            raise Http404
        if any("\x00" in k or "\x00" in v for k, v in request.query_params.items()):
            raise ValidationError({"detail": "Query parameters cannot contain NUL characters."})


class ListView(ListModelMixin, ApiView):
    """A list, a page at a time (follow `next`); a query parameter that cannot be used is a
    400 naming it."""

    # (That docstring is each list's description in the schema.) GET is ListModelMixin's
    # list(): the view's queryset, filtered by its filterset_class, in keyset pages.

    filter_backends = [DjangoFilterBackend]

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


def valid_data(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


CONFLICT = OpenApiResponse(
    ErrorSerializer, description="Not possible in the current state (see detail)."
)


ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Its id.")
DOMAIN = OpenApiParameter(
    "domain",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The domain, e.g. example.com.",
    pattern=r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$",
)
