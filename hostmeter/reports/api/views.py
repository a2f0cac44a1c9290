"""Reports: request generation, follow its status, download the file."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from hostmeter.api.renderers import FileRenderer
from hostmeter.api.serializers import ErrorSerializer
from hostmeter.api.views.base import (
    CONFLICT,
    ID,
    REPORTS,
    ApiView,
    Conflict,
    ListView,
    created,
    valid_data,
)
from hostmeter.metering.selectors.updates import usage_update_latest
from hostmeter.reports.models import Report
from hostmeter.reports.selectors import reports_seen
from hostmeter.reports.services import (
    ReportError,
    ReportFileMissing,
    report_download_response,
    report_request,
)
from hostmeter.tenancy.access import ScopedApiMixin

from . import serializers as s
from .filtersets import ReportFilterSet

# Report records, newest first: the current ones and every earlier file.
REPORTS_QUERYSET = Report.objects.select_related("update", "reseller", "organization", "subtree")


# A reseller login's: its subtree's reports and files (reports_seen), the others not found.
class ScopedReportsMixin(ScopedApiMixin):
    reseller_scoped = True

    def get_queryset(self):
        return reports_seen(self.scope, REPORTS_QUERYSET)


@extend_schema_view(
    get=extend_schema(summary="List reports: the current ones and every earlier file")
)
@extend_schema(tags=["reports"])
class ReportListView(ScopedReportsMixin, ListView):
    level_actions = {"GET": REPORTS, "POST": REPORTS}
    serializer_class = s.ReportSerializer
    queryset = REPORTS_QUERYSET
    filterset_class = ReportFilterSet
    orderings = {"-id": ("-id",), "id": ("id",)}

    @extend_schema(
        summary="Generate a report",
        description="Queues the report of the most recent completed update (or `update`) "
        "for its subject; answers 202 with the report to poll until its status is ready "
        "(200 if it is Ready already and regenerate is false). 409 when there is no "
        "completed usage update yet. A reseller login's summary, resellers and organizations "
        "reports are of its subtree; its reseller and organization reports of its subtree's.",
        request=s.ReportRequestSerializer,
        responses={202: s.ReportSerializer, 200: s.ReportSerializer, 409: CONFLICT},
    )
    def post(self, request):
        data = valid_data(s.ReportRequestSerializer, request, context={"scope": self.scope})
        try:
            report, _queued = report_request(
                kind=data["kind"],
                subject=data["subject"],
                update=data.get("update") or usage_update_latest(),
                user=request.user,
                format=data["format"],
                regenerate=data["regenerate"],
                subtree=None if self.scope.whole or data["subject"] else self.scope.reseller(),
            )
        except ReportError as exc:
            raise Conflict(str(exc)) from exc
        body = self.get_serializer(report).data
        ready = report.status == Report.Status.READY
        code = status.HTTP_200_OK if ready else status.HTTP_202_ACCEPTED
        return created(body, body["url"], code)


@extend_schema(tags=["reports"])
class ReportDetailView(ScopedReportsMixin, ApiView):
    level_actions = {"GET": REPORTS}
    serializer_class = s.ReportSerializer

    @extend_schema(summary="A report's status, progress and file details", parameters=[ID])
    def get(self, request, pk):
        report = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(self.get_serializer(report).data)


@extend_schema(tags=["reports"])
class ReportFileView(ScopedReportsMixin, ApiView):
    level_actions = {"GET": REPORTS}
    renderer_classes = [JSONRenderer, FileRenderer]

    @extend_schema(
        summary="Download a report's file",
        parameters=[ID, OpenApiParameter("format", exclude=True)],
        description="The CSV or XLSX file once the report is Ready; 409 before.",
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            (409, "application/json"): CONFLICT,
            (410, "application/json"): OpenApiResponse(
                ErrorSerializer,
                description="The file is missing from storage; the report is now Failed.",
            ),
        },
    )
    def get(self, request, pk):
        report = get_object_or_404(self.get_queryset(), pk=pk)
        if report.status != Report.Status.READY:
            raise Conflict(
                f"The report is {report.get_status_display()}"
                + (f" ({report.progress}% done)" if report.status == "generating" else "")
                + ": it can be downloaded once its status is Ready."
                + (f" It failed: {report.error}" if report.status == "failed" else "")
            )
        try:
            return report_download_response(reports=[report], user=request.user)
        except ReportFileMissing as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_410_GONE)
