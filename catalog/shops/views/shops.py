"""Shop health for staff (not the admin) and the dashboard; their reads are
catalog/shops/selectors.py.

- Shops page: connection state, token expiry countdown, next scheduled sync, the last run's
  result in plain words (auth / quota / data / platform / worker, with what to do;
  catalog/alerts/failures.py `explain`), "sync now" and "authorise again", and the APIs 1688
  refused this app.
- Dashboard (home): running jobs with live progress (htmx polls `dashboard_jobs` every 2 s while
  something runs), failures with their reason and link, the user's alerts, recent changes (the
  newest rows through the (observed_at, id) index: no scan of the change log), the shared rate
  limit in use (as the limiter reports it), product counts per shop.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.follow import selectors as follow_selectors
from catalog.live_edits import writes as live_edit_writes
from catalog.mirror.views.products import requires
from catalog.shops import selectors
from catalog.shops import services as shop_services
from erp1688.refusals import PermissionRefused, Refused
from sync.workers import announce_queued


def dashboard_context(user) -> dict:
    now = timezone.now()
    context: dict = {"now": now}
    if user.has_perm("catalog.view_shop"):
        context["shop_rows"] = selectors.shop_rows(selectors.shops())
        context["rate_limit"] = selectors.rate_limit_state()
    if user.has_perm("catalog.view_syncrun"):
        context.update(selectors.running_jobs())
        context.update(selectors.recent_failures(now))
        context["recent_runs"] = selectors.recent_runs()
    if user.has_perm("catalog.view_pricestockchange"):
        context["recent_changes"] = selectors.recent_changes()
    context["alerts"] = selectors.unread_alerts(user)
    return context


# --- pages ----------------------------------------------------------------------------------


def dashboard(request):
    """The home page (erp1688.views.home is staff-only and hands over here)."""
    return render(request, "shops/home.html", dashboard_context(request.user))


@requires("catalog.view_syncrun")
def dashboard_jobs(request):
    """The running-jobs box alone, polled by htmx while something runs."""
    return render(request, "shops/_dashboard_jobs.html", selectors.running_jobs())


@requires("catalog.view_shop")
def shop_list(request):
    rows = selectors.shop_rows(selectors.shops())
    return render(request, "shops/shop_list.html", {"rows": rows})


@requires("catalog.view_shop")
def shop_detail(request, pk):
    shop = selectors.shop(pk)
    context = {
        "row": selectors.shop_rows([shop])[0],
        "runs": selectors.explained_runs(shop),
        "data_problems": selectors.data_problems(shop),
    }
    context["edit_api"] = live_edit_writes.edit_api_for(shop)
    context["follow_rule"] = follow_selectors.shop_rule(shop)
    # Why following waits (re-authorisation, expiring token, quota, pause), said on the page.
    context["follow_blocked"] = (
        follow_selectors.follow_blocked_reason(shop, context["follow_rule"])
        if context["follow_rule"]
        else None
    )
    return render(request, "shops/shop_detail.html", context)


@requires("catalog.view_shop")
@require_POST
def shop_sync(request, pk):
    shop = selectors.shop(pk)
    full = request.POST.get("full") == "1"
    try:
        shop_services.request_sync(user=request.user, shop=shop, full=full)
    except PermissionRefused:
        raise
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        announce_queued(request, _("A sync of %(shop)s is queued.") % {"shop": shop.name}, "sync")
    return redirect("catalog:shop_detail", pk=shop.pk)
