"""The catalog, resellers, organizations and limits: read by every usage level, changed
by Systems and Operations."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from hostmeter.api.views.base import (
    BY_NAME,
    DOMAIN,
    TENANCY,
    VIEW,
    ApiView,
    ListView,
    created,
    valid_data,
)
from hostmeter.tenancy.access import ScopedApiMixin
from hostmeter.tenancy.models import (
    Organization,
    Reseller,
    ResellerLogin,
    Resource,
    ResourceLimit,
    Service,
)
from hostmeter.tenancy.services import (
    limit_set,
    organization_save,
    reseller_login_save,
    reseller_save,
    tenancy_suspend_set,
)

from . import filtersets as f
from . import serializers as s

# ---------------------------------------------------------------- catalog


@extend_schema(tags=["catalog"])
class ServiceListView(ScopedApiMixin, ApiView):
    """The service catalog, each service with its resources."""

    level_actions = {"GET": VIEW}
    reseller_scoped = True  # the catalog: nobody's usage
    serializer_class = s.ServiceSerializer
    pagination_class = None
    queryset = Service.objects.prefetch_related(
        Prefetch(
            "resources",
            queryset=Resource.objects.select_related("service").order_by("position", "code"),
        )
    )

    @extend_schema(summary="List services", responses=s.ServiceSerializer(many=True))
    def get(self, request):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)


@extend_schema(tags=["catalog"])
class ResourceListView(ScopedApiMixin, ApiView):
    """The metered resources with their unit, kind (gauge or counter) and threshold."""

    level_actions = {"GET": VIEW}
    reseller_scoped = True  # the catalog: nobody's usage
    serializer_class = s.ResourceSerializer
    pagination_class = None
    queryset = Resource.objects.select_related("service")

    @extend_schema(summary="List resources", responses=s.ResourceSerializer(many=True))
    def get(self, request):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)


# ---------------------------------------------------------------- resellers and organizations

SERVICES = Prefetch("services", queryset=Service.objects.order_by("position"))
RESELLERS = Reseller.objects.select_related("parent").prefetch_related(
    SERVICES,
    Prefetch("children", queryset=Reseller.objects.order_by("domain").only("domain", "parent")),
)
ORGANIZATIONS = Organization.objects.select_related("reseller").prefetch_related(SERVICES)


# Resellers and organizations are added, changed and suspended alike: the subclass says
# which write serializer and which save service (save(data, current)). Comments, not
# docstrings, on these mixins: a view's docstring is its description in the schema.
# A reseller login reads its subtree (writing is for the levels that manage tenancy).
class TenantViewMixin(ScopedApiMixin):
    write_serializer_class = None
    reseller_scoped = True

    def get_queryset(self):
        qs = super().get_queryset()
        return self.scope.holders(qs.model, qs)

    def save(self, data: dict, current=None):
        raise NotImplementedError

    def save_and_suspend(self, data: dict, current=None):
        with transaction.atomic():
            subject = self.save(data, current)
            if current is None or "is_suspended" in data:
                suspended = data.get("is_suspended", False)
                tenancy_suspend_set(subject=subject, suspended=suspended)
        return subject


class TenantListView(TenantViewMixin, ListView):
    level_actions = {"GET": VIEW, "POST": TENANCY}
    orderings = BY_NAME

    def post(self, request):
        subject = self.save_and_suspend(valid_data(self.write_serializer_class, request))
        body = self.get_serializer(subject).data
        return created(body, body["url"])


class TenantDetailView(TenantViewMixin, ApiView):
    level_actions = {"GET": VIEW, "PATCH": TENANCY}

    def get_object(self):
        return get_object_or_404(self.get_queryset(), domain=self.kwargs["domain"].lower())

    def get(self, request, domain):
        return Response(self.get_serializer(self.get_object()).data)

    def patch(self, request, domain):
        current = self.get_object()
        data = valid_data(self.write_serializer_class, request, partial=True)
        subject = self.save_and_suspend(data, current)
        return Response(self.get_serializer(self.get_queryset().get(pk=subject.pk)).data)


def given_or_kept(data: dict, old, names: tuple[str, ...]) -> dict:
    """Each field as the request gives it, else as the subject has it (a PATCH changes
    only the fields given)."""
    return {name: data.get(name, getattr(old, name)) for name in names}


class ResellerViewMixin(TenantViewMixin):
    serializer_class = s.ResellerSerializer
    write_serializer_class = s.ResellerWriteSerializer
    queryset = RESELLERS
    saved_fields = ("name", "domain", "parent", "contact_name", "contact_email")

    def save(self, data: dict, current: Reseller | None = None) -> Reseller:
        kept = given_or_kept(data, current or Reseller(), self.saved_fields)
        return reseller_save(reseller=current, services=data.get("services"), **kept)


class OrganizationViewMixin(TenantViewMixin):
    serializer_class = s.OrganizationSerializer
    write_serializer_class = s.OrganizationWriteSerializer
    queryset = ORGANIZATIONS
    saved_fields = ("name", "domain", "reseller")

    def save(self, data: dict, current: Organization | None = None) -> Organization:
        kept = given_or_kept(data, current or Organization(), self.saved_fields)
        return organization_save(organization=current, services=data.get("services"), **kept)


def tenant_list_schema(plural: str, one: str):
    """A tenant list's schema: GET lists them, POST adds one, with the view's own
    serializers."""

    def decorate(view):
        view = extend_schema(tags=["tenancy"])(view)
        return extend_schema_view(
            get=extend_schema(summary=f"List {plural}"),
            post=extend_schema(
                summary=f"Add {one} (Systems, Operations)",
                request=view.write_serializer_class,
                responses={201: view.serializer_class},
            ),
        )(view)

    return decorate


def tenant_detail_schema(summary: str, one: str, services: str):
    """A tenant's schema: GET shows it (summary), PATCH changes or suspends it."""

    def decorate(view):
        view = extend_schema(tags=["tenancy"], parameters=[DOMAIN])(view)
        return extend_schema_view(
            get=extend_schema(summary=summary),
            patch=extend_schema(
                summary=f"Change or suspend {one} (Systems, Operations)",
                description=f"Only the fields given change; `services` replaces {services}; "
                "`is_suspended: true` suspends it.",
                request=view.write_serializer_class(partial=True),
                responses={200: view.serializer_class},
            ),
        )(view)

    return decorate


@tenant_list_schema("resellers", "a reseller")
class ResellerListView(ResellerViewMixin, TenantListView):
    filterset_class = f.ResellerFilterSet


@tenant_detail_schema("One reseller, with its direct sub-resellers", "a reseller", "the allocation")
class ResellerDetailView(ResellerViewMixin, TenantDetailView):
    pass


@tenant_list_schema("organizations", "an organization")
class OrganizationListView(OrganizationViewMixin, TenantListView):
    filterset_class = f.OrganizationFilterSet


@tenant_detail_schema("One organization", "an organization", "the enabled services")
class OrganizationDetailView(OrganizationViewMixin, TenantDetailView):
    pass


# ---------------------------------------------------------------- limits


@extend_schema_view(get=extend_schema(summary="List limits"))
@extend_schema(tags=["tenancy"])
class LimitListView(ScopedApiMixin, ListView):
    level_actions = {"GET": VIEW, "POST": TENANCY}
    reseller_scoped = True
    serializer_class = s.LimitSerializer
    queryset = ResourceLimit.objects.select_related("resource", "reseller", "organization")
    filterset_class = f.LimitFilterSet
    orderings = {"id": ("id",), "-id": ("-id",)}

    def get_queryset(self):
        """A reseller login's: the limits of its subtree's resellers (its own, given to it,
        included) and organizations, not the provider's capacity."""
        qs = super().get_queryset()
        if self.scope.whole:
            return qs
        return qs.filter(
            Q(reseller__in=self.scope.resellers()) | Q(organization__in=self.scope.organizations())
        )

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


# ---------------------------------------------------------------- reseller logins


@extend_schema_view(get=extend_schema(summary="List reseller logins (Systems, Operations)"))
@extend_schema(tags=["tenancy"])
class ResellerLoginListView(ListView):
    level_actions = {"GET": TENANCY, "POST": TENANCY}
    serializer_class = s.ResellerLoginSerializer
    queryset = ResellerLogin.objects.select_related("user", "reseller")
    filterset_class = f.ResellerLoginFilterSet
    orderings = {"id": ("user_id",), "-id": ("-user_id",)}

    @extend_schema(
        summary="Add a reseller login, or give one to another reseller (Systems, Operations)",
        description="A login of level Reseller that sees the reseller's subtree only. By "
        "username: a new one needs a password (the password validators apply); an existing "
        "reseller login moves to the reseller given and keeps its password unless one is "
        "given. A staff login of another level is refused (400).",
        request=s.ResellerLoginWriteSerializer,
        responses={200: s.ResellerLoginSerializer, 201: s.ResellerLoginSerializer},
    )
    def post(self, request):
        data = valid_data(s.ResellerLoginWriteSerializer, request)
        new = not ResellerLogin.objects.filter(user__username=data["username"]).exists()
        try:
            login = reseller_login_save(
                username=data["username"],
                reseller=data["reseller"],
                password=data.get("password") or None,
                email=data.get("email", ""),
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        body = self.get_serializer(login).data
        return Response(body, status=status.HTTP_201_CREATED if new else status.HTTP_200_OK)
