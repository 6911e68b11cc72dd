"""The run's state machine, the body of the upload job.

Per item: pending → uploading (committed before the call) → auditing → published | rejected,
or failed; a send without a known outcome (timeout, dropped answer, crash) makes the item
`unknown` with `next_check_at` = now + UPLOAD_UNKNOWN_GRACE_SECONDS, and 1688 is looked at
(by 货号: the list's cargoNumber filter, then the offer's 1398 attribute and SKU cargo numbers)
UPLOAD_RECONCILE_LOOKS times, a grace apart, before anything is sent again; a late offer is
adopted. A look due within UPLOAD_INLINE_WAIT_SECONDS is waited for in the run; a later one
puts the job on the queue again for that time (enqueue_in). Items in audit are read again
until 1688 decides (and a sync moves them on too: `settle_from_mirror`).
A quota answer stops the run and queues it again; a refused authorisation stops it for staff.
See the retry table in the package docstring.
"""

import itertools
import logging
import math
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

from catalog.models import Shop, UploadBatch, UploadItem
from catalog.publishing.batch_validation import refresh_batch_counts
from catalog.publishing.categories import cached_attributes
from catalog.publishing.upload import publishing as pub
from catalog.publishing.upload import schema_body
from catalog.publishing.upload.audits import audit_check_job, check_audits
from catalog.publishing.upload.item_states import (
    Context,
    S,
    adopt,
    finish_batch,
    item_status_for,
    set_item,
)
from catalog.publishing.upload.queue import enqueue_upload, lock_key
from catalog.shops.clients import call_as_shop, client_or_new, record_declined_api
from erp1688.messages import as_text
from erp1688.messages import stored as _
from open1688 import (
    AuthError,
    BusinessError,
    InvalidParameterError,
    Open1688Client,
    Open1688Error,
    PermissionDeniedError,
    QuotaError,
    QuotaSpentError,
    RateLimitTimeout,
    SignatureError,
)
from open1688.types import CARGO_NUMBER_ATTRIBUTE
from sync.locks import LockLost, held_lock

log = logging.getLogger(__name__)
# Delayed audit checks queued before they moved to audits.py name this module: still found.
__all__ = ["MAX_SENDS_PER_RUN", "UploadStopped", "audit_check_job", "run_upload"]

# Sends of one item (since the last staff retry): the first, and one more after an unknown
# outcome that every look showed was not applied. Further tries wait for staff (retry_failed).
MAX_SENDS_PER_RUN = 2
ACL_CODES = {"gw.APIACLDecline", "gw.APIUnsupported"}
Progress = Callable[[UploadBatch, int, int], None]


class UploadStopped(Exception):
    """The run cannot go on now; `reason` is shown to staff, `retry_in` schedules the job again."""

    def __init__(self, reason: str, *, retry_in: int | None = None):
        super().__init__(reason)
        self.reason, self.retry_in = reason, retry_in


def grace() -> timedelta:
    return timedelta(seconds=float(settings.UPLOAD_UNKNOWN_GRACE_SECONDS))


# --- the job body --------------------------------------------------------------------------


def run_upload(
    batch_id: int, *, client: Open1688Client | None = None, progress: Progress | None = None
) -> UploadBatch:
    """Upload every valid, not yet sent item of the batch, look for unknown ones, follow the
    audit of sent ones; the job body. `progress(batch, chunk_number, chunk_count)` is called
    after each chunk."""
    batch = UploadBatch.objects.select_related("shop").get(pk=batch_id)
    with held_lock(lock_key(batch.pk), owner=f"batch {batch.pk}") as lock:
        if lock is None:
            log.info("upload of batch %s skipped: another run holds its lock", batch.pk)
            return batch
        try:
            with client_or_new(client) as api:
                publishing = pub.publishing_for(batch.shop)
                context = Context(batch, batch.shop, api, publishing)
                _run(context, lock, progress or (lambda *args: None))
        except UploadStopped as stop:
            _stop(batch, stop)
        except LockLost as exc:
            # Another run may hold the batch now: leave the batch's state to it.
            log.error("upload of batch %s stopped: %s", batch.pk, exc)
        except Exception:
            # The detail goes to the log (the job's failure); staff read what to do.
            finish_batch(
                batch,
                _(
                    "The upload stopped on an unexpected error, recorded for the administrator: "
                    "submit the batch again to go on; items already sent are not sent twice."
                ),
            )
            raise
    return batch


def _run(context: Context, lock, progress: Progress) -> None:
    batch = context.batch
    batch.status, batch.last_error = UploadBatch.Status.RUNNING, ""
    batch.save(update_fields=["status", "last_error"])
    ids = list(batch.items.to_upload().values_list("pk", flat=True))
    size = max(1, settings.UPLOAD_CHUNK_SIZE)
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    for number, chunk in enumerate(chunks, start=1):
        try:
            for item in UploadItem.objects.filter(pk__in=chunk).order_by("position", "id"):
                _upload_item(context, item)
                lock.check()  # renewed by its thread; stop here if it was lost
        finally:
            refresh_batch_counts(batch)  # live progress, also when the chunk stops early
        progress(batch, number, len(chunks))
    # Unknown outcomes: look again when due, in this run when that is soon (a bounded number
    # of rounds: 1688 answering nothing but errors must not keep the job busy for ever).
    rounds = 2 * (MAX_SENDS_PER_RUN + 1) * max(1, settings.UPLOAD_RECONCILE_LOOKS)
    for round_number in itertools.count(1):
        unresolved = batch.items.valid().filter(status__in=UploadItem.UNRESOLVED)
        due = unresolved.aggregate(at=Min("next_check_at"))["at"]
        if not unresolved.exists():
            break
        wait = ((due - timezone.now()).total_seconds()) if due else 0
        if wait > settings.UPLOAD_INLINE_WAIT_SECONDS or round_number > rounds:
            due = max(due or timezone.now(), timezone.now() + grace())
            _schedule_check(batch, due, unresolved.count())
            return
        _sleep(max(0.0, wait), lock)
        for item in unresolved.order_by("next_check_at", "position", "id"):
            _upload_item(context, item)
            lock.check()
        refresh_batch_counts(batch)
    check_audits(context)
    finish_batch(batch)


def _sleep(seconds: float, lock) -> None:
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(left, 1.0))
        lock.check()


def _schedule_check(batch: UploadBatch, due, count: int) -> None:
    delay = max(1, math.ceil((due - timezone.now()).total_seconds()))
    batch.status = UploadBatch.Status.SUBMITTED
    batch.last_error = as_text(
        _(
            "%(count)d item(s) with an unknown outcome: 1688 is checked again at %(time)s "
            "before anything is sent again."
        )
        % {"count": count, "time": f"{timezone.localtime(due):%H:%M:%S}"}
    )
    batch.save(update_fields=["status", "last_error"])
    refresh_batch_counts(batch)
    job_id = enqueue_upload(batch, delay=delay)
    log.info(
        "upload of batch %s: unknown outcomes, next look in %ss (job %s)", batch.pk, delay, job_id
    )


def _stop(batch: UploadBatch, stop: UploadStopped) -> None:
    if stop.retry_in is None:
        finish_batch(batch, stop.reason)
        return
    batch.status, batch.last_error = UploadBatch.Status.SUBMITTED, as_text(stop.reason)[:2000]
    batch.save(update_fields=["status", "last_error"])
    job_id = enqueue_upload(batch, delay=stop.retry_in)
    log.info("upload of batch %s rate limited; job %s in %ss", batch.pk, job_id, stop.retry_in)


# --- one item --------------------------------------------------------------------------------


def _upload_item(context: Context, item: UploadItem) -> None:
    now = timezone.now()
    while True:
        if item.status == S.UPLOADING and item.next_check_at is None:
            # Left `uploading` by a run that died during the call: unknown from its send on.
            sent = item.last_attempt_at or now
            set_item(item, status=S.UNKNOWN, looks=0, next_check_at=sent + grace())
        if item.status in UploadItem.UNRESOLVED:
            if item.next_check_at and item.next_check_at > timezone.now():
                return  # looked at when due (this run or a scheduled one)
            if _reconcile(context, item) is not False:
                return  # adopted, or to be looked at again later
        if item.sends >= MAX_SENDS_PER_RUN:
            set_item(
                item,
                status=S.FAILED,
                next_check_at=None,
                remote_error_code="no_answer",
                remote_error_message=as_text(
                    _(
                        "1688 did not answer; looks by cargo number show the offer was not "
                        "created. Safe to retry."
                    )
                ),
            )
            return
        if not _send(context, item):
            return


def _send(context: Context, item: UploadItem) -> bool:
    """One publish of the item; True when it must be tried again at once (the shop switched to
    the other publish API because 1688 refused this app the first)."""
    if item.remote_offer_id:  # a rejected offer resubmitted: edited, never added twice
        from catalog.publishing.upload.resubmit import (
            resend_by_edit,  # it uses this module's helpers
        )

        return resend_by_edit(context, item)
    shop, client = context.shop, context.client
    api = context.api or pub.choose_api(context.publishing, item, shop_id=shop.pk)
    paths = pictures(context, item)
    if paths is None:
        return False
    freight, address = pub.freight_and_address(context.batch, context.publishing)
    if api == pub.Api.SCHEMA:
        schema = cached_attributes(shop.pk, item.category_id)
        body = schema_body.data_body(item, paths, schema=schema, freight=freight, address=address)
        call, args = (
            client.add_new_product,
            {
                "category_id": item.category_id,
                "data_body": body,
                "scene": schema_body.PUBLISH_SCENE,
            },
        )
    else:
        params = pub.legacy_params(item, paths, freight=freight, address=address)
        call, args = client.add_product, {"product": params}
    set_item(item, picture_paths=paths)
    _mark_uploading(item, api)  # after the payload: a bad item must not look sent
    try:
        answer = call_as_shop(shop, client, call, **args)
    except (PermissionDeniedError, InvalidParameterError) as exc:
        if exc.code in ACL_CODES:
            _not_sent(item)
            record_declined_api(shop=shop, api=exc.api or str(api), error=exc)
            if context.api is not None:  # the other API was refused too
                raise UploadStopped(auth_reason(shop, exc)) from exc
            other = pub.switch_api(context.publishing, api, f"{exc.code}: {exc.message}")
            if other is None or (
                other == pub.Api.SCHEMA and not cached_attributes(shop.pk, item.category_id)
            ):  # staff chose this API, or the item was not staged against a schema
                raise UploadStopped(auth_reason(shop, exc)) from exc
            context.api = other  # this run: every item goes by the other API
            return True
        if isinstance(exc, PermissionDeniedError):
            _not_sent(item)
            raise UploadStopped(auth_reason(shop, exc)) from exc
        _failed(item, exc)
        return False
    except BusinessError as exc:
        _failed(item, exc)
        return False
    except (QuotaError, RateLimitTimeout) as exc:
        _not_sent(item)  # a quota answer means the call was not applied
        raise _rate_limited(exc) from exc
    except (AuthError, SignatureError) as exc:
        _not_sent(item)  # the gateway refused the caller: nothing was applied
        raise UploadStopped(auth_reason(shop, exc)) from exc
    except Open1688Error as exc:
        # Timeout, dropped connection, 5xx, garbage answer (OutcomeUnknownError and kin): maybe
        # created, so never sent again before 1688 has been looked at (after the grace).
        set_item(
            item,
            status=S.UNKNOWN,
            looks=0,
            next_check_at=timezone.now() + grace(),
            remote_error_code=(exc.code or type(exc).__name__)[:100],
            remote_error_message=as_text(
                _("Outcome unknown, checking by cargo number: %(error)s")
                % {"error": str(exc)[:500]}
            ),
        )
        return False
    if api == pub.Api.SCHEMA and item_status_for(answer.offer_status) != S.REJECTED:
        adopt(item, answer.item_id, answer.offer_status)  # its answer says where it stands
    elif api == pub.Api.SCHEMA:  # refused in audit at once: read the offer for the reason
        _adopt_after_read(context, item, answer.item_id)
    else:
        _adopt_after_read(context, item, answer)
    return False


def pictures(context: Context, item: UploadItem) -> list[str] | None:
    """The item's photobank paths, None when the item failed on its pictures."""
    shop = context.shop
    try:
        _fetch_settings(context)  # both APIs need the freight template and address
        return pub.pictures_to_photobank(shop, context.client, item, context.publishing)
    except pub.PictureError as exc:
        set_item(
            item,
            status=S.FAILED,
            remote_error_code="picture",
            remote_error_message=as_text(exc.message),
        )
    except (QuotaError, RateLimitTimeout) as exc:
        raise _rate_limited(exc) from exc
    except (AuthError, SignatureError, PermissionDeniedError) as exc:
        raise UploadStopped(auth_reason(shop, exc)) from exc
    except Open1688Error as exc:  # nothing was published: the item can be retried
        set_item(
            item, status=S.FAILED, remote_error_code="photobank", remote_error_message=str(exc)
        )
    return None


def _fetch_settings(context: Context) -> None:
    if not context.fetched:
        context.publishing = pub.publishing_for(
            context.shop, client=context.client, refresh=context.publishing.fetched_at is None
        )
        context.fetched = True


def _failed(item: UploadItem, exc: Open1688Error) -> None:
    code = exc.code or getattr(exc, "sub_code", None) or type(exc).__name__
    set_item(
        item,
        status=S.FAILED,
        next_check_at=None,
        remote_error_code=str(code)[:100],
        remote_error_message=exc.message or str(exc),
    )


def _adopt_after_read(context: Context, item: UploadItem, offer_id: int) -> None:
    """The legacy add answers an id only: read the offer once for its status."""
    try:
        detail = call_as_shop(context.shop, context.client, context.client.get_product, offer_id)
    except Open1688Error:
        adopt(item, offer_id, "auditing")  # looked at again with the audit checks
        return
    adopt(item, offer_id, detail.status, detail.audit_reason)


def _holds_cargo(detail, cargo: str) -> bool:
    for attribute in detail.attributes:
        if (
            str(attribute.get("attributeID")) == str(CARGO_NUMBER_ATTRIBUTE)
            and str(attribute.get("value", attribute.get("attributeValue", ""))) == cargo
        ):
            return True
    return detail.cargo_number == cargo or any(sku.cargo_number == cargo for sku in detail.skus)


def _reconcile(context: Context, item: UploadItem) -> bool | None:
    """One look on 1688 for the item's offer. True: adopted; None: look again later (not
    found yet, or 1688 could not be asked); False: every look done, not there: safe to send."""
    shop, client = context.shop, context.client
    try:
        found = call_as_shop(shop, client, client.find_products_by_cargo_number, item.cargo_number)
        matches = []
        for summary in sorted(found, key=lambda s: s.product_id):
            if summary.cargo_number == item.cargo_number:
                matches.append((summary.product_id, summary.status, ""))
                continue
            detail = call_as_shop(shop, client, client.get_product, summary.product_id)
            if _holds_cargo(detail, item.cargo_number):
                matches.append((detail.product_id, detail.status, detail.audit_reason))
    except (QuotaError, RateLimitTimeout) as exc:
        raise _rate_limited(exc) from exc
    except (AuthError, SignatureError, PermissionDeniedError) as exc:
        raise UploadStopped(auth_reason(shop, exc)) from exc
    except Open1688Error as exc:
        set_item(
            item,
            status=S.UNKNOWN,
            next_check_at=timezone.now() + grace(),
            remote_error_message=as_text(
                _("Could not check now, looking again later: %(error)s") % {"error": str(exc)[:500]}
            ),
        )
        return None
    if matches:
        if len(matches) > 1:
            log.warning("cargo number %s has %d offers on 1688", item.cargo_number, len(matches))
        offer_id, offer_status, reason = matches[0]
        adopt(item, offer_id, offer_status, reason)
        return True
    looks = item.looks + 1
    if looks < max(1, settings.UPLOAD_RECONCILE_LOOKS):
        set_item(item, status=S.UNKNOWN, looks=looks, next_check_at=timezone.now() + grace())
        return None
    set_item(item, status=S.PENDING, looks=0, next_check_at=None)
    return False


def _rate_limited(exc: Open1688Error) -> UploadStopped:
    if isinstance(exc, QuotaSpentError):  # the paid quota: a timer cannot help, so no retry_in
        log.warning("upload stopped: %s", exc)
        return UploadStopped(
            _(
                "1688 says the app's paid call quota is spent: ask the administrator to renew "
                "it, then submit the batch again."
            )
        )
    delay = settings.UPLOAD_QUOTA_DELAY_SECONDS
    message = _("1688 rate limit reached; the upload resumes automatically in %(delay)d s.")
    return UploadStopped(message % {"delay": delay}, retry_in=delay)


def auth_reason(shop: Shop, exc: Open1688Error):
    """Why 1688 refused the shop's call, as a stored message (erp1688.messages): str() of it is
    the text in the active language."""
    log.warning("shop %s: 1688 refused the call: %s", shop.pk, exc)  # the detail, for the log
    if isinstance(exc, AuthError):
        message = _("The authorisation of shop %(shop)s is no longer valid: re-authorise it.")
        return message % {"shop": shop.name}
    return _(
        "1688 refused the app for shop %(shop)s: the app lacks a permission on 1688. Ask the "
        "administrator to check the app's permissions, then retry."
    ) % {"shop": shop.name}


def _mark_uploading(item: UploadItem, api: str) -> None:
    # Committed before the call: a crash during the call leaves an `uploading` item behind,
    # which the next run looks for on 1688 (after the grace) instead of sending blindly.
    with transaction.atomic():
        set_item(
            item,
            status=S.UPLOADING,
            attempts=F("attempts") + 1,
            sends=F("sends") + 1,
            looks=0,
            next_check_at=None,
            publish_api=api,
            last_attempt_at=timezone.now(),
        )
    item.refresh_from_db(fields=["attempts", "sends"])


def _not_sent(item: UploadItem) -> None:
    set_item(item, status=S.PENDING, attempts=F("attempts") - 1, sends=F("sends") - 1)
    item.refresh_from_db(fields=["attempts", "sends"])
