"""The usage endpoints under /api/v1/ (names in the project's "api" namespace): usage
updates, their figures, and the ingest of usage samples."""

from django.urls import path

from . import views

urlpatterns = [
    path("usage-updates/", views.UsageUpdateListView.as_view(), name="usage-update-list"),
    path(
        "usage-updates/<str:update>/",
        views.UsageUpdateDetailView.as_view(),
        name="usage-update-detail",
    ),
    path(
        "usage-updates/<str:update>/summary/",
        views.SummaryUsageView.as_view(),
        name="usage-update-summary",
    ),
    path(
        "usage-updates/<str:update>/resellers/<str:domain>/",
        views.ResellerUsageView.as_view(),
        name="usage-update-reseller",
    ),
    path(
        "usage-updates/<str:update>/organizations/",
        views.UpdateOrganizationsView.as_view(),
        name="usage-update-organizations",
    ),
    path(
        "usage-updates/<str:update>/organizations/<str:domain>/",
        views.OrganizationUsageView.as_view(),
        name="usage-update-organization",
    ),
    path("usage-samples/", views.UsageSampleIngestView.as_view(), name="usage-samples"),
]
