"""Dates in the viewer's time zone: the browser's (a cookie set by app.js), else the provider's."""

import zoneinfo

from django.db import DatabaseError
from django.utils import timezone

_ZONES = zoneinfo.available_timezones()


class ViewerTimeZoneMiddleware:
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
