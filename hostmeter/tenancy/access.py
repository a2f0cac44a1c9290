"""The view side of scopes: a page that shows a login only its part of the customer base."""

from django.shortcuts import render

from hostmeter.accounts.access import LevelRequiredMixin

from .scope import WHOLE, Scope, login_scope


class ScopeMixin(LevelRequiredMixin):
    """self.scope is the signed-in login's (tenancy.scope); a view that narrows what it
    shows through it sets reseller_scoped = True, which opens it to reseller logins. A
    reseller login that belongs to no reseller is refused."""

    scope: Scope = WHOLE

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            scope = login_scope(request.user)
            if scope is None:
                return render(request, "403.html", {"not_linked": True}, status=403)
            self.scope = scope
        return super().dispatch(request, *args, **kwargs)
