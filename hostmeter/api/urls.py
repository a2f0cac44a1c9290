"""/api/v1/: the REST API, its OpenAPI schema and its docs pages."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from .views import ingest, reports, tenancy, tokens, usage

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"),
        name="redoc",
    ),
    path("tokens/", tokens.TokenListView.as_view(), name="token-list"),
    path("tokens/<str:pk>/", tokens.TokenDetailView.as_view(), name="token-detail"),
    path("services/", tenancy.ServiceListView.as_view(), name="service-list"),
    path("resources/", tenancy.ResourceListView.as_view(), name="resource-list"),
    path("resellers/", tenancy.ResellerListView.as_view(), name="reseller-list"),
    path("resellers/<str:domain>/", tenancy.ResellerDetailView.as_view(), name="reseller-detail"),
    path("organizations/", tenancy.OrganizationListView.as_view(), name="organization-list"),
    path(
        "organizations/<str:domain>/",
        tenancy.OrganizationDetailView.as_view(),
        name="organization-detail",
    ),
    path("limits/", tenancy.LimitListView.as_view(), name="limit-list"),
    path("usage-updates/", usage.UsageUpdateListView.as_view(), name="usage-update-list"),
    path(
        "usage-updates/<str:update>/",
        usage.UsageUpdateDetailView.as_view(),
        name="usage-update-detail",
    ),
    path(
        "usage-updates/<str:update>/summary/",
        usage.SummaryUsageView.as_view(),
        name="usage-update-summary",
    ),
    path(
        "usage-updates/<str:update>/resellers/<str:domain>/",
        usage.ResellerUsageView.as_view(),
        name="usage-update-reseller",
    ),
    path(
        "usage-updates/<str:update>/organizations/",
        usage.UpdateOrganizationsView.as_view(),
        name="usage-update-organizations",
    ),
    path(
        "usage-updates/<str:update>/organizations/<str:domain>/",
        usage.OrganizationUsageView.as_view(),
        name="usage-update-organization",
    ),
    path("reports/", reports.ReportListView.as_view(), name="report-list"),
    path("reports/<str:pk>/", reports.ReportDetailView.as_view(), name="report-detail"),
    path("reports/<str:pk>/file/", reports.ReportFileView.as_view(), name="report-file"),
    path("usage-samples/", ingest.UsageSampleIngestView.as_view(), name="usage-samples"),
]
