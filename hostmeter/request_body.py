"""A request body shorter than its Content-Length is refused (400), never read as whole."""

from io import IOBase

from django.core.exceptions import BadRequest


class IncompleteBody(BadRequest):
    """The client stopped sending before the Content-Length it announced."""


class _WholeBodyStream(IOBase):
    """Reads like the stream it wraps, but raises IncompleteBody when that stream ends
    before `length` bytes: gunicorn hands a short body over as if complete, and
    Django's LimitedStream trusts it, so a cut-off form or JSON would be taken as sent."""

    def __init__(self, stream, length: int):
        self._stream, self._left = stream, length

    def readable(self) -> bool:
        return True

    def read(self, size=-1, /) -> bytes:
        want = self._left if size is None or size < 0 else min(size, self._left)
        parts = []
        while want > 0:  # the server may return less than asked: only b"" is the end
            data = self._stream.read(want)
            if not data:
                raise IncompleteBody(
                    f"The request body ended {self._left:,} bytes before its Content-Length."
                )
            parts.append(data)
            self._left -= len(data)
            want -= len(data)
        return b"".join(parts)

    def readline(self, size=-1, /) -> bytes:
        limit = self._left if size is None or size < 0 else min(size, self._left)
        line = self._stream.readline(limit) if limit > 0 else b""
        self._left -= len(line)
        if limit > 0 and not line:
            raise IncompleteBody(
                f"The request body ended {self._left:,} bytes before its Content-Length."
            )
        return line


class RequestBodyLengthMiddleware:
    """First in MIDDLEWARE, so that whatever reads the body later (CSRF, forms, DRF
    parsers, the ingest view) reads it through the check; Django turns the
    BadRequest into a 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body then either
        # _stream is the body stream WSGIRequest reads from (a LimitedStream of
        # Content-Length bytes); no public hook replaces it before the first read
        if length > 0 and hasattr(request, "_stream"):
            request._stream = _WholeBodyStream(request._stream, length)
        return self.get_response(request)
