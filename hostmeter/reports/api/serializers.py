"""Report records as the API shows them, and a request to generate one."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hostmeter.api.serializers import absolute_url
from hostmeter.metering.api.serializers import PeriodField, period_key
from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.scope import scope_at
from hostmeter.metering.selectors import usage_update_latest
from hostmeter.reports.models import Report
from hostmeter.tenancy.models import Organization, Reseller

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
    subtree = serializers.SlugRelatedField(
        slug_field="domain",
        read_only=True,
        allow_null=True,
        help_text="A reseller login's summary, resellers or organizations report: its "
        "reseller's domain (the file holds that subtree); null: the provider's.",
    )
    usage_as_of = serializers.DateTimeField(source="update.cutoff", read_only=True)
    period = serializers.SerializerMethodField(
        help_text="The billing period of its figures, YYYY-MM."
    )
    period_closed = serializers.BooleanField(
        source="update.closes_period",
        read_only=True,
        help_text="true: the closed period's totals; false: the period to date.",
    )

    class Meta:
        model = Report
        fields = [
            "id",
            "url",
            "kind",
            "reseller",
            "organization",
            "subtree",
            "update",
            "usage_as_of",
            "period",
            "period_closed",
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
        return absolute_url(self.context.get("request"), "report-detail", obj.pk)

    def get_period(self, obj) -> str | None:
        return period_key(obj.update, self.context)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download_url(self, obj) -> str | None:
        if obj.status != Report.Status.READY:
            return None
        return absolute_url(self.context.get("request"), "report-file", obj.pk)


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
    period = PeriodField(
        required=False,
        help_text="A billing period, YYYY-MM: a closed one's report holds its totals (of "
        "its update as of the period's end), the current one's its figures to date. "
        "Default: the most recent update. Not with update.",
    )

    def validate(self, data):
        kind, domain = data["kind"], (data.get("domain") or "").strip().lower()
        if kind in (Report.Kind.RESELLER, Report.Kind.ORGANIZATION):
            if not domain:
                raise serializers.ValidationError({"domain": f"Give the {kind}'s domain."})
        elif domain:
            raise serializers.ValidationError({"domain": f"A {kind} report has no domain."})
        if "update" in data and "period" in data:
            raise serializers.ValidationError({"period": "Give update or period, not both."})
        if "period" in data:
            data["update"] = data.pop("period").update
        elif "update" in data:
            found = UsageUpdate.objects.filter(
                pk=data["update"], status=UsageUpdate.Status.SUCCEEDED
            ).first()
            if found is None:
                raise serializers.ValidationError(
                    {"update": f"No completed usage update with the id {data['update']}."}
                )
            data["update"] = found
        data["subject"] = None
        if kind in (Report.Kind.RESELLER, Report.Kind.ORGANIZATION):
            model = Reseller if kind == Report.Kind.RESELLER else Organization
            scope = self.context.get("scope")
            # a reseller login names only its subtree's as the report's update froze it
            # (another is as if none such)
            if scope is None:
                seen = model.objects.all()
            else:
                at = data.get("update") or usage_update_latest()
                seen = scope_at(scope, at).holders(model)
            data["subject"] = seen.filter(domain=domain).first()
            if data["subject"] is None:
                missing = f"No {kind} with the domain {domain}."
                raise serializers.ValidationError({"domain": missing})
        return data
