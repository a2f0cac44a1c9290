"""The report endpoints under /api/v1/ (names in the project's "api" namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("reports/", views.ReportListView.as_view(), name="report-list"),
    path("reports/<str:pk>/", views.ReportDetailView.as_view(), name="report-detail"),
    path("reports/<str:pk>/file/", views.ReportFileView.as_view(), name="report-file"),
]
