"""The tenancy endpoints under /api/v1/ (names in the project's "api" namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("services/", views.ServiceListView.as_view(), name="service-list"),
    path("resources/", views.ResourceListView.as_view(), name="resource-list"),
    path("resellers/", views.ResellerListView.as_view(), name="reseller-list"),
    path("resellers/<str:domain>/", views.ResellerDetailView.as_view(), name="reseller-detail"),
    path("organizations/", views.OrganizationListView.as_view(), name="organization-list"),
    path(
        "organizations/<str:domain>/",
        views.OrganizationDetailView.as_view(),
        name="organization-detail",
    ),
    path("limits/", views.LimitListView.as_view(), name="limit-list"),
    path("reseller-logins/", views.ResellerLoginListView.as_view(), name="reseller-login-list"),
]
