"""Reports: the section's index, the export reports tab, report files and the audit log."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.ReportsIndexView.as_view(), name="index"),
    path("usage/export/", views.ExportReportsView.as_view(), name="export-reports"),
    path("usage/export/generate/", views.ExportGenerateView.as_view(), name="export-generate"),
    path("usage/files/<int:pk>/", views.ReportDownloadView.as_view(), name="report-download"),
    path("usage/audit/", views.AuditLogView.as_view(), name="audit-log"),
]
