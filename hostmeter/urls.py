"""URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from hostmeter.api import urls as api_urls
from hostmeter.metering.api import urls as metering_api_urls
from hostmeter.reports.api import urls as reports_api_urls
from hostmeter.tenancy.api import urls as tenancy_api_urls
from hostmeter.views import HomeView

# /api/v1/: the framework's routes and every app's endpoints, in the one "api" namespace.
api_urlpatterns = [
    *api_urls.urlpatterns,
    *tenancy_api_urls.urlpatterns,
    *metering_api_urls.urlpatterns,
    *reports_api_urls.urlpatterns,
]

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("reports/", include("hostmeter.reports.urls")),
    path("reports/", include("hostmeter.usage.urls")),
    path("reports/", include("hostmeter.metering.urls")),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("admin/", admin.site.urls),
]
