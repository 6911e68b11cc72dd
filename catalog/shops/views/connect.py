"""Connecting a 1688 shop: the OAuth2 authorization-code flow (`state` checked).

Thin shells over catalog.shops.services.start_connect / finish_connect, which check the acting
user's `catalog.connect_shop` permission (a refusal is the styled 403 page).
"""

import logging

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from catalog.shops import services
from erp1688.refusals import PermissionRefused, Refused
from erp1688.staff_access import staff_member_required

log = logging.getLogger(__name__)
STATE_KEY = "open1688_oauth_state"
# Where the answer lands: the staff shop pages, or the admin's shop form when started there.
RETURN_KEY = "open1688_oauth_return"


def _callback_url(request) -> str:
    return request.build_absolute_uri(reverse("sync:oauth_callback"))


@staff_member_required
@require_POST
def connect_start(request):
    url, state = services.start_connect(user=request.user, callback_url=_callback_url(request))
    request.session[STATE_KEY] = state
    request.session[RETURN_KEY] = "admin" if request.POST.get("from") == "admin" else "staff"
    return redirect(url)


@staff_member_required
@require_GET
@sensitive_variables("code", "expected")
def oauth_callback(request):
    expected = request.session.pop(STATE_KEY, None)
    admin = request.session.pop(RETURN_KEY, "staff") == "admin"
    code = request.GET.get("code", "")
    try:
        shop = services.finish_connect(
            user=request.user,
            expected_state=expected,
            state=request.GET.get("state", ""),
            code=code,
            error=request.GET.get("error_description") or request.GET.get("error") or "",
            callback_url=_callback_url(request),
        )
    except Refused as refused:
        if isinstance(refused, PermissionRefused):
            raise
        log.warning("connecting a shop refused: %s", refused.code)
        messages.error(request, refused.message)
        return redirect("admin:catalog_shop_changelist" if admin else "catalog:shop_list")
    messages.success(request, _("Shop %(shop)s is connected.") % {"shop": shop.name})
    return redirect("admin:catalog_shop_change" if admin else "catalog:shop_detail", shop.pk)
