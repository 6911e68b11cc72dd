"""Writes that talk to 1688 or queue jobs: submit and retry a batch upload, copy offers into a
batch, queue a sync or a full resync, connect a shop (OAuth2 code flow).

Like catalog/publishing/services.py: keyword-only, the acting user is an argument (`user=None` is
the
system: the scheduler, a job, a command run without --as), the permission is checked here, and a
refusal is `erp1688.refusals.Refused` with a stable code.
"""

import secrets

from django.utils.translation import gettext_lazy as _

from catalog.models import Shop, SyncRun, UploadBatch
from catalog.publishing import upload
from catalog.shops.clients import connect_shop, make_client
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require
from open1688 import Open1688Client, Open1688Error

try:  # enqueueing moves next to the jobs (sync.jobs); older trees had it in sync.scheduling
    from sync.jobs import enqueue_sync
except ImportError:  # pragma: no cover - depends on the tree's state
    from sync.scheduling import enqueue_sync


# --- batch upload --------------------------------------------------------------------------


def submit_batch(*, user, batch: UploadBatch, queue: bool = True) -> str | None:
    """Validate the batch and queue its upload; returns the job id (None with queue=False, for
    a caller that runs `catalog.publishing.upload.run_upload` itself, as `upload_batch --inline`
    does).

    Refused: `shop.not_connected`, `batch.busy`, `batch.nothing_to_upload`.
    """
    require(user, "catalog.submit_uploadbatch")
    upload.prepare_batch(batch, user=user)
    return upload.enqueue_upload(batch) if queue else None


def retry_failed(*, user, batch: UploadBatch, queue: bool = True) -> str | None:
    """Queue the failed items again (unknown ones are reconciled first); succeeded ones stay.

    Refused: as submit_batch, and `batch.nothing_to_retry`.
    """
    require(user, "catalog.submit_uploadbatch")
    upload.prepare_batch(batch, user=user, retry=True)
    return upload.enqueue_upload(batch) if queue else None


def resubmit_rejected(*, user, batch: UploadBatch, queue: bool = True) -> str | None:
    """Queue the items rejected in 1688's audit again, as edits of their offers (never a second
    offer under the same 货号: catalog/publishing/upload/resubmit.py).

    Refused: as submit_batch, and `batch.nothing_to_resubmit`.
    """
    require(user, "catalog.submit_uploadbatch")
    upload.prepare_batch(batch, user=user, resubmit=True)
    return upload.enqueue_upload(batch) if queue else None


def copy_offers(
    *, user, batch: UploadBatch, offer_refs: str, client: Open1688Client | None = None
) -> upload.CopyResult:
    """Stage copies of 1688 offers (pasted links or ids) as new items of the batch.

    Refused: `batch.locked`, `shop.not_connected`; per-offer errors are in the result.
    """
    require(user, "catalog.add_uploaditem")
    return upload.copy_offers(batch, offer_refs, client=client)


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


def preflight_batch(*, user, batch: UploadBatch) -> list[dict]:
    """Validation and 1688's add.preview per item before submit
    (catalog/publishing/upload/publishing.py)."""
    require(user, "catalog.change_uploadbatch")
    from catalog.publishing.upload.publishing import preflight

    with make_client() as client:
        return preflight(batch, client=client)


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
