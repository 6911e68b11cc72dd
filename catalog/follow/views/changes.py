"""The approval inbox (follow changes outside the rule's guards: operators approve, and the
change goes through the live-edit job, or reject it; a viewer sees the inbox and is refused
with the styled 403 page) and the history of the changes rules made, each undone by the
live-edit undo (catalog:live_undo plans the undo draft, its page applies it)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.follow import pages_support as support
from catalog.follow import services as follow
from catalog.follow.views import VIEW
from catalog.live_edits import selectors as live_selectors
from catalog.live_edits.run import QUEUE
from catalog.mirror.views.products import requires
from catalog.models.live_edits import LiveEdit
from catalog.shops import selectors as shop_selectors
from erp1688.refusals import Refused, show_refusal
from sync.workers import announce_queued

PAGE_SIZE = 50


@requires(VIEW)
def follow_inbox(request):
    shop = support.shop_or_none(request.GET.get("shop"))
    page = Paginator(support.inbox(shop), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "shop": shop,
        "shops": shop_selectors.shops(),
        "can_approve": request.user.has_perm(follow.APPROVE),
        "tab": "inbox",
    }
    return render(request, "follow/inbox.html", context)


@require_POST
@requires(VIEW)
def follow_approve(request, pk):
    operation = live_selectors.operation(pk)
    try:
        follow.approve_change(user=request.user, operation=operation)
    except Refused as refused:
        show_refusal(request, refused)  # a viewer's refusal goes on to the 403 page
    else:
        announce_queued(
            request,
            _("Change #%(id)d approved: 1688 is being updated.") % {"id": operation.pk},
            QUEUE,
        )
    return redirect("catalog:follow_inbox")


@require_POST
@requires(VIEW)
def follow_reject(request, pk):
    operation = live_selectors.operation(pk)
    try:
        follow.reject_change(user=request.user, operation=operation)
    except Refused as refused:
        show_refusal(request, refused)
    else:
        messages.success(
            request, _("Change #%(id)d rejected: nothing is sent.") % {"id": operation.pk}
        )
    return redirect("catalog:follow_inbox")


@requires(VIEW)
def follow_history(request):
    shop = support.shop_or_none(request.GET.get("shop"))
    status = request.GET.get("status", "")
    if status not in LiveEdit.Status.values:
        status = ""
    page = Paginator(support.history(shop, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    undos = support.undos_of(page.object_list)
    for change in page.object_list:
        change.open_undo = undos.get(change.pk)
    context = {
        "page": page,
        "shop": shop,
        "shops": shop_selectors.shops(),
        "status": status,
        "statuses": LiveEdit.Status.choices,
        "can_undo": request.user.has_perm("catalog.change_live_offer"),
        "tab": "history",
    }
    return render(request, "follow/history.html", context)
