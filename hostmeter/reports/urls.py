"""Reports → Usage."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.ReportsIndexView.as_view(), name="index"),
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
    path("usage/export/", views.ExportReportsView.as_view(), name="export-reports"),
    path("usage/export/generate/", views.ExportGenerateView.as_view(), name="export-generate"),
    path("usage/files/<int:pk>/", views.ReportDownloadView.as_view(), name="report-download"),
    path("usage/audit/", views.AuditLogView.as_view(), name="audit-log"),
    path("usage/schedule/", views.UsageScheduleView.as_view(), name="usage-schedule"),
    path("usage/updates/run/", views.UpdateRunView.as_view(), name="update-run"),
    path("usage/updates/status/", views.UpdateStatusView.as_view(), name="update-status"),
]
