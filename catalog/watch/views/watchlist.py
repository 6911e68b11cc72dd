"""Watching suppliers: the watch list (add by id, link or search result, one or many), a
watched offer's page (its supplier, price/stock history, market figures where granted), and
the 1688 message push endpoint (POST /push/1688/, signed, no login).

Views parse input, read through catalog/watch/selectors.py, call one service of
catalog/watch/services.py or catalog/watch/push.py and render; a business refusal is shown as a
message, a `PermissionRefused` goes on to the styled 403 page.
"""

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from catalog.mirror import change_log
from catalog.mirror import selectors as product_selectors
from catalog.mirror.views.products import requires
from catalog.models import Channel
from catalog.watch import push, selectors
from catalog.watch import services as watch
from erp1688.refusals import PermissionRefused, Refused
from erp1688.security import client_ip

log = logging.getLogger(__name__)

VIEW = "catalog.view_watchedoffer"
WATCH = watch.WATCH_PERMISSION
TABLE_CHANGES = 100


# --- the push endpoint --------------------------------------------------------------------


@csrf_exempt
def push_http(request):
    """1688 message push over HTTP: a form POST {message, _aop_signature}. 401 on a missing or
    bad signature, 429 (body unread) once the address sent too many of those this minute, 400
    on a body that is not a message, 410 on a message older than the de-duplication memory;
    200 (also for a duplicate) once the message is stored and its re-reads are queued."""
    if request.method != "POST":
        return JsonResponse({"success": False, "error": "POST a push message"}, status=405)
    address = client_ip(request)
    wait = push.forged_retry_after(address)
    if wait:
        answer = JsonResponse({"success": False, "error": "too many forged posts"}, status=429)
        answer["Retry-After"] = str(wait)
        return answer
    try:
        envelope = push.verify_http_push(request.POST.dict())
    except push.BadPush as bad:
        if bad.status == 401:
            push.count_forged(address)
        return JsonResponse({"success": False, "error": str(bad)}, status=bad.status)
    if push.receive(envelope, channel=Channel.PUSH_HTTP).stale:
        error = f"message older than the {settings.PUSH_MEMORY_DAYS}-day de-duplication memory"
        return JsonResponse({"success": False, "error": error}, status=410)
    return JsonResponse({"success": True})


# --- staff pages --------------------------------------------------------------------------


class WatchForm(forms.Form):
    refs = forms.CharField(
        label=gettext_lazy("Offer ids or links"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=50_000,
        help_text=gettext_lazy("One or many, separated by spaces, commas or lines."),
    )


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _report(request, result: watch.WatchResult) -> None:
    if result.added:
        messages.success(
            request,
            _("Now watching %(offers)s.")
            % {"offers": ", ".join(str(w.offer_id) for w in result.added)},
        )
    if result.already:
        messages.info(
            request,
            _("Already watched: %(offers)s.") % {"offers": ", ".join(map(str, result.already))},
        )
    for offer_id, reason in result.failed:
        messages.error(
            request,
            _("Offer %(offer)s could not be watched: %(reason)s")
            % {"offer": offer_id, "reason": reason},
        )


@requires(VIEW)
def watch_list(request):
    form = WatchForm()
    if request.method == "POST":
        form = WatchForm(request.POST)
        if form.is_valid():
            try:
                result = watch.watch_offers(user=request.user, refs=form.cleaned_data["refs"])
            except PermissionRefused:
                raise
            except Refused as refusal:
                form.add_error("refs", refusal.message)
            else:
                _report(request, result)
                return redirect("catalog:watch_list")
    show_all = request.GET.get("show") == "all"
    context = {
        "form": form,
        "offers": selectors.watch_list(show_all=show_all),
        "show_all": show_all,
        "recent_messages": selectors.recent_push_messages(),
        "poll_minutes": watch.poll_interval().total_seconds() / 60,
    }
    return render(request, "watch/watch_list.html", context)


@require_POST
@requires(WATCH)
def watch_add(request):
    """One offer (a search result's "Watch" button: offer_id, next)."""
    fallback = reverse("catalog:watch_list")
    try:
        result = watch.watch_offers(user=request.user, refs=request.POST.get("offer_id", ""))
    except PermissionRefused:
        raise
    except Refused as refusal:
        messages.error(request, refusal.message)
    else:
        _report(request, result)
    return HttpResponseRedirect(_safe_next(request, fallback))


@require_POST
@requires(WATCH)
def watch_remove(request, pk):
    watched = selectors.watched_offer(pk)
    watch.unwatch(user=request.user, watched=watched)
    messages.success(request, _("Offer %(offer)s is no longer watched.") % {"offer": watched})
    return redirect("catalog:watch_list")


@require_POST
@requires(WATCH)
def watch_reread(request, pk):
    watched = selectors.watched_offer(pk)
    try:
        result = watch.reread_now(user=request.user, watched=watched)
    except PermissionRefused:
        raise
    except Refused as refusal:
        messages.error(request, refusal.message)
    else:
        if result.error:
            messages.error(request, result.error)
        else:
            messages.success(
                request,
                _("Read again: %(count)d change(s).") % {"count": result.changes},
            )
    return redirect("catalog:watch_detail", pk=watched.pk)


class _ChartSku:
    """What product_selectors.history_chart needs of a SKU: its id and its label."""

    def __init__(self, sku_id: int, label: str):
        self.sku_id, self.label = sku_id, label

    def __str__(self):
        return self.label or str(self.sku_id)


@requires(VIEW)
def watch_detail(request, pk):
    watched = selectors.watched_offer(pk)
    changes = selectors.recent_changes(watched, product_selectors.CHART_CHANGES)
    skus = [
        _ChartSku(int(sku_id), values.get("label", ""))
        for sku_id, values in (watched.snapshot.get("skus") or {}).items()
    ]
    context = {
        "watched": watched,
        "snapshot_skus": [
            (sku_id, values) for sku_id, values in (watched.snapshot.get("skus") or {}).items()
        ],
        "chart": product_selectors.history_chart(
            first_seen_at=watched.added_at, changes=changes, skus=skus
        ),
        "change_groups": change_log.grouped(changes[:TABLE_CHANGES]),
        "siblings": selectors.same_supplier(watched),
        "market": watch.market_figures(watched.offer_id),
    }
    return render(request, "watch/watch_detail.html", context)
