"""The admin app, with hostmeter's site (loaded lazily: it imports auth forms)."""

from django.contrib.admin.apps import AdminConfig


class HostmeterAdminConfig(AdminConfig):
    default_site = "hostmeter.admin_site.HostmeterAdminSite"
