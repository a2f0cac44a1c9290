"""Project middleware: dates in the viewer's time zone, no caching of customer data, and
sessions that end when idle."""

import time
import zoneinfo

from django.db import DatabaseError
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

_ZONES = zoneinfo.available_timezones()


class ViewerTimeZoneMiddleware:
    """Dates in the viewer's time zone: the browser's (a cookie set by app.js), else the
    provider's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get("hostmeter_tz", "")
        if name in _ZONES:
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            from hostmeter.tenancy.models import Provider

            try:
                request._hostmeter_provider = Provider.get()
                timezone.activate(request._hostmeter_provider.zone)
            except DatabaseError:  # not migrated yet: stay in UTC
                timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class NoStoreMiddleware:
    """Pages and files for a signed-in login (and every API answer) hold customer data:
    no browser or proxy cache may keep them (Cache-Control: no-store, private)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.path.startswith("/api/"):
            add_never_cache_headers(response)
        return response


class IdleSessionMiddleware:
    """Ends a session after SESSION_COOKIE_AGE without a request: a request renews it, at
    most once every RENEW_SECONDS (so that polling pages do not write it every time)."""

    RENEW_SECONDS = 300

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            if now - session.get("_hostmeter_seen", 0) >= self.RENEW_SECONDS:
                session["_hostmeter_seen"] = now  # modified: saved with a fresh expiry
        return self.get_response(request)
