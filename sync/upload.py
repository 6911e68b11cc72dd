"""Batch upload (批量上货): submit a staged batch, upload it in chunks, retry failures, copy offers.

The contract (../shared/DESIGN.md, "Batch upload"):
- only valid items are sent; each item's cargo number (货号) is its idempotency key;
- an item is marked `uploading` in its own committed transaction before `alibaba.product.add`
  is called, so a crash leaves evidence; an item left `uploading` or `unknown` (timeout, dropped
  connection, killed worker) is reconciled with `alibaba.product.list.get?cargoNumber=` before it
  is ever sent again, so no offer is created twice;
- one upload per batch at a time (a Redis lock renewed after every item);
- a quota limit never fails an item: the run stops and its job is scheduled again later.

run_upload() must run outside any transaction (it commits per item), as a job or a command does.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import django_rq
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from rq import Callback
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from catalog.models import Shop, UploadBatch, UploadItem
from catalog.staging import check_batch_open
from catalog.validation import refresh_batch_counts, validate_batch, validate_items
from sync.gateway import call_as_shop, client_or_new, exclusive
from sync.open1688 import (
    AuthError,
    BusinessError,
    InvalidParameterError,
    Open1688Client,
    Open1688Error,
    PermissionDeniedError,
    QuotaError,
    RateLimitTimeout,
    SignatureError,
)
from sync.open1688.types import ProductDetail, image_url

log = logging.getLogger(__name__)

JOB_FUNC = "sync.jobs.upload_batch_job"  # by name: sync.jobs imports this module
QUEUE = "upload"
# Sends of one item within one run: the first, and one more after an unknown outcome that the
# reconciliation showed was not applied. Further tries wait for staff (retry_failed).
MAX_SENDS_PER_RUN = 2
TO_UPLOAD = [UploadItem.Status.PENDING, UploadItem.Status.UPLOADING, UploadItem.Status.UNKNOWN]
UNRESOLVED = [UploadItem.Status.UPLOADING, UploadItem.Status.UNKNOWN]
LIVE_JOB = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}

Progress = Callable[[UploadBatch, int, int], None]


class UploadStopped(Exception):
    """The run cannot go on now; `reason` is shown to staff, `retry_in` schedules the job again."""

    def __init__(self, reason: str, *, retry_in: int | None = None):
        super().__init__(reason)
        self.reason, self.retry_in = reason, retry_in


def lock_key(batch_id: int) -> str:
    return f"upload:batch:{batch_id}"


# --- submit and retry ----------------------------------------------------------------------


def submit_batch(batch: UploadBatch, *, user=None) -> str:
    """Validate `batch` and queue its upload; returns the RQ job id.

    Raises ValueError (a readable "中文 / English" message) when the shop is not connected, no
    item is valid, or an upload of the batch is already queued or running.
    """
    prepare_batch(batch, user=user)
    return enqueue_upload(batch)


def retry_failed(batch: UploadBatch, *, user=None) -> str:
    """Queue failed items again (unknown ones are reconciled first); succeeded ones stay as
    they are."""
    prepare_batch(batch, user=user, retry=True)
    return enqueue_upload(batch)


def prepare_batch(batch: UploadBatch, *, user=None, retry: bool = False) -> UploadBatch:
    """The checks and state change of a submit (or a retry), without queueing.

    The command's --inline runs it, then run_upload() in-process.
    """
    shop = Shop.objects.get(pk=batch.shop_id)
    if not shop.is_connected:
        reason = f" ({shop.status_reason})" if shop.status_reason else ""
        raise ValueError(
            f"店铺「{shop.name}」未连接或需要重新授权{reason} / "
            f"Shop {shop.name} is not connected or needs re-authorisation{reason}."
        )
    _refuse_if_busy(batch)
    validate_batch(batch)  # also after a failure: staff may have fixed the item
    if retry:
        _reset_failed(batch)
    if not _item_ids_to_upload(batch):
        raise ValueError("批次中没有可上传的有效商品 / The batch has no valid item left to upload.")
    batch.status = UploadBatch.Status.SUBMITTED
    batch.submitted_at = timezone.now()
    batch.finished_at = None
    batch.last_error = ""
    if user is not None and batch.created_by_id is None:
        batch.created_by = user
    batch.save(update_fields=["status", "submitted_at", "finished_at", "last_error", "created_by"])
    refresh_batch_counts(batch)
    return batch


def _reset_failed(batch: UploadBatch) -> None:
    retryable = batch.items.filter(status__in=[UploadItem.Status.FAILED, UploadItem.Status.UNKNOWN])
    if not any(not errors for errors in retryable.values_list("validation_errors", flat=True)):
        raise ValueError("没有可重试的失败商品 / No failed item to retry.")
    # Unknown items keep their status: the run asks 1688 about them before sending anything.
    retryable.filter(status=UploadItem.Status.FAILED).update(
        status=UploadItem.Status.PENDING,
        remote_error_code="",
        remote_error_message="",
        updated_at=timezone.now(),
    )


def enqueue_upload(batch: UploadBatch, *, delay: int | None = None) -> str:
    queue = django_rq.get_queue(QUEUE)
    options = {
        "job_timeout": settings.UPLOAD_JOB_TIMEOUT,
        "on_failure": Callback("sync.jobs.mark_upload_job_failed"),
        "description": f"upload batch {batch.pk}",
    }
    if delay:
        job = queue.enqueue_in(timedelta(seconds=delay), JOB_FUNC, batch.pk, **options)
    else:
        job = queue.enqueue(JOB_FUNC, batch.pk, **options)
    UploadBatch.objects.filter(pk=batch.pk).update(job_id=job.id)
    batch.job_id = job.id
    return job.id


def upload_in_progress(batch: UploadBatch) -> bool:
    """A job of this batch is queued/scheduled/running, or a run holds the batch lock."""
    connection = django_rq.get_connection("default")
    if connection.exists(lock_key(batch.pk)):
        return True
    # From the database: a rate-limited run may have scheduled a new job since `batch` was read.
    job_id = UploadBatch.objects.filter(pk=batch.pk).values_list("job_id", flat=True).first()
    if not job_id:
        return False
    try:
        job = Job.fetch(job_id, connection=django_rq.get_queue(QUEUE).connection)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=True) in LIVE_JOB


def _refuse_if_busy(batch: UploadBatch) -> None:
    if upload_in_progress(batch):
        minutes = max(1, settings.UPLOAD_LOCK_TIMEOUT // 60)
        raise ValueError(
            f"该批次已有上传任务在排队或运行（若工作进程刚被中断，请 {minutes} 分钟后再试） / "
            f"An upload of this batch is already queued or running (if a worker was just "
            f"stopped, try again in {minutes} min)."
        )


def _item_ids_to_upload(batch: UploadBatch) -> list[int]:
    rows = batch.items.filter(status__in=TO_UPLOAD).order_by("position", "id")
    # Filtered in Python: "JSON equals {}" is not portable across SQLite and PostgreSQL.
    return [pk for pk, errors in rows.values_list("pk", "validation_errors") if not errors]


# --- the job body --------------------------------------------------------------------------


def run_upload(
    batch_id: int, *, client: Open1688Client | None = None, progress: Progress | None = None
) -> UploadBatch:
    """Upload every valid, not yet succeeded item of the batch; the job body.

    `progress(batch, chunk_number, chunk_count)` is called after each chunk.
    """
    batch = UploadBatch.objects.select_related("shop").get(pk=batch_id)
    with exclusive(lock_key(batch.pk), timeout=settings.UPLOAD_LOCK_TIMEOUT) as lock:
        if lock is None:
            log.info("upload of batch %s skipped: another run holds its lock", batch.pk)
            return batch
        try:
            with client_or_new(client) as api:
                _run(batch, api, lock, progress or (lambda *args: None))
        except UploadStopped as stop:
            _stop(batch, stop)
        except Exception as exc:
            _finish(
                batch, f"上传意外中断 / Upload stopped by an error: {type(exc).__name__}: {exc}"
            )
            raise
    return batch


def _run(batch: UploadBatch, client: Open1688Client, lock, progress: Progress) -> None:
    batch.status, batch.last_error = UploadBatch.Status.RUNNING, ""
    batch.save(update_fields=["status", "last_error"])
    ids = _item_ids_to_upload(batch)
    size = max(1, settings.UPLOAD_CHUNK_SIZE)
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    for number, chunk in enumerate(chunks, start=1):
        try:
            for item in UploadItem.objects.filter(pk__in=chunk).order_by("position", "id"):
                _upload_item(batch.shop, client, item)
                lock.reacquire()  # renew: a run that is alive keeps the batch
        finally:
            refresh_batch_counts(batch)  # live progress, also when the chunk stops early
        progress(batch, number, len(chunks))
    _finish(batch)


def _finish(batch: UploadBatch, error: str = "") -> None:
    rows = batch.items.values_list("status", "validation_errors")
    left = [status for status, errors in rows if not errors and status != "succeeded"]
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
        if item.status in UNRESOLVED and _reconcile(shop, client, item) is not False:
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
            raise UploadStopped(_auth_reason(shop, exc)) from exc
        except Open1688Error as exc:
            # Timeout, dropped connection, 5xx, garbage answer (OutcomeUnknownError and kin):
            # maybe created, so never sent again before asking 1688 by cargo number (loop top).
            _set(
                item,
                status=UploadItem.Status.UNKNOWN,
                remote_error_code=(exc.code or type(exc).__name__)[:100],
                remote_error_message=f"结果未知，正在按货号核对 / Outcome unknown, checking: {exc}",
            )
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
        raise UploadStopped(_auth_reason(shop, exc)) from exc
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
    delay = settings.UPLOAD_QUOTA_DELAY_SECONDS
    return UploadStopped(
        f"1688 调用频率受限，{delay} 秒后自动继续 / 1688 rate limit reached; the upload "
        f"resumes automatically in {delay} s. ({exc})",
        retry_in=delay,
    )


def _auth_reason(shop: Shop, exc: Open1688Error) -> str:
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


# --- UploadItem -> alibaba.product.add ------------------------------------------------------


def _money(value) -> str:
    # Strings, never float: the client sends them as they are.
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def _image_path(url: str) -> str:
    """1688 keeps pictures as paths relative to the image host; send them so."""
    base = settings.OPEN1688_IMAGE_BASE
    return url[len(base) :] if url.startswith(base) else url


def item_to_add_params(item: UploadItem) -> dict:
    """The `alibaba.product.add` parameters of one staged item."""
    skus = item.skus or []
    ranges = [
        {"startQuantity": int(tier["start_quantity"]), "price": _money(tier["price"])}
        for tier in item.price_ranges or []
    ]
    if not ranges and item.price is not None:
        ranges = [{"startQuantity": item.min_order_quantity or 1, "price": _money(item.price)}]
    stock = item.stock
    if stock is None and skus:
        stock = sum(int(sku.get("stock") or 0) for sku in skus)
    sale_info = {
        "priceRanges": ranges,
        "amountOnSale": stock or 0,
        "minOrderQuantity": item.min_order_quantity,
        "unit": item.unit,
        "quoteType": 1 if skus else 0,  # 1: each SKU has its own price
    }
    params = {
        "productType": "wholesale",
        "categoryID": item.category_id,
        "subject": item.title,
        "description": item.description,
        "language": "CHINESE",
        "attributes": item.attributes or [],
        "image": {"images": [_image_path(url) for url in item.images or []]},
        "saleInfo": sale_info,
        "cargoNumber": item.cargo_number,
        "webSite": "1688",
    }
    if skus:
        params["skuInfos"] = [
            {
                "attributes": sku.get("attributes") or [],
                "price": _money(sku["price"] if sku.get("price") is not None else item.price),
                "amountOnSale": int(sku.get("stock") or 0),
                "cargoNumber": sku.get("cargo_number") or "",
            }
            for sku in skus
        ]
    return params


# --- copying existing offers ---------------------------------------------------------------

OFFER_PATH = re.compile(r"/offer/(\d{6,20})\.html?$")
BARE_ID = re.compile(r"\d{6,20}")
OFFER_ID_MAX = 2**63 - 1
SEPARATORS = re.compile(r"[\s,，;；、]+")


@dataclass
class CopyResult:
    created: list[UploadItem] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (offer id, message)
    unrecognised: list[str] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # already copied into this batch


def parse_offer_refs(text: str) -> tuple[list[int], list[str]]:
    """Offer ids from pasted URLs or ids (de-duplicated, in order), and the tokens not understood.

    Understood: `https://detail.1688.com/offer/653120459876.html[?...]`, the m.1688.com forms
    (`/offer/ID.html`, `?offerId=ID`), any of these without a scheme, and bare ids.
    """
    ids: list[int] = []
    unrecognised: list[str] = []
    for token in filter(None, SEPARATORS.split(text or "")):
        offer_id = _offer_id(token)
        if offer_id is None:
            unrecognised.append(token)
        elif offer_id not in ids:
            ids.append(offer_id)
    return ids, unrecognised


def _offer_id(token: str) -> int | None:
    """The offer id a token names, or None: an id too large for any offer (the database's
    64-bit columns, where SQLite even fails the query) is not an offer id either."""
    offer_id = _named_offer_id(token)
    return offer_id if offer_id is not None and offer_id <= OFFER_ID_MAX else None


def _named_offer_id(token: str) -> int | None:
    if BARE_ID.fullmatch(token):
        return int(token)
    try:
        url = urlsplit(token if "://" in token else "https://" + token)
    except ValueError:  # e.g. "https://[x": an unclosed IPv6 bracket
        return None
    host = (url.hostname or "").lower()
    if host != "1688.com" and not host.endswith(".1688.com"):
        return None
    found = OFFER_PATH.search(url.path)
    if found:
        return int(found.group(1))
    for key in ("offerId", "offerid", "id"):
        values = parse_qs(url.query).get(key)
        if values and BARE_ID.fullmatch(values[0]):
            return int(values[0])
    return None


def copy_offers(
    batch: UploadBatch, offer_refs: str, *, client: Open1688Client | None = None
) -> CopyResult:
    """Stage copies of existing 1688 offers (any seller's) as new items of `batch`.

    The details are read with the batch shop's own token: alibaba.product.get reads any offer
    here (the sandbox allows it; the official SDK notes say own offers only, see
    sandbox/product_api.py), and the shop that will publish the copy is the one authorised.
    Each copy gets a new cargo number. Per-offer errors are reported, the other offers are
    still copied.
    """
    check_batch_open(batch)  # StagingError (a ValueError) while the batch is being uploaded
    ids, unrecognised = parse_offer_refs(offer_refs)
    result = CopyResult(unrecognised=unrecognised)
    if not ids:
        return result
    shop = Shop.objects.get(pk=batch.shop_id)
    if not shop.is_connected:
        raise ValueError(
            f"店铺「{shop.name}」未连接，无法读取商品 / Shop {shop.name} is not connected, so "
            "offers cannot be read."
        )
    existing = set(
        batch.items.filter(source_offer_id__in=ids).values_list("source_offer_id", flat=True)
    )
    details: list[ProductDetail] = []
    with client_or_new(client) as api:
        for index, offer_id in enumerate(ids):
            if offer_id in existing:
                result.skipped.append(offer_id)
                continue
            try:
                details.append(call_as_shop(shop, api, api.get_product, offer_id))
            except BusinessError as exc:
                result.errors.append((str(offer_id), _copy_error(exc)))
            except AuthError as exc:
                # The shop's authorisation is gone: every further offer would fail the same way.
                reason = _auth_reason(shop, exc)
                result.errors += [(str(i), reason) for i in ids[index:] if i not in existing]
                break
            except Open1688Error as exc:
                result.errors.append((str(offer_id), f"读取失败 / Could not read it: {exc}"))
    result.created = stage_copies(batch, details)
    return result


def _copy_error(exc: BusinessError) -> str:
    if exc.code == "PRODUCT_NOT_EXIST":
        return "商品不存在或已删除 / No such offer (or it was deleted)."
    return f"1688 返回错误 / 1688 refused: {exc.message} ({exc.code or 'error'})"


def _absolute_image(path: str) -> str:
    return image_url(path, settings.OPEN1688_IMAGE_BASE)


def stage_copies(batch: UploadBatch, details: list[ProductDetail]) -> list[UploadItem]:
    """New staged items of `batch` from offer details, validated, saved at the batch's end."""
    if not details:
        return []
    with transaction.atomic():
        batch = UploadBatch.objects.select_for_update().get(pk=batch.pk)
        position = (batch.items.aggregate(last=Max("position"))["last"] or 0) + 1
        items = [item_from_detail(batch, d, position=position + n) for n, d in enumerate(details)]
        for item, errors in zip(items, validate_items(items), strict=True):
            item.validation_errors = errors
            item.save()
        refresh_batch_counts(batch)
    return items


def item_from_detail(batch: UploadBatch, detail: ProductDetail, *, position: int) -> UploadItem:
    """An unsaved staged item copying an offer's detail (but not its cargo numbers)."""
    tiers = [
        {"start_quantity": r.start_quantity, "price": _money(r.price)} for r in detail.price_ranges
    ]
    first_tier_price = tiers[0]["price"] if tiers else None
    skus = [
        {
            "attributes": [dict(a) for a in sku.attributes],
            # A SKU without its own price sells at the offer's price (quoteType 0).
            "price": _money(sku.price) if sku.price is not None else first_tier_price,
            "stock": sku.amount_on_sale or 0,
            "cargo_number": "",  # the seller's own codes stay with the original offer
        }
        for sku in detail.skus
    ]
    sku_prices = [Decimal(s["price"]) for s in skus if s["price"] is not None]
    stock = detail.amount_on_sale
    if stock is None and skus:
        stock = sum(s["stock"] for s in skus)
    return UploadItem(
        batch=batch,
        position=position,
        source=UploadItem.Source.COPY,
        source_offer_id=detail.product_id,
        title=detail.subject[:255],
        category_id=detail.category_id,
        # Staging takes a price or price ranges, not both.
        price=None if tiers else (min(sku_prices) if sku_prices else None),
        price_ranges=tiers,
        stock=stock,
        unit=(detail.unit or "件")[:20],
        min_order_quantity=detail.min_order_quantity or 1,
        images=[_absolute_image(path) for path in detail.images],
        attributes=[dict(a) for a in detail.attributes],
        skus=skus,
        description=detail.description,
    )
