"""The usage schedule page, update now and the status line's poll (under Reports → Usage)."""

from django.urls import path

from . import views

app_name = "metering"

urlpatterns = [
    path("usage/schedule/", views.UsageScheduleView.as_view(), name="usage-schedule"),
    path("usage/updates/run/", views.UpdateRunView.as_view(), name="update-run"),
    path("usage/updates/status/", views.UpdateStatusView.as_view(), name="update-status"),
]
