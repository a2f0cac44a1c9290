"""URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from hostmeter.views import HomeView

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("reports/", include("hostmeter.reports.urls")),
    path("reports/", include("hostmeter.usage.urls")),
    path("reports/", include("hostmeter.metering.urls")),
    path("api/v1/", include("hostmeter.api.urls")),
    path("admin/", admin.site.urls),
]
