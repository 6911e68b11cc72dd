"""Connecting a 1688 shop: the OAuth2 authorization-code flow (staff only, `state` checked)."""

import logging
import secrets

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from sync.gateway import connect_shop, make_client
from sync.open1688 import Open1688Error

log = logging.getLogger(__name__)
STATE_KEY = "open1688_oauth_state"


def _callback_url(request) -> str:
    return request.build_absolute_uri(reverse("sync:oauth_callback"))


@staff_member_required
@require_POST
@permission_required("catalog.change_shop", raise_exception=True)
def connect_start(request):
    with make_client() as client:
        state = client.new_state()
        request.session[STATE_KEY] = state
        return redirect(client.authorize_url(_callback_url(request), state))


@staff_member_required
@require_GET
@permission_required("catalog.change_shop", raise_exception=True)
@sensitive_variables("code", "token", "state", "expected")
def oauth_callback(request):
    expected = request.session.pop(STATE_KEY, None)
    state, code = request.GET.get("state", ""), request.GET.get("code", "")
    # Compared as bytes: compare_digest refuses non-ASCII str (a TypeError, a 500 page).
    if not expected or not secrets.compare_digest(state.encode(), expected.encode()):
        messages.error(
            request, _("The authorisation answer did not match this session; please connect again.")
        )
        return redirect("admin:catalog_shop_changelist")
    if not code:
        reason = request.GET.get("error_description") or request.GET.get("error") or _("no code")
        messages.error(
            request, _("1688 did not authorise the shop: %(reason)s") % {"reason": reason}
        )
        return redirect("admin:catalog_shop_changelist")
    try:
        with make_client() as client:
            token = client.exchange_code(code, _callback_url(request))
        shop = connect_shop(token)
    except Open1688Error as exc:
        log.warning("OAuth code exchange failed: %s", exc.__class__.__name__)
        messages.error(request, _("Could not connect the shop: %(error)s") % {"error": exc.message})
        return redirect("admin:catalog_shop_changelist")
    messages.success(request, _("Shop %(shop)s is connected.") % {"shop": shop.name})
    return redirect("admin:catalog_shop_change", shop.pk)
