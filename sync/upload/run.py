"""The run's state machine, the body of the upload job.

Per item: pending → uploading (committed before the call) → succeeded | failed | unknown; an
unknown (or left uploading) item is reconciled by cargo number before anything is sent again.
A quota answer stops the run and queues it again; a refused authorisation stops it for staff.
See the retry table in the package docstring.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Shop, UploadBatch, UploadItem
from catalog.validation import refresh_batch_counts
from sync.gateway import call_as_shop, client_or_new, wait_for_late_apply
from sync.locks import LockLost, held_lock
from sync.open1688 import (
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
from sync.upload.payload import item_to_add_params
from sync.upload.queue import enqueue_upload, lock_key

log = logging.getLogger(__name__)

# Sends of one item within one run: the first, and one more after an unknown outcome that the
# reconciliation showed was not applied. Further tries wait for staff (retry_failed).
MAX_SENDS_PER_RUN = 2

Progress = Callable[[UploadBatch, int, int], None]


class UploadStopped(Exception):
    """The run cannot go on now; `reason` is shown to staff, `retry_in` schedules the job again."""

    def __init__(self, reason: str, *, retry_in: int | None = None):
        super().__init__(reason)
        self.reason, self.retry_in = reason, retry_in


# --- the job body --------------------------------------------------------------------------


def run_upload(
    batch_id: int, *, client: Open1688Client | None = None, progress: Progress | None = None
) -> UploadBatch:
    """Upload every valid, not yet succeeded item of the batch; the job body.

    `progress(batch, chunk_number, chunk_count)` is called after each chunk.
    """
    batch = UploadBatch.objects.select_related("shop").get(pk=batch_id)
    with held_lock(lock_key(batch.pk), owner=f"batch {batch.pk}") as lock:
        if lock is None:
            log.info("upload of batch %s skipped: another run holds its lock", batch.pk)
            return batch
        try:
            with client_or_new(client) as api:
                _run(batch, api, lock, progress or (lambda *args: None))
        except UploadStopped as stop:
            _stop(batch, stop)
        except LockLost as exc:
            # Another run may hold the batch now: leave the batch's state to it.
            log.error("upload of batch %s stopped: %s", batch.pk, exc)
        except Exception as exc:
            _finish(
                batch, f"上传意外中断 / Upload stopped by an error: {type(exc).__name__}: {exc}"
            )
            raise
    return batch


def _run(batch: UploadBatch, client: Open1688Client, lock, progress: Progress) -> None:
    batch.status, batch.last_error = UploadBatch.Status.RUNNING, ""
    batch.save(update_fields=["status", "last_error"])
    ids = list(batch.items.to_upload().values_list("pk", flat=True))
    size = max(1, settings.UPLOAD_CHUNK_SIZE)
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    for number, chunk in enumerate(chunks, start=1):
        try:
            for item in UploadItem.objects.filter(pk__in=chunk).order_by("position", "id"):
                _upload_item(batch.shop, client, item)
                lock.check()  # renewed by its thread; stop here if it was lost
        finally:
            refresh_batch_counts(batch)  # live progress, also when the chunk stops early
        progress(batch, number, len(chunks))
    _finish(batch)


def _finish(batch: UploadBatch, error: str = "") -> None:
    left = batch.items.valid().exclude(status=UploadItem.Status.SUCCEEDED).exists()
    batch.status = UploadBatch.Status.PARTLY_FAILED if left or error else UploadBatch.Status.DONE
    batch.last_error = error[:2000]
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "last_error", "finished_at"])
    refresh_batch_counts(batch)


def _stop(batch: UploadBatch, stop: UploadStopped) -> None:
    if stop.retry_in is None:
        _finish(batch, stop.reason)
        return
    batch.status, batch.last_error = UploadBatch.Status.SUBMITTED, stop.reason[:2000]
    batch.save(update_fields=["status", "last_error"])
    job_id = enqueue_upload(batch, delay=stop.retry_in)
    log.info("upload of batch %s rate limited; job %s in %ss", batch.pk, job_id, stop.retry_in)


def _upload_item(shop: Shop, client: Open1688Client, item: UploadItem) -> None:
    sends = 0
    while True:
        if item.status in UploadItem.UNRESOLVED and _reconcile(shop, client, item) is not False:
            return  # found on 1688 (succeeded), or 1688 could not be asked (stays unknown)
        if sends >= MAX_SENDS_PER_RUN:
            _set(
                item,
                status=UploadItem.Status.FAILED,
                remote_error_code="no_answer",
                remote_error_message=(
                    "1688 未应答，按货号核对确认未创建，可重试 / 1688 did not answer; a check by "
                    "cargo number shows the offer was not created. Safe to retry."
                ),
            )
            return
        params = item_to_add_params(item)  # before the mark: a bad item must not look sent
        _mark_uploading(item)
        sends += 1
        try:
            offer_id = call_as_shop(shop, client, client.add_product, params)
        except (BusinessError, InvalidParameterError) as exc:
            code = exc.code or getattr(exc, "sub_code", None) or type(exc).__name__
            _set(
                item,
                status=UploadItem.Status.FAILED,
                remote_error_code=str(code)[:100],
                remote_error_message=exc.message or str(exc),
            )
            return
        except (QuotaError, RateLimitTimeout) as exc:
            _not_sent(item)  # a quota answer means the call was not applied
            raise _rate_limited(exc) from exc
        except (AuthError, SignatureError, PermissionDeniedError) as exc:
            _not_sent(item)  # the gateway refused the caller: nothing was applied
            raise UploadStopped(auth_reason(shop, exc)) from exc
        except Open1688Error as exc:
            # Timeout, dropped connection, 5xx, garbage answer (OutcomeUnknownError and kin):
            # maybe created, so never sent again before asking 1688 by cargo number (loop top).
            _set(
                item,
                status=UploadItem.Status.UNKNOWN,
                remote_error_code=(exc.code or type(exc).__name__)[:100],
                remote_error_message=f"结果未知，正在按货号核对 / Outcome unknown, checking: {exc}",
            )
            wait_for_late_apply(exc)  # after a timeout 1688 may still create it
            continue
        _set(
            item,
            status=UploadItem.Status.SUCCEEDED,
            remote_offer_id=offer_id,
            remote_error_code="",
            remote_error_message="",
        )
        return


def _reconcile(shop: Shop, client: Open1688Client, item: UploadItem) -> bool | None:
    """Was the offer created? True: marked succeeded; False: back to pending (safe to send);
    None: 1688 could not be asked now, the item stays unknown for the next run.

    Assumes the list answers at once after an add (the sandbox does; the platform's lag, if
    any, is not attested).
    """
    try:
        page = call_as_shop(
            shop, client, client.list_products, cargo_number=item.cargo_number, page_size=20
        )
    except (QuotaError, RateLimitTimeout) as exc:
        _set(item, status=UploadItem.Status.UNKNOWN)
        raise _rate_limited(exc) from exc
    except (AuthError, SignatureError, PermissionDeniedError) as exc:
        _set(item, status=UploadItem.Status.UNKNOWN)
        raise UploadStopped(auth_reason(shop, exc)) from exc
    except Open1688Error as exc:
        _set(
            item,
            status=UploadItem.Status.UNKNOWN,
            remote_error_message=f"无法核对，下次运行再核对 / Could not check now: {exc}",
        )
        return None
    matches = sorted(s.product_id for s in page.items if s.cargo_number == item.cargo_number)
    if not matches:
        _set(item, status=UploadItem.Status.PENDING)
        return False
    if len(matches) > 1:
        log.warning("cargo number %s has %d offers on 1688", item.cargo_number, len(matches))
    _set(
        item,
        status=UploadItem.Status.SUCCEEDED,
        remote_offer_id=matches[0],
        remote_error_code="",
        remote_error_message="",
    )
    return True


def _rate_limited(exc: Open1688Error) -> UploadStopped:
    if isinstance(exc, QuotaSpentError):  # the paid quota: a timer cannot help, so no retry_in
        return UploadStopped(str(exc))  # "the app's paid call quota is spent (...)"
    delay = settings.UPLOAD_QUOTA_DELAY_SECONDS
    return UploadStopped(
        f"1688 调用频率受限，{delay} 秒后自动继续 / 1688 rate limit reached; the upload "
        f"resumes automatically in {delay} s. ({exc})",
        retry_in=delay,
    )


def auth_reason(shop: Shop, exc: Open1688Error) -> str:
    if isinstance(exc, AuthError):
        return (
            f"店铺「{shop.name}」授权已失效，请重新授权后重试 / The authorisation of shop "
            f"{shop.name} is no longer valid: re-authorise it, then retry. ({exc.message})"
        )
    return f"1688 拒绝了应用的调用 / 1688 refused the app's call: {exc}"


def _mark_uploading(item: UploadItem) -> None:
    # Committed before the call: a crash during the call leaves an `uploading` item behind,
    # which the next run reconciles instead of sending blindly.
    with transaction.atomic():
        _set(
            item,
            status=UploadItem.Status.UPLOADING,
            attempts=F("attempts") + 1,
            last_attempt_at=timezone.now(),
        )
    item.refresh_from_db(fields=["attempts"])


def _not_sent(item: UploadItem) -> None:
    _set(item, status=UploadItem.Status.PENDING, attempts=F("attempts") - 1)
    item.refresh_from_db(fields=["attempts"])


def _set(item: UploadItem, **values) -> None:
    UploadItem.objects.filter(pk=item.pk).update(updated_at=timezone.now(), **values)
    for name, value in values.items():
        if not hasattr(value, "resolve_expression"):
            setattr(item, name, value)
