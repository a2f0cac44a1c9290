"""Usage updates and their usage figures as the API shows them, and the usage samples the
ingest endpoint takes (for the schema: hostmeter.metering.api.ingest reads the body)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hostmeter.api.serializers import Quantity, absolute_url
from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.selectors.updates import (
    UnknownPeriod,
    UsagePeriod,
    usage_period_for_key,
    usage_period_of,
)
from hostmeter.tenancy.models import Provider

PERIOD_HELP = (
    "A billing period, YYYY-MM (the month it starts in): the current one (its figures to "
    "date) or a closed one (its totals, as of its end)."
)

# ---------------------------------------------------------------- billing periods


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}$", "example": "2026-11"})
class PeriodField(serializers.CharField):
    """A billing period with usage figures, named YYYY-MM: its UsagePeriod (the update
    that shows it). Anything else is refused with the reason and the periods known."""

    def __init__(self, **kwargs):
        super().__init__(**{"help_text": PERIOD_HELP, **kwargs})

    def to_internal_value(self, data) -> UsagePeriod:
        key = super().to_internal_value(data)
        try:
            return usage_period_for_key(key)
        except UnknownPeriod as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value: UsagePeriod) -> str:
        return value.key


class UpdatePeriodSerializer(serializers.Serializer):
    """The query of an update's endpoints: with `latest`, a billing period's update."""

    period = PeriodField(required=False)

    def validate(self, data):
        if "period" in data and self.context["update_key"] != "latest":
            raise serializers.ValidationError(
                {
                    "period": "Give a period with latest (usage-updates/latest/…?period=YYYY-MM), "
                    "not with an update's id."
                }
            )
        return data


def period_key(update: UsageUpdate, context: dict) -> str | None:
    """The update's billing period (YYYY-MM), the provider's zone read once per answer
    (the context is the whole answer's, shared by its rows)."""
    zone = context.get("provider_zone")
    if zone is None:
        zone = context["provider_zone"] = Provider.get().zone
    found = usage_period_of(update=update, zone=zone)
    return found.key if found else None


# ---------------------------------------------------------------- usage updates


# What a reseller login is not told of an update (null to it).
PROVIDER_ONLY = ("requested_by", "organizations_count", "resellers_count", "rows_count", "error")


class UsageUpdateSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    period = serializers.SerializerMethodField(
        help_text="Its billing period, YYYY-MM (null before it ran)."
    )
    closes_period = serializers.BooleanField(
        read_only=True,
        help_text="As of its billing period's end: its counters are the period's totals.",
    )

    class Meta:
        model = UsageUpdate
        fields = [
            "id",
            "url",
            "cutoff",
            "previous_cutoff",
            "period",
            "period_start",
            "period_end",
            "closes_period",
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
        # null to a reseller login (PROVIDER_ONLY)
        extra_kwargs = {
            name: {"allow_null": True}
            for name in ("organizations_count", "resellers_count", "rows_count", "error")
        }

    def get_url(self, obj) -> str:
        return absolute_url(self.context.get("request"), "usage-update-detail", obj.pk)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        scope = self.context.get("scope")
        if scope is not None and not scope.whole:
            # the provider's: who ran it, its whole customer base's counts, its error
            data |= dict.fromkeys(PROVIDER_ONLY)
        return data

    def get_period(self, obj) -> str | None:
        return period_key(obj, self.context)


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
    period = serializers.CharField(
        allow_null=True, help_text="The figures' billing period, YYYY-MM."
    )
    closes_period = serializers.BooleanField(
        help_text="true: the period is closed and these are its totals; false: to date."
    )


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


# ---------------------------------------------------------------- ingest


class SampleSerializer(serializers.Serializer):
    """One usage sample, as in the import files (for the schema; the body is read by
    hostmeter.metering.api.ingest)."""

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
    late = serializers.IntegerField(
        help_text="Of the stored: measured at or before the latest usage update's cut-off. "
        "The next update counts them (a closed billing period's as its adjustment)."
    )
    late_before = serializers.DateTimeField(
        allow_null=True, help_text="That cut-off (none before the first update)."
    )
    errors = RowErrorSerializer(many=True, help_text="Rows not stored, with the reason.")
