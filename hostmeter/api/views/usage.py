"""Usage updates (list, the most recent, one, run one now) and the usage figures of an
update for the provider, a reseller or an organization."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from hostmeter.metering import selectors as metering_selectors
from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.services.updates import (
    UsageUpdateError,
    UsageUpdatePending,
    usage_update_start,
)
from hostmeter.tenancy.models import Organization, Reseller

from .. import selectors
from .. import serializers as s
from .base import (
    BY_NAME,
    CONFLICT,
    DOMAIN,
    SCHEDULE,
    UPDATE_KEY,
    VIEW,
    ApiView,
    Conflict,
    ListView,
    choice_param,
    created,
    domain_param,
    param,
    update_or_404,
    valid_data,
)

# ---------------------------------------------------------------- usage updates


@extend_schema(tags=["usage"])
class UsageUpdateListView(ListView):
    level_actions = {"GET": VIEW, "POST": SCHEDULE}
    serializer_class = s.UsageUpdateSerializer
    orderings = {"-cutoff": ("-cutoff",), "cutoff": ("cutoff",)}

    @extend_schema(
        summary="List usage updates",
        parameters=[
            param("status", "Only updates in this status.", enum=UsageUpdate.Status.values)
        ],
    )
    def get(self, request):
        qs = selectors.usage_updates_query(
            status=choice_param(request, "status", UsageUpdate.Status.values)
        )
        return self.list_response(qs)

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


@extend_schema(tags=["usage"], parameters=[UPDATE_KEY])
class UsageUpdateDetailView(ApiView):
    level_actions = {"GET": VIEW}
    serializer_class = s.UsageUpdateSerializer

    @extend_schema(summary="One usage update (or the most recent completed: latest)")
    def get(self, request, update):
        return Response(self.get_serializer(update_or_404(update)).data)


def _ref(update: UsageUpdate) -> dict:
    return {"id": update.pk, "cutoff": update.cutoff}


@extend_schema(tags=["usage"], parameters=[UPDATE_KEY])
class SummaryUsageView(ApiView):
    level_actions = {"GET": VIEW}
    serializer_class = s.SummaryUsageSerializer

    @extend_schema(
        summary="The provider's summary in an update",
        description="Counts, and per service and resource: limit, sold (allocated), "
        "available, used and usage %. 409 if the update is not completed.",
        responses={200: s.SummaryUsageSerializer, 409: CONFLICT},
    )
    def get(self, request, update):
        found = update_or_404(update, completed=True)
        summary = metering_selectors.provider_summary(update=found)
        data = {"update": _ref(found), "counts": summary["counts"], "services": summary["services"]}
        return Response(self.get_serializer(data).data)


@extend_schema(tags=["usage"], parameters=[UPDATE_KEY, DOMAIN])
class ResellerUsageView(ApiView):
    level_actions = {"GET": VIEW}
    serializer_class = s.ResellerUsageSerializer

    @extend_schema(
        summary="A reseller's usage in an update (sub-resellers included)",
        responses={200: s.ResellerUsageSerializer, 409: CONFLICT},
    )
    def get(self, request, update, domain):
        found = update_or_404(update, completed=True)
        reseller = get_object_or_404(Reseller, domain=domain.lower())
        overview = metering_selectors.reseller_overview(reseller=reseller, update=found)
        data = {
            "update": _ref(found),
            "reseller": reseller.domain,
            "name": reseller.name,
            "counts": overview["counts"],
            "services": overview["figures"],
        }
        return Response(self.get_serializer(data).data)


@extend_schema(tags=["usage"], parameters=[UPDATE_KEY, DOMAIN])
class OrganizationUsageView(ApiView):
    level_actions = {"GET": VIEW}
    serializer_class = s.OrganizationUsageSerializer

    @extend_schema(
        summary="An organization's usage in an update",
        responses={200: s.OrganizationUsageSerializer, 409: CONFLICT},
    )
    def get(self, request, update, domain):
        found = update_or_404(update, completed=True)
        orgs = Organization.objects.select_related("reseller")
        org = get_object_or_404(orgs, domain=domain.lower())
        figures = metering_selectors.organization_figures(update=found, organization=org)
        data = {
            "update": _ref(found),
            "organization": org.domain,
            "name": org.name,
            "reseller": org.reseller.domain if org.reseller else None,
            "services": figures,
        }
        return Response(self.get_serializer(data).data)


@extend_schema(tags=["usage"], parameters=[UPDATE_KEY])
class UpdateOrganizationsView(ListView):
    level_actions = {"GET": VIEW}
    serializer_class = s.OrganizationUsageRowSerializer
    orderings = BY_NAME

    @extend_schema(
        summary="Every organization's usage in an update, page by page",
        description="What a billing system pulls: per organization, each resource's used "
        "and limit as frozen by the update. 409 if the update is not completed.",
        parameters=[param("below", "Only organizations of this reseller and its sub-resellers.")],
        responses={200: s.OrganizationUsageRowSerializer(many=True), 409: CONFLICT},
    )
    def get(self, request, update):
        found = update_or_404(update, completed=True)
        qs = selectors.update_organizations_query(
            update=found, below=domain_param(request, "below", Reseller)
        )
        page = self.paginate_queryset(qs)
        selectors.update_usage_cells(update=found, organizations=page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
