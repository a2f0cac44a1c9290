"""Reports → Usage: summary, reseller usage, organization site usage and the overviews."""

from django.urls import path

from . import views

app_name = "usage"

urlpatterns = [
    path("usage/", views.SummaryView.as_view(), name="summary"),
    path("usage/resellers/", views.ResellerUsageView.as_view(), name="reseller-usage"),
    path("usage/resellers/actions/", views.ResellerActionsView.as_view(), name="reseller-actions"),
    path(
        "usage/resellers/action-bar/",
        views.ResellerActionBarView.as_view(),
        name="reseller-action-bar",
    ),
    path(
        "usage/resellers/report-status/",
        views.ResellerReportStatusView.as_view(),
        name="reseller-report-status",
    ),
    path(
        "usage/resellers/<int:pk>/",
        views.ResellerOverviewView.as_view(),
        name="reseller-overview",
    ),
    path("usage/organizations/", views.OrganizationUsageView.as_view(), name="organization-usage"),
    path(
        "usage/organizations/actions/",
        views.OrganizationActionsView.as_view(),
        name="organization-actions",
    ),
    path(
        "usage/organizations/action-bar/",
        views.OrganizationActionBarView.as_view(),
        name="organization-action-bar",
    ),
    path(
        "usage/organizations/report-status/",
        views.OrganizationReportStatusView.as_view(),
        name="organization-report-status",
    ),
    path(
        "usage/organizations/<int:pk>/",
        views.OrganizationOverviewView.as_view(),
        name="organization-overview",
    ),
]
