"""What the API reads and writes: representations of the domain records, and the inputs
it validates before calling a service."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hostmeter.metering.models import UsageUpdate
from hostmeter.reports.models import Report
from hostmeter.tenancy.models import Organization, Reseller, Resource, ResourceLimit, Service

from .ingest import max_rows
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


def _absolute(request, name: str, *args) -> str:
    path = reverse(f"api:{name}", args=args)
    return request.build_absolute_uri(path) if request else path


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Why the request was refused.")


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


class ResellerSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    parent = serializers.SlugRelatedField(slug_field="domain", read_only=True, allow_null=True)
    services = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
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

    def get_url(self, obj) -> str:
        return _absolute(self.context.get("request"), "reseller-detail", obj.domain)


class OrganizationSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    reseller = serializers.SlugRelatedField(
        slug_field="domain",
        read_only=True,
        allow_null=True,
        help_text="Its reseller's domain; null: direct.",
    )
    services = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

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

    def get_url(self, obj) -> str:
        return _absolute(self.context.get("request"), "organization-detail", obj.domain)


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


# ---------------------------------------------------------------- usage updates


class UsageUpdateSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = UsageUpdate
        fields = [
            "id",
            "url",
            "cutoff",
            "previous_cutoff",
            "status",
            "trigger",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "organizations_count",
            "resellers_count",
            "rows_count",
            "error",
        ]

    def get_url(self, obj) -> str:
        return _absolute(self.context.get("request"), "usage-update-detail", obj.pk)


class UsageUpdateStartSerializer(serializers.Serializer):
    cutoff = serializers.DateTimeField(
        required=False,
        help_text="Usage as of this time (ISO 8601 with offset); default: now. It cannot be "
        "in the future nor before the most recent completed update.",
    )


class ResourceFiguresSerializer(serializers.Serializer):
    resource = serializers.CharField(source="resource.code")
    name = serializers.CharField(source="resource.name")
    unit = serializers.CharField(source="resource.unit")
    kind = serializers.CharField(source="resource.kind")
    limit = Quantity(allow_null=True)
    allocated = Quantity(
        allow_null=True, help_text="Given to organizations and sub-resellers (provider: sold)."
    )
    available = Quantity(allow_null=True)
    used = Quantity()
    percent = serializers.DecimalField(
        max_digits=22, decimal_places=1, allow_null=True, help_text="used ÷ limit, %."
    )
    flagged = serializers.BooleanField(help_text="Usage is above the resource's threshold.")
    organizations = serializers.IntegerField(allow_null=True)


class ServiceFiguresSerializer(serializers.Serializer):
    service = serializers.CharField(source="service.code")
    name = serializers.CharField(source="service.name")
    subscribers = serializers.IntegerField(allow_null=True)
    resources = ResourceFiguresSerializer(many=True)


class UpdateRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    cutoff = serializers.DateTimeField()


class SummaryCountsSerializer(serializers.Serializer):
    resellers = serializers.IntegerField()
    sub_resellers = serializers.IntegerField()
    organizations = serializers.IntegerField()
    direct = serializers.IntegerField(help_text="Organizations added by the provider directly.")
    subscriptions = serializers.IntegerField()
    services = serializers.IntegerField(help_text="Services with at least one subscriber.")


class SummaryUsageSerializer(serializers.Serializer):
    update = UpdateRefSerializer()
    counts = SummaryCountsSerializer()
    services = ServiceFiguresSerializer(many=True)


class ResellerCountsSerializer(serializers.Serializer):
    direct_sub_resellers = serializers.IntegerField()
    sub_resellers = serializers.IntegerField()
    direct_organizations = serializers.IntegerField()
    organizations = serializers.IntegerField()


class ResellerUsageSerializer(serializers.Serializer):
    update = UpdateRefSerializer()
    reseller = serializers.CharField(help_text="The reseller's domain.")
    name = serializers.CharField()
    counts = ResellerCountsSerializer()
    services = ServiceFiguresSerializer(many=True)


class OrganizationUsageSerializer(serializers.Serializer):
    update = UpdateRefSerializer()
    organization = serializers.CharField(help_text="The organization's domain.")
    name = serializers.CharField()
    reseller = serializers.CharField(allow_null=True)
    services = ServiceFiguresSerializer(many=True)


class UsageCellSerializer(serializers.Serializer):
    resource = serializers.CharField()
    used = Quantity()
    limit = Quantity(allow_null=True)


class OrganizationUsageRowSerializer(serializers.Serializer):
    organization = serializers.CharField(source="domain")
    name = serializers.CharField()
    reseller = serializers.CharField(source="reseller.domain", allow_null=True, default=None)
    usage = UsageCellSerializer(many=True, source="usage_cells")


# ---------------------------------------------------------------- reports


class ReportSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField(
        help_text="Where the file is, once the status is ready; else null."
    )
    reseller = serializers.SlugRelatedField(slug_field="domain", read_only=True, allow_null=True)
    organization = serializers.SlugRelatedField(
        slug_field="domain", read_only=True, allow_null=True
    )
    usage_as_of = serializers.DateTimeField(source="update.cutoff", read_only=True)

    class Meta:
        model = Report
        fields = [
            "id",
            "url",
            "kind",
            "reseller",
            "organization",
            "update",
            "usage_as_of",
            "format",
            "status",
            "progress",
            "error",
            "requested_at",
            "started_at",
            "generated_at",
            "row_count",
            "size",
            "sha256",
            "download_url",
        ]

    def get_url(self, obj) -> str:
        return _absolute(self.context.get("request"), "report-detail", obj.pk)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download_url(self, obj) -> str | None:
        if obj.status != Report.Status.READY:
            return None
        return _absolute(self.context.get("request"), "report-file", obj.pk)


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Report.Kind.choices)
    domain = serializers.CharField(
        max_length=253,
        required=False,
        allow_blank=True,
        help_text="The reseller's or organization's domain (kinds reseller and organization).",
    )
    format = serializers.ChoiceField(choices=Report.Format.choices, default=Report.Format.CSV)
    regenerate = serializers.BooleanField(
        default=False, help_text="Make a new file even when this update's report is Ready."
    )
    update = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="A completed usage update's id; default: the most recent one.",
    )

    def validate(self, data):
        kind, domain = data["kind"], (data.get("domain") or "").strip().lower()
        if kind in (Report.Kind.RESELLER, Report.Kind.ORGANIZATION):
            model = Reseller if kind == Report.Kind.RESELLER else Organization
            if not domain:
                raise serializers.ValidationError({"domain": f"Give the {kind}'s domain."})
            data["subject"] = model.objects.filter(domain=domain).first()
            if data["subject"] is None:
                missing = f"No {kind} with the domain {domain}."
                raise serializers.ValidationError({"domain": missing})
        elif domain:
            raise serializers.ValidationError({"domain": f"A {kind} report has no domain."})
        else:
            data["subject"] = None
        if "update" in data:
            found = UsageUpdate.objects.filter(
                pk=data["update"], status=UsageUpdate.Status.SUCCEEDED
            ).first()
            if found is None:
                raise serializers.ValidationError(
                    {"update": f"No completed usage update with the id {data['update']}."}
                )
            data["update"] = found
        return data


# ---------------------------------------------------------------- ingest


class SampleSerializer(serializers.Serializer):
    """One usage sample, as in the import files (for the schema; the body is read by
    hostmeter.api.ingest)."""

    organization = serializers.CharField(help_text="The organization's domain.")
    resource = serializers.CharField(help_text="A resource code, e.g. disk_space.")
    measured_at = serializers.DateTimeField(help_text="ISO 8601 with a UTC offset.")
    value = serializers.CharField(
        help_text="A number ≥ 0 with at most three decimals (a JSON number is accepted)."
    )
    source = serializers.CharField(
        required=False, help_text="Collector name; default “api”. Part of the duplicate key."
    )


class RowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="0-based position of the row in the body.")
    line = serializers.IntegerField(
        allow_null=True, help_text="Line in a CSV or JSON lines body; null for JSON."
    )
    reason = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    stored = serializers.IntegerField(help_text="New samples stored.")
    duplicates = serializers.IntegerField(help_text="Samples already stored, skipped.")
    errors = RowErrorSerializer(many=True, help_text="Rows not stored, with the reason.")


def ingest_limits_text() -> str:
    from .ingest import max_bytes

    return f"at most {max_rows():,} samples and {max_bytes():,} bytes per request"


# ---------------------------------------------------------------- tokens


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
        return _absolute(self.context.get("request"), "token-detail", obj.pk)


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
