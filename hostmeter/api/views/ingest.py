"""The ingest endpoint: collectors push usage samples."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from .. import ingest
from .. import serializers as s
from ..permissions import INGEST
from .base import (
    ApiView,
)

# ---------------------------------------------------------------- ingest


def _ingest_description() -> str:
    return (
        "Stores usage samples from collectors: a JSON array of sample objects "
        "(`application/json`), CSV with a header row (`text/csv`) or JSON lines "
        "(`application/x-ndjson`), with the fields of `hostmeter import_usage`: organization "
        "(domain), resource (code), measured_at (ISO 8601 with offset), value, source "
        f"(optional, default “{ingest.DEFAULT_SOURCE}”). Limits: {s.ingest_limits_text()} "
        "(413 beyond, nothing stored). A body that cannot be read (not a JSON array, no CSV "
        "header…) gets 400 and nothing is stored. Otherwise every good row is stored, a "
        "sample already stored is skipped (posting the same body again stores nothing), and "
        "each bad row is listed with its 0-based index and the reason. Levels: Systems and "
        "Operations, with a full or an ingest-only token."
    )


@extend_schema(tags=["ingest"])
class UsageSampleIngestView(ApiView):
    level_actions = {"POST": INGEST}
    ingest = True

    @extend_schema(
        summary="Push usage samples",
        description=_ingest_description(),
        request={
            "application/json": s.SampleSerializer(many=True),
            "text/csv": OpenApiTypes.STR,
            "application/x-ndjson": OpenApiTypes.STR,
        },
        responses={
            200: s.IngestResultSerializer,
            411: OpenApiResponse(s.ErrorSerializer, description="No Content-Length."),
            413: OpenApiResponse(
                s.ErrorSerializer, description="Too many bytes or samples; nothing stored."
            ),
            415: OpenApiResponse(s.ErrorSerializer, description="Not JSON, CSV or JSON lines."),
        },
    )
    def post(self, request):
        raw_request = request._request  # the body is read here, bounded, never by a parser
        kind = ingest.media_type(request.content_type or "")
        if kind not in ingest.MEDIA_TYPES:
            return _error(
                415,
                f"Send application/json, text/csv or application/x-ndjson (got {kind or 'none'}).",
            )
        try:
            length = int(raw_request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0:
            return _error(411, "The request needs a Content-Length and a body.")
        if length > ingest.max_bytes():
            return _error(413, f"The body is larger than {ingest.max_bytes():,} bytes.")
        body = raw_request.read(length)
        try:
            outcome = ingest.usage_samples_ingest_body(body=body, content_type=kind)
        except ingest.BodyTooLarge as exc:
            return _error(413, f"Too large: {exc}. Nothing was stored.")
        except ingest.BodyMalformed as exc:
            return _error(400, f"Cannot read the body: {exc}. Nothing was stored.")
        data = {
            "received": outcome.received,
            "stored": outcome.stored,
            "duplicates": outcome.duplicates,
            "errors": [e.__dict__ for e in outcome.errors],
        }
        return Response(s.IngestResultSerializer(data).data)


def _error(code: int, detail: str) -> Response:
    return Response({"detail": detail}, status=code)
