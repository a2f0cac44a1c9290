"""The view side of scopes: a page or an endpoint that shows a login only its part of the
customer base."""

from django.shortcuts import render
from rest_framework.exceptions import PermissionDenied

from hostmeter.accounts.access import LevelRequiredMixin

from .scope import WHOLE, Scope, login_scope


class ScopeMixin(LevelRequiredMixin):
    """self.scope is the signed-in login's (tenancy.scope); a view that narrows what it
    shows through it sets reseller_scoped = True, which opens it to reseller logins. A
    reseller login that belongs to no reseller is refused."""

    scope: Scope = WHOLE

    def admit(self, request):
        # once the level let the login in: a page it may not open is refused as such,
        # without looking up its reseller
        scope = login_scope(request.user)
        if scope is None:
            return render(request, "403.html", {"not_linked": True}, status=403)
        self.scope = scope
        return None


class ScopedApiMixin:
    """The API side, for DRF views: self.scope of the request's login once it is
    authenticated and let in (reseller_scoped = True opens the view to reseller logins,
    hostmeter.api.permissions), request.narrow_records for the record parameters of its
    FilterSet, and the scope in the serializers' context."""

    reseller_scoped = False
    scope: Scope = WHOLE

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        scope = login_scope(request.user)
        if scope is None:
            raise PermissionDenied("This Reseller login belongs to no reseller.")
        self.scope = scope
        request.narrow_records = scope.records

    def get_serializer_context(self):
        return super().get_serializer_context() | {"scope": self.scope}  # type: ignore[misc]
