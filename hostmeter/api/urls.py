"""The API framework's own routes under /api/v1/: the OpenAPI schema, its docs pages and
the API tokens. hostmeter/urls.py adds every app's api/urls.py in the one "api" namespace."""

from csp.decorators import csp_exempt
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from .views import tokens

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # the bundled docs pages start Swagger UI and Redoc with inline scripts: no CSP there
    path("docs/", csp_exempt()(SpectacularSwaggerView.as_view(url_name="api:schema")), name="docs"),
    path(
        "redoc/",
        csp_exempt()(
            SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html")
        ),
        name="redoc",
    ),
    path("tokens/", tokens.TokenListView.as_view(), name="token-list"),
    path("tokens/<str:pk>/", tokens.TokenDetailView.as_view(), name="token-detail"),
]
