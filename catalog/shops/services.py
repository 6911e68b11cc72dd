"""Shop writes: queue a sync or a full resync, connect a shop (OAuth2 authorization-code
flow), and read its publishing settings and category tree from 1688 again.

Like catalog/publishing/services.py: keyword-only, the acting user is an argument (`user=None` is
the system: the scheduler, a job, a command run without --as), the permission is checked here,
and a refusal is `erp1688.refusals.Refused` with a stable code.
"""

import secrets

from django.utils.translation import gettext_lazy as _

from catalog.models import Shop, SyncRun
from catalog.shops.clients import connect_shop, make_client
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require
from open1688 import Open1688Error
from sync.jobs import enqueue_sync

# --- sync ----------------------------------------------------------------------------------


def request_sync(*, user, shop: Shop, full: bool = False) -> SyncRun:
    """Queue a sync (or a full resync) of one shop; returns its SyncRun (queued).

    Refused: `shop.not_syncable` (the shop needs re-authorisation or is disabled).
    """
    require(user, "catalog.sync_shop", *(["catalog.resync_shop"] if full else []))
    if not shop.is_syncable:
        raise Refused(
            RefusalCode.SHOP_NOT_SYNCABLE,
            _("%(shop)s was not queued: %(status)s"),
            params={"shop": shop, "status": shop.get_status_display()},
        )
    return enqueue_sync(shop, kind=SyncRun.Kind.FULL if full else SyncRun.Kind.INCREMENTAL)


# --- connecting a shop (OAuth2 authorization-code flow) ------------------------------------


def start_connect(*, user, callback_url: str) -> tuple[str, str]:
    """The 1688 authorisation URL to send the user to, and the `state` to keep in the session."""
    require(user, "catalog.connect_shop")
    with make_client() as client:
        state = client.new_state()
        return client.authorize_url(callback_url, state), state


def finish_connect(
    *,
    user,
    expected_state: str | None,
    state: str,
    code: str,
    error: str = "",
    callback_url: str,
) -> Shop:
    """Check the OAuth answer against the session's state, exchange the code, save the shop.

    Refused: `oauth.state_mismatch`, `oauth.denied`, `oauth.exchange_failed`.
    """
    require(user, "catalog.connect_shop")
    # Compared as bytes: compare_digest refuses non-ASCII str (a TypeError).
    if not expected_state or not secrets.compare_digest(state.encode(), expected_state.encode()):
        raise Refused(
            RefusalCode.OAUTH_STATE_MISMATCH,
            _("The authorisation answer did not match this session; please connect again."),
        )
    if not code:
        raise Refused(
            RefusalCode.OAUTH_DENIED,
            _("1688 did not authorise the shop: %(reason)s"),
            params={"reason": error or _("no code")},
        )
    try:
        with make_client() as client:
            token = client.exchange_code(code, callback_url)
        return connect_shop(token)
    except Open1688Error as exc:
        raise Refused(
            RefusalCode.OAUTH_EXCHANGE_FAILED,
            _("Could not connect the shop: %(error)s"),
            params={"error": exc.message},
        ) from exc


# --- settings read from 1688 ----------------------------------------------------------------


def refresh_publishing_settings(*, user, shop: Shop):
    """Read the shop's photobank albums, freight templates and send-goods addresses from 1688
    and choose defaults where none is chosen (catalog/publishing/upload/publishing.py)."""
    require(user, "catalog.change_shop")
    from catalog.publishing.upload.publishing import publishing_for

    with make_client() as client:
        return publishing_for(shop, client=client, refresh=True)


def refresh_categories(*, user, shop: Shop) -> int:
    """Read the whole category tree from 1688 into the shop's cache (one call per category:
    a few hundred); returns its size (catalog/publishing/categories.py)."""
    require(user, "catalog.change_shop")
    from catalog.publishing.categories import refresh_tree

    with make_client() as client:
        return refresh_tree(shop, client=client)
