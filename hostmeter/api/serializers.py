"""What every app's serializers share (exact quantities, records named by a slug, absolute
links, the error answer), and the API tokens' own serializers."""

from django.urls import reverse
from rest_framework import serializers

from .models import ApiToken

QUANTITY = {"max_digits": 22, "decimal_places": 3, "coerce_to_string": True}


class Quantity(serializers.DecimalField):
    """An exact quantity with three places, as a string ("12.500")."""

    def __init__(self, **kwargs):
        super().__init__(**{**QUANTITY, **kwargs})


class SlugRef(serializers.SlugRelatedField):
    """A record named by its domain or code. NUL is refused before the lookup, as
    PostgreSQL text cannot hold it (the query itself would fail)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


def absolute_url(request, name: str, *args) -> str:
    """The API URL of that name, absolute when there is a request."""
    path = reverse(f"api:{name}", args=args)
    return request.build_absolute_uri(path) if request else path


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Why the request was refused.")


class ApiTokenSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    prefix = serializers.CharField(source="display_prefix", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "url",
            "name",
            "prefix",
            "scope",
            "user",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
            "is_active",
        ]

    def get_url(self, obj) -> str:
        return absolute_url(self.context.get("request"), "token-detail", obj.pk)


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=ApiToken.Scope.choices, default=ApiToken.Scope.FULL)
    user = serializers.CharField(
        required=False,
        help_text="Whose token (username); default: yours. Only Systems may name another.",
    )


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The secret: shown this once, store it now."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
