"""The catalog, resellers, organizations and limits as the API shows them, and the inputs
it validates before calling the tenancy services."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hostmeter.api.serializers import Quantity, SlugRef, absolute_url
from hostmeter.tenancy.models import (
    Organization,
    Reseller,
    ResellerLogin,
    Resource,
    ResourceLimit,
    Service,
)

# ---------------------------------------------------------------- catalog


class ResourceSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Resource
        fields = ["code", "name", "unit", "kind", "service", "threshold_percent"]


class ServiceSerializer(serializers.ModelSerializer):
    resources = ResourceSerializer(many=True, read_only=True)

    class Meta:
        model = Service
        fields = ["code", "name", "resources"]


# ---------------------------------------------------------------- tenancy


# A reseller or an organization: its link (the `detail` route, by domain) and services.
# (A comment: a serializer's docstring is its description in the schema.)
class _TenantSerializer(serializers.ModelSerializer):
    detail = ""
    url = serializers.SerializerMethodField()
    services = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    def get_url(self, obj) -> str:
        return absolute_url(self.context.get("request"), self.detail, obj.domain)


class ResellerSerializer(_TenantSerializer):
    detail = "reseller-detail"
    parent = serializers.SlugRelatedField(
        slug_field="domain",
        read_only=True,
        allow_null=True,
        help_text="The parent reseller's domain; null: added by the provider (or, to a "
        "reseller login, its own reseller: it does not see who is above it).",
    )
    sub_resellers = serializers.SlugRelatedField(
        source="children",
        slug_field="domain",
        many=True,
        read_only=True,
        help_text="Domains of its direct sub-resellers.",
    )

    class Meta:
        model = Reseller
        fields = [
            "id",
            "url",
            "name",
            "domain",
            "parent",
            "sub_resellers",
            "services",
            "contact_name",
            "contact_email",
            "is_suspended",
            "created_at",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        scope = self.context.get("scope")
        if scope is not None and instance.pk == scope.reseller_id:
            data["parent"] = None  # above a reseller login's subtree
        return data


class OrganizationSerializer(_TenantSerializer):
    detail = "organization-detail"
    reseller = serializers.SlugRelatedField(
        slug_field="domain",
        read_only=True,
        allow_null=True,
        help_text="Its reseller's domain; null: direct.",
    )

    class Meta:
        model = Organization
        fields = [
            "id",
            "url",
            "name",
            "domain",
            "reseller",
            "services",
            "is_suspended",
            "created_at",
        ]


class _TenancyWrite(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    domain = serializers.CharField(max_length=253)
    services = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        help_text="Service codes (web, mail, db, dns, ftp, ssl, backup); replaces the list.",
    )
    is_suspended = serializers.BooleanField(required=False)


class ResellerWriteSerializer(_TenancyWrite):
    parent = SlugRef(
        slug_field="domain",
        queryset=Reseller.objects.all(),
        allow_null=True,
        required=False,
        help_text="The parent reseller's domain; null: added by the provider.",
    )
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)


class OrganizationWriteSerializer(_TenancyWrite):
    reseller = SlugRef(
        slug_field="domain",
        queryset=Reseller.objects.all(),
        allow_null=True,
        required=False,
        help_text="The reseller's domain; null: added by the provider directly.",
    )


LIMIT_KINDS = ("provider", "reseller", "organization")


class LimitSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()
    domain = serializers.SerializerMethodField()
    resource = serializers.SlugRelatedField(slug_field="code", read_only=True)
    limit = Quantity(read_only=True)

    class Meta:
        model = ResourceLimit
        fields = ["id", "kind", "domain", "resource", "limit"]

    @extend_schema_field(serializers.ChoiceField(choices=LIMIT_KINDS))
    def get_kind(self, obj) -> str:
        if obj.reseller_id:
            return "reseller"
        return "organization" if obj.organization_id else "provider"

    def get_domain(self, obj) -> str | None:
        holder = obj.reseller or obj.organization
        return holder.domain if holder else None


class LimitWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LIMIT_KINDS)
    domain = serializers.CharField(
        max_length=253,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="The reseller's or organization's domain; empty for the provider.",
    )
    resource = SlugRef(slug_field="code", queryset=Resource.objects.all())
    limit = Quantity(min_value=0)

    def validate(self, data):
        kind, domain = data["kind"], (data.get("domain") or "").strip().lower()
        if kind == "provider":
            if domain:
                raise serializers.ValidationError({"domain": "The provider's limit has no domain."})
            data["holder"] = {}
            return data
        model = Reseller if kind == "reseller" else Organization
        if not domain:
            raise serializers.ValidationError({"domain": f"Give the {kind}'s domain."})
        holder = model.objects.filter(domain=domain).first()
        if holder is None:
            raise serializers.ValidationError({"domain": f"No {kind} with the domain {domain}."})
        data["holder"] = {kind: holder}
        return data


# ---------------------------------------------------------------- reseller logins


class ResellerLoginSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    reseller = serializers.SlugRelatedField(slug_field="domain", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    is_active = serializers.BooleanField(source="user.is_active", read_only=True)
    last_login = serializers.DateTimeField(source="user.last_login", read_only=True)

    class Meta:
        model = ResellerLogin
        fields = ["username", "reseller", "email", "is_active", "last_login"]


class ResellerLoginWriteSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    reseller = SlugRef(
        queryset=Reseller.objects.all(),
        slug_field="domain",
        help_text="The reseller's domain: the login sees its subtree.",
    )
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Needed for a new login; an existing reseller login keeps its own unless "
        "one is given.",
    )
    email = serializers.EmailField(required=False, allow_blank=True)
