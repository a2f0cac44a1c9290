"""API tokens: a login manages its own, Systems everyone's."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from hostmeter.accounts.levels import Action, user_can

from .. import selectors
from .. import serializers as s
from ..filtersets import ApiTokenFilterSet
from ..models import ApiToken
from ..permissions import OWN_TOKENS, token_of
from ..services import (
    api_token_create,
    api_token_revoke,
)
from .base import (
    ID,
    ApiView,
    ListView,
    created,
    valid_data,
)

# ---------------------------------------------------------------- tokens


@extend_schema_view(get=extend_schema(summary="List API tokens: yours (Systems: everyone's)"))
@extend_schema(tags=["tokens"])
class TokenListView(ListView):
    level_actions = {"GET": OWN_TOKENS, "POST": OWN_TOKENS}
    serializer_class = s.ApiTokenSerializer
    filterset_class = ApiTokenFilterSet
    orderings = {"-id": ("-id",), "id": ("id",)}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema only wants the model
            return ApiToken.objects.none()
        return selectors.api_tokens_visible_to(self.request.user)

    @extend_schema(
        summary="Create an API token",
        description="From a signed-in browser session only (or `hostmeter api_token "
        "create`): a token cannot create tokens. The answer holds the token's secret, "
        "shown this once. Only Systems may create a token for another login.",
        request=s.ApiTokenCreateSerializer,
        responses={201: s.ApiTokenCreatedSerializer},
    )
    def post(self, request):
        if token_of(request) is not None:
            raise PermissionDenied(
                "A token cannot create tokens: sign in to the panel, or use "
                "`hostmeter api_token create`."
            )
        data = valid_data(s.ApiTokenCreateSerializer, request)
        owner = request.user
        if data.get("user") and data["user"] != request.user.username:
            if not user_can(request.user, Action.MANAGE_STAFF):
                raise PermissionDenied("Only Systems may create tokens for another login.")
            owner = get_user_model().objects.filter(username=data["user"]).first()
            if owner is None:
                raise ValidationError({"user": [f"No login {data['user']}."]})
        token, secret = api_token_create(
            user=owner, name=data["name"], scope=data["scope"], created_by=request.user
        )
        token.token = secret
        body = s.ApiTokenCreatedSerializer(token, context=self.get_serializer_context()).data
        return created(body, body["url"])


@extend_schema(tags=["tokens"])
class TokenDetailView(ApiView):
    level_actions = {"GET": OWN_TOKENS, "DELETE": OWN_TOKENS}
    serializer_class = s.ApiTokenSerializer

    def get_object(self) -> ApiToken:
        tokens = selectors.api_tokens_visible_to(self.request.user)
        return get_object_or_404(tokens, pk=self.kwargs["pk"])

    @extend_schema(summary="One API token (never its secret)", parameters=[ID])
    def get(self, request, pk):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(summary="Revoke an API token", parameters=[ID], responses={204: None})
    def delete(self, request, pk):
        api_token_revoke(token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
