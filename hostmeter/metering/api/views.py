"""Usage updates (list, the most recent, one, run one now), the usage figures of an update
for the provider, a reseller or an organization, and the ingest of usage samples."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from hostmeter.api.permissions import INGEST
from hostmeter.api.serializers import ErrorSerializer
from hostmeter.api.views.base import (
    BY_NAME,
    CONFLICT,
    DOMAIN,
    SCHEDULE,
    VIEW,
    ApiView,
    Conflict,
    ListView,
    created,
    valid_data,
)
from hostmeter.metering import selectors as figures
from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.scope import scope_at
from hostmeter.metering.services.updates import (
    UsageUpdateError,
    UsageUpdatePending,
    usage_update_start,
)
from hostmeter.tenancy.access import ScopedApiMixin
from hostmeter.tenancy.models import Organization, Reseller

from . import filtersets as f
from . import ingest, selectors
from . import serializers as s
from .ingest import UnreadBodyParser

UPDATE_KEY = OpenApiParameter(
    "update",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="A usage update's id, or `latest` for the most recent completed one.",
    pattern=r"^(latest|[0-9]+)$",
)


PERIOD = OpenApiParameter(
    "period",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description=f"{s.PERIOD_HELP} Only with `latest`: that period's update.",
    pattern=r"^[0-9]{4}-[0-9]{2}$",
)


def update_or_404(request, key: str, *, completed: bool = False) -> UsageUpdate:
    """The update the request names: by id, `latest`, or `latest` with ?period=YYYY-MM
    (400 for a period that has no figures)."""
    query = s.UpdatePeriodSerializer(
        data=dict(request.query_params.items()), context={"update_key": key}
    )
    query.is_valid(raise_exception=True)
    update = selectors.usage_update_find(key, period=query.validated_data.get("period"))
    if update is None:
        raise Http404("No such usage update (or no completed one yet, for latest).")
    if completed and update.status != UsageUpdate.Status.SUCCEEDED:
        raise Conflict(
            f"The usage update is {update.get_status_display().lower()}: its usage figures "
            "exist once it is completed."
        )
    return update


# ---------------------------------------------------------------- usage updates


@extend_schema_view(get=extend_schema(summary="List usage updates"))
@extend_schema(tags=["usage"])
class UsageUpdateListView(ScopedApiMixin, ListView):
    level_actions = {"GET": VIEW, "POST": SCHEDULE}
    reseller_scoped = True  # when updates ran: the provider's details are left out
    serializer_class = s.UsageUpdateSerializer
    queryset = UsageUpdate.objects.select_related("requested_by")
    filterset_class = f.UsageUpdateFilterSet
    orderings = {"-cutoff": ("-cutoff",), "cutoff": ("cutoff",)}

    @extend_schema(
        summary="Run a usage update now (Systems)",
        description="Queues an update as of now (or a past cut-off) for the task worker; "
        "answers 202 with the update to poll. 409 while another one is queued or running.",
        request=s.UsageUpdateStartSerializer,
        responses={202: s.UsageUpdateSerializer, 200: s.UsageUpdateSerializer, 409: CONFLICT},
    )
    def post(self, request):
        data = valid_data(s.UsageUpdateStartSerializer, request)
        try:
            update = usage_update_start(user=request.user, cutoff=data.get("cutoff"))
        except UsageUpdatePending as exc:
            raise Conflict(str(exc)) from exc
        except UsageUpdateError as exc:
            raise ValidationError({"cutoff": [str(exc)]}) from exc
        body = self.get_serializer(update).data
        done = update.status == UsageUpdate.Status.SUCCEEDED
        return created(body, body["url"], status.HTTP_200_OK if done else status.HTTP_202_ACCEPTED)


def _freeze(view: ScopedApiMixin, update: UsageUpdate) -> None:
    """The view's scope as this update froze the reseller tree (metering.scope), for its
    lookups and its FilterSet's record parameters alike."""
    view.scope = scope_at(view.scope, update)
    view.request.narrow_records = view.scope.records  # type: ignore[attr-defined]


# One update's endpoints (GET /usage-updates/<update>/…): the update as named by its key
# (a comment, not a docstring: a view's docstring is its description in the schema).
@extend_schema(tags=["usage"], parameters=[UPDATE_KEY, PERIOD])
class UpdateView(ScopedApiMixin, ApiView):
    level_actions = {"GET": VIEW}
    reseller_scoped = True  # each subclass narrows what it shows to the login's scope


class UsageUpdateDetailView(UpdateView):
    serializer_class = s.UsageUpdateSerializer

    @extend_schema(
        summary="One usage update (or the most recent completed: latest)",
        description="`latest?period=YYYY-MM`: the update that shows that billing period's "
        "figures (a closed period's update as of its end).",
    )
    def get(self, request, update):
        return Response(self.get_serializer(update_or_404(request, update)).data)


def _ref(update: UsageUpdate, context: dict) -> dict:
    return {
        "id": update.pk,
        "cutoff": update.cutoff,
        "period": s.period_key(update, context),
        "closes_period": update.closes_period,
    }


# A completed update's usage figures, beside the update they are of: the subclass gives
# them (figures(), given the update and the URL's other parts).
class FiguresView(UpdateView):
    def figures(self, update: UsageUpdate, **kwargs) -> dict:
        raise NotImplementedError

    def get(self, request, update, **kwargs):
        found = update_or_404(request, update, completed=True)
        _freeze(self, found)
        data = {"update": _ref(found, self.get_serializer_context())}
        return Response(self.get_serializer(data | self.figures(found, **kwargs)).data)


@extend_schema_view(
    get=extend_schema(
        summary="The provider's summary in an update",
        description="Counts, and per service and resource: limit, sold (allocated), "
        "available, used and usage %. 409 if the update is not completed. To a reseller "
        "login, its own reseller's: its limits, what it allocated, its subtree's usage.",
        responses={200: s.SummaryUsageSerializer, 409: CONFLICT},
    )
)
class SummaryUsageView(FiguresView):
    serializer_class = s.SummaryUsageSerializer

    def figures(self, update: UsageUpdate) -> dict:
        if self.scope.whole:
            summary = figures.provider_summary(update=update)
        else:
            summary = figures.reseller_summary(reseller=self.scope.reseller(), update=update)
        return {"counts": summary["counts"], "services": summary["services"]}


# A reseller's or an organization's usage: the subclass names the subject's queryset and
# its figures.
class SubjectUsageView(FiguresView):
    subjects = None

    def usage(self, subject, update: UsageUpdate) -> dict:
        raise NotImplementedError

    def figures(self, update: UsageUpdate, domain: str) -> dict:
        seen = self.scope.holders(self.subjects.model, self.subjects)
        return self.usage(get_object_or_404(seen, domain=domain.lower()), update)


@extend_schema_view(
    get=extend_schema(
        summary="A reseller's usage in an update (sub-resellers included)",
        responses={200: s.ResellerUsageSerializer, 409: CONFLICT},
    )
)
@extend_schema(parameters=[DOMAIN])
class ResellerUsageView(SubjectUsageView):
    serializer_class = s.ResellerUsageSerializer
    subjects = Reseller.objects.all()

    def usage(self, subject: Reseller, update: UsageUpdate) -> dict:
        overview = figures.reseller_overview(reseller=subject, update=update)
        return {
            "reseller": subject.domain,
            "name": subject.name,
            "counts": overview["counts"],
            "services": overview["figures"],
        }


@extend_schema_view(
    get=extend_schema(
        summary="An organization's usage in an update",
        responses={200: s.OrganizationUsageSerializer, 409: CONFLICT},
    )
)
@extend_schema(parameters=[DOMAIN])
class OrganizationUsageView(SubjectUsageView):
    serializer_class = s.OrganizationUsageSerializer
    subjects = Organization.objects.select_related("reseller")

    def usage(self, subject: Organization, update: UsageUpdate) -> dict:
        return {
            "organization": subject.domain,
            "name": subject.name,
            "reseller": subject.reseller.domain if subject.reseller else None,
            "services": figures.organization_figures(update=update, organization=subject),
        }


@extend_schema(tags=["usage"], parameters=[UPDATE_KEY, PERIOD])
class UpdateOrganizationsView(ScopedApiMixin, ListView):
    level_actions = {"GET": VIEW}
    reseller_scoped = True
    serializer_class = s.OrganizationUsageRowSerializer
    # The model, for the schema's filter parameters; get() lists the update's organizations.
    queryset = Organization.objects.none()
    filterset_class = f.UpdateOrganizationFilterSet
    orderings = BY_NAME

    @extend_schema(
        summary="Every organization's usage in an update, page by page",
        description="What a billing system pulls: per organization, each resource's used "
        "and limit as frozen by the update. 409 if the update is not completed.",
        responses={200: s.OrganizationUsageRowSerializer(many=True), 409: CONFLICT},
    )
    def get(self, request, update):
        found = update_or_404(request, update, completed=True)
        _freeze(self, found)
        frozen = selectors.update_organizations_query(update=found)
        qs = self.filter_queryset(self.scope.organizations(frozen))
        page = self.paginate_queryset(qs)
        selectors.update_usage_cells(update=found, organizations=page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# ---------------------------------------------------------------- ingest


def _ingest_description() -> str:
    return (
        "Stores usage samples from collectors: a JSON array of sample objects "
        "(`application/json`), CSV with a header row (`text/csv`) or JSON lines "
        "(`application/x-ndjson`), with the fields of `hostmeter import_usage`: organization "
        "(domain), resource (code), measured_at (ISO 8601 with offset), value, source "
        f"(optional, default “{ingest.DEFAULT_SOURCE}”). Limits: {ingest.limits_text()} "
        "(413 beyond, nothing stored). A body that cannot be read (not a JSON array, no CSV "
        "header…) gets 400 and nothing is stored. Otherwise every good row is stored, a "
        "sample already stored is skipped (posting the same body again stores nothing), and "
        "each bad row is listed with its 0-based index and the reason. Levels: Systems and "
        "Operations, with a full or an ingest-only token."
    )


@extend_schema(tags=["ingest"])
class UsageSampleIngestView(ApiView):
    level_actions = {"POST": INGEST}
    ingest = True
    parser_classes = [UnreadBodyParser]

    @extend_schema(
        summary="Push usage samples",
        description=_ingest_description(),
        request={
            "application/json": s.SampleSerializer(many=True),
            "text/csv": OpenApiTypes.STR,
            "application/x-ndjson": OpenApiTypes.STR,
        },
        responses={
            200: s.IngestResultSerializer,
            411: OpenApiResponse(ErrorSerializer, description="No Content-Length."),
            413: OpenApiResponse(
                ErrorSerializer, description="Too many bytes or samples; nothing stored."
            ),
            415: OpenApiResponse(ErrorSerializer, description="Not JSON, CSV or JSON lines."),
        },
    )
    def post(self, request):
        raw_request = request._request  # the body is read here, bounded, never by a parser
        kind = ingest.media_type(request.content_type or "")
        if kind not in ingest.MEDIA_TYPES:
            return _error(
                415,
                f"Send application/json, text/csv or application/x-ndjson (got {kind or 'none'}).",
            )
        try:
            length = int(raw_request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0:
            return _error(411, "The request needs a Content-Length and a body.")
        if length > ingest.max_bytes():
            return _error(413, f"The body is larger than {ingest.max_bytes():,} bytes.")
        body = raw_request.read(length)
        try:
            outcome = ingest.usage_samples_ingest_body(body=body, content_type=kind)
        except ingest.BodyTooLarge as exc:
            return _error(413, f"Too large: {exc}. Nothing was stored.")
        except ingest.BodyMalformed as exc:
            return _error(400, f"Cannot read the body: {exc}. Nothing was stored.")
        data = {
            "received": outcome.received,
            "stored": outcome.stored,
            "duplicates": outcome.duplicates,
            "late": outcome.late,
            "late_before": outcome.late_before,
            "errors": [e.__dict__ for e in outcome.errors],
        }
        return Response(s.IngestResultSerializer(data).data)


def _error(code: int, detail: str) -> Response:
    return Response({"detail": detail}, status=code)
