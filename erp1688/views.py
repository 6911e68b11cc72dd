import django_rq
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog

from catalog.shops.views import shops as shop_views
from erp1688.refusals import Refused
from erp1688.staff_access import staff_member_required


@require_GET
@never_cache
def healthz(request):
    """Database and Redis reachability, for load balancers and the run script."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure is the answer here, not a crash
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        django_rq.get_connection("default").ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


class AdminJavaScriptCatalog(JavaScriptCatalog):
    """The admin's JavaScript catalogue with the project's (locale/*/djangojs.po) on top:
    Django's zh_Hans does not translate the newer strings of the admin's select boxes
    ("Choose %s by selecting them...")."""

    def get_paths(self, packages):
        return [*super().get_paths(packages), *map(str, settings.LOCALE_PATHS)]


@staff_member_required
def home(request):
    return shop_views.dashboard(request)  # its reads are in catalog/shops/selectors.py


def refused(request, exception=None):
    """handler403: the styled refusal page, in the user's language, for a `PermissionRefused`
    from a service and for Django's own `PermissionDenied` alike."""
    from erp1688.roles import roles_allowed

    message = exception.message if isinstance(exception, Refused) else ""
    code = exception.code if isinstance(exception, Refused) else "permission_denied"
    needed = getattr(exception, "permissions", ())
    context = {"message": message, "code": code, "needed": bool(needed)}
    context["roles"] = "、".join(roles_allowed(needed)) if needed else ""
    return render(request, "refusal.html", context, status=403)
