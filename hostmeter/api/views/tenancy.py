"""The catalog, resellers, organizations and limits: read by every usage level, changed
by Systems and Operations."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from hostmeter.tenancy.models import Organization, Reseller, Resource, Service
from hostmeter.tenancy.services import (
    limit_set,
    organization_save,
    reseller_save,
    tenancy_suspend_set,
)

from .. import selectors
from .. import serializers as s
from .base import (
    BY_NAME,
    DOMAIN,
    TENANCY,
    VIEW,
    ApiView,
    ListView,
    choice_param,
    code_param,
    created,
    domain_param,
    flag_param,
    param,
    valid_data,
)

# ---------------------------------------------------------------- catalog


@extend_schema(tags=["catalog"])
class ServiceListView(ApiView):
    """The service catalog, each service with its resources."""

    level_actions = {"GET": VIEW}
    serializer_class = s.ServiceSerializer
    pagination_class = None

    @extend_schema(summary="List services", responses=s.ServiceSerializer(many=True))
    def get(self, request):
        return Response(self.get_serializer(selectors.services_list(), many=True).data)


@extend_schema(tags=["catalog"])
class ResourceListView(ApiView):
    """The metered resources with their unit, kind (gauge or counter) and threshold."""

    level_actions = {"GET": VIEW}
    serializer_class = s.ResourceSerializer
    pagination_class = None

    @extend_schema(summary="List resources", responses=s.ResourceSerializer(many=True))
    def get(self, request):
        return Response(self.get_serializer(selectors.resources_list(), many=True).data)


# ---------------------------------------------------------------- resellers


@extend_schema(tags=["tenancy"])
class ResellerListView(ListView):
    level_actions = {"GET": VIEW, "POST": TENANCY}
    serializer_class = s.ResellerSerializer
    orderings = BY_NAME

    @extend_schema(
        summary="List resellers",
        parameters=[
            param("q", "Search in name and domain."),
            param("parent", "Direct sub-resellers of this reseller (domain)."),
            param("below", "Every sub-reseller below this reseller, at any depth (domain)."),
            param("top_level", "true: only resellers added by the provider.", OpenApiTypes.BOOL),
            param(
                "is_suspended", "Only suspended (true) or active (false) ones.", OpenApiTypes.BOOL
            ),
        ],
    )
    def get(self, request):
        qs = selectors.resellers_query(
            search=request.query_params.get("q", ""),
            parent=domain_param(request, "parent", Reseller),
            below=domain_param(request, "below", Reseller),
            top_level=flag_param(request, "top_level"),
            suspended=flag_param(request, "is_suspended"),
        )
        return self.list_response(qs)

    @extend_schema(
        summary="Add a reseller (Systems, Operations)",
        request=s.ResellerWriteSerializer,
        responses={201: s.ResellerSerializer},
    )
    def post(self, request):
        data = valid_data(s.ResellerWriteSerializer, request)
        with transaction.atomic():
            reseller = reseller_save(
                name=data["name"],
                domain=data["domain"],
                parent=data.get("parent"),
                services=data.get("services"),
                contact_name=data.get("contact_name", ""),
                contact_email=data.get("contact_email", ""),
            )
            tenancy_suspend_set(subject=reseller, suspended=data.get("is_suspended", False))
        body = s.ResellerSerializer(reseller, context=self.get_serializer_context()).data
        return created(body, body["url"])


@extend_schema(tags=["tenancy"], parameters=[DOMAIN])
class ResellerDetailView(ApiView):
    level_actions = {"GET": VIEW, "PATCH": TENANCY}
    serializer_class = s.ResellerSerializer

    def get_object(self):
        qs = selectors.resellers_query()
        return get_object_or_404(qs, domain=self.kwargs["domain"].lower())

    @extend_schema(summary="One reseller, with its direct sub-resellers")
    def get(self, request, domain):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Change or suspend a reseller (Systems, Operations)",
        description="Only the fields given change; `services` replaces the allocation; "
        "`is_suspended: true` suspends it.",
        request=s.ResellerWriteSerializer(partial=True),
        responses={200: s.ResellerSerializer},
    )
    def patch(self, request, domain):
        reseller = self.get_object()
        data = valid_data(s.ResellerWriteSerializer, request, partial=True)
        with transaction.atomic():
            reseller = reseller_save(
                reseller=reseller,
                name=data.get("name", reseller.name),
                domain=data.get("domain", reseller.domain),
                parent=data.get("parent", reseller.parent),
                services=data.get("services"),
                contact_name=data.get("contact_name", reseller.contact_name),
                contact_email=data.get("contact_email", reseller.contact_email),
            )
            if "is_suspended" in data:
                tenancy_suspend_set(subject=reseller, suspended=data["is_suspended"])
        fresh = selectors.resellers_query().get(pk=reseller.pk)
        return Response(self.get_serializer(fresh).data)


# ---------------------------------------------------------------- organizations


@extend_schema(tags=["tenancy"])
class OrganizationListView(ListView):
    level_actions = {"GET": VIEW, "POST": TENANCY}
    serializer_class = s.OrganizationSerializer
    orderings = BY_NAME

    @extend_schema(
        summary="List organizations",
        parameters=[
            param("q", "Search in name and domain (slow on very large lists: prefer domain)."),
            param("reseller", "Organizations this reseller added (domain)."),
            param("below", "Organizations of this reseller and of its sub-resellers (domain)."),
            param("direct", "true: only those the provider added directly.", OpenApiTypes.BOOL),
            param("service", "Only those with this service enabled (code)."),
            param(
                "is_suspended", "Only suspended (true) or active (false) ones.", OpenApiTypes.BOOL
            ),
        ],
    )
    def get(self, request):
        qs = selectors.organizations_query(
            search=request.query_params.get("q", ""),
            reseller=domain_param(request, "reseller", Reseller),
            below=domain_param(request, "below", Reseller),
            direct=flag_param(request, "direct"),
            service=code_param(request, "service", Service),
            suspended=flag_param(request, "is_suspended"),
        )
        return self.list_response(qs)

    @extend_schema(
        summary="Add an organization (Systems, Operations)",
        request=s.OrganizationWriteSerializer,
        responses={201: s.OrganizationSerializer},
    )
    def post(self, request):
        data = valid_data(s.OrganizationWriteSerializer, request)
        with transaction.atomic():
            organization = organization_save(
                name=data["name"],
                domain=data["domain"],
                reseller=data.get("reseller"),
                services=data.get("services"),
            )
            tenancy_suspend_set(subject=organization, suspended=data.get("is_suspended", False))
        body = s.OrganizationSerializer(organization, context=self.get_serializer_context()).data
        return created(body, body["url"])


@extend_schema(tags=["tenancy"], parameters=[DOMAIN])
class OrganizationDetailView(ApiView):
    level_actions = {"GET": VIEW, "PATCH": TENANCY}
    serializer_class = s.OrganizationSerializer

    def get_object(self):
        qs = selectors.organizations_query()
        return get_object_or_404(qs, domain=self.kwargs["domain"].lower())

    @extend_schema(summary="One organization")
    def get(self, request, domain):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Change or suspend an organization (Systems, Operations)",
        description="Only the fields given change; `services` replaces the enabled services; "
        "`is_suspended: true` suspends it.",
        request=s.OrganizationWriteSerializer(partial=True),
        responses={200: s.OrganizationSerializer},
    )
    def patch(self, request, domain):
        organization = self.get_object()
        data = valid_data(s.OrganizationWriteSerializer, request, partial=True)
        with transaction.atomic():
            organization = organization_save(
                organization=organization,
                name=data.get("name", organization.name),
                domain=data.get("domain", organization.domain),
                reseller=data.get("reseller", organization.reseller),
                services=data.get("services"),
            )
            if "is_suspended" in data:
                tenancy_suspend_set(subject=organization, suspended=data["is_suspended"])
        fresh = selectors.organizations_query().get(pk=organization.pk)
        return Response(self.get_serializer(fresh).data)


# ---------------------------------------------------------------- limits


@extend_schema(tags=["tenancy"])
class LimitListView(ListView):
    level_actions = {"GET": VIEW, "POST": TENANCY}
    serializer_class = s.LimitSerializer
    orderings = {"id": ("id",), "-id": ("-id",)}

    @extend_schema(
        summary="List limits",
        parameters=[
            param("kind", "provider, reseller or organization.", enum=list(s.LIMIT_KINDS)),
            param("reseller", "One reseller's limits (domain)."),
            param("organization", "One organization's limits (domain)."),
            param("resource", "One resource's limits (code)."),
        ],
    )
    def get(self, request):
        qs = selectors.limits_query(
            kind=choice_param(request, "kind", s.LIMIT_KINDS),
            reseller=domain_param(request, "reseller", Reseller),
            organization=domain_param(request, "organization", Organization),
            resource=code_param(request, "resource", Resource),
        )
        return self.list_response(qs)

    @extend_schema(
        summary="Set a limit (Systems, Operations)",
        description="Sets the provider's, a reseller's or an organization's limit of a "
        "resource, replacing the one it had.",
        request=s.LimitWriteSerializer,
        responses={200: s.LimitSerializer},
    )
    def post(self, request):
        data = valid_data(s.LimitWriteSerializer, request)
        limit = limit_set(resource=data["resource"], limit=data["limit"], **data["holder"])
        return Response(self.get_serializer(limit).data)
