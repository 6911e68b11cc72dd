"""Changing live 1688 offers from the ERP: plan a change (a draft the staff member previews,
before → after per SKU, tier or offer), apply it (a job), undo it (another previewed change).

The job, per offer: re-read the offer (`alibaba.product.get`); a line whose value on 1688 is no
longer the one the plan started from was changed on 1688 since the last sync — a conflict,
left alone; write the other lines (tier prices by `product.increment.editInfo` where the shop
may, SKU prices by a full `product.edit`: catalog/live_edits/writes.py; `modifyStock` for stock,
`expire`/`republish` for delist/relist), every call through the shared rate limit
(catalog.shops.clients); re-read to confirm; mirror the confirmed values and write one change-log
row
per value, marked as made by this ERP for the user who applied it. The local modify stamp is
left alone, so the next sync still reads the offer and logs any other change made on 1688.

Stock: an absolute set is sent as `increaceModify=false` with the value; an adjustment (±N) as
the delta with `increaceModify=true` (sent explicitly: the platform's default is a delta).
Either way every SKU is keyed by its **specId** (docs/protocol.md).
"""

import logging
from collections import defaultdict
from decimal import Decimal, InvalidOperation

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from rq import Callback
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from catalog.alerts import services as alerts
from catalog.live_edits import settle as live_settle
from catalog.live_edits import writes as live_edit_writes
from catalog.live_edits.ownership import require_owner
from catalog.models import ChangeSource, PriceStockChange, Product, Sku
from catalog.models.live_edits import LiveEdit, LiveEditLine
from catalog.publishing.bulk_edit import ROUNDING_STEPS, new_price
from catalog.shops.clients import call_as_shop, client_or_new, may_land_later, wait_for_late_apply
from erp1688.messages import Message, as_text, stored
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require
from open1688 import (
    AuthError,
    BusinessError,
    Open1688Client,
    Open1688Error,
    OutcomeUnknownError,
    PermissionDeniedError,
    QuotaError,
    QuotaSpentError,
    ServerError,
    TransportError,
)
from open1688.types import ProductDetail
from sync.catalog_sync import DELISTED_STATUSES

log = logging.getLogger(__name__)

PERMISSION = "catalog.change_live_offer"
QUEUE = "default"
MAX_OFFERS = 500  # one operation; the job spends about three calls per offer
CHECK_MAX_OFFERS = 50  # a preview checked while the page waits (one call per offer)
LISTED_STATUS = "published"
DELISTED_STATUS = "outdated"  # what alibaba.product.expire leaves
GONE_STATUSES = {"delete", "deleted", "member deleted"}
STOCK_MODES = ("set", "adjust")
Field = LiveEditLine.Field
LineStatus = LiveEditLine.Status


# --- planning ---------------------------------------------------------------------------
def _require(user) -> None:
    require(user, PERMISSION)


def _decimal(value, name: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or abs(number) > Decimal("1e9"):
        raise Refused(
            RefusalCode.BAD_NUMBER,
            gettext_lazy("%(name)s must be a number."),
            params={"name": name},
        )
    return number


def _text(value) -> str:
    """A line value as stored: prices with cents, stock as a whole number, statuses as is."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    return str(value)


def plan_live_edit(
    *,
    user,
    product_ids,
    kind: str,
    multiply=None,
    add=None,
    round_to=None,
    price=None,
    stock_mode: str | None = None,
    stock=None,
    sku_ids=None,
    values: dict | None = None,
) -> LiveEdit:
    """A draft change of the offers `product_ids` (Product pks), previewed line by line.

    kind "price": each SKU price (quote type 1) or tier price (quote types 0 and 2) becomes
    `price` if given, else price × multiply + add rounded to `round_to` (0.1 or 1) — the batch
    bulk-edit rule. kind "stock": `stock_mode` "set" makes each SKU's stock `stock`, "adjust"
    adds `stock` (negative takes away). `sku_ids` (Sku pks) limits the change to those SKUs.
    kind "delist"/"relist": the offers go off sale / back on sale. Nothing is sent to 1688.
    `values` (one offer, instead of a rule): each new value by key — "sku:<Sku pk>" or
    "tier:<start quantity>" for prices, "sku:<Sku pk>" or "offer" for stock (set as is), as
    after a stocktake.
    """
    _require(user)
    if kind not in LiveEdit.Kind.values:
        raise Refused(
            RefusalCode.BAD_KIND, gettext_lazy("Choose a change: price, stock, delist or relist.")
        )
    ids = _ids(product_ids)
    if not ids:
        raise Refused(RefusalCode.NO_OFFERS, gettext_lazy("Select at least one offer."))
    if len(ids) > MAX_OFFERS:
        raise Refused(
            RefusalCode.TOO_MANY_OFFERS,
            gettext_lazy("At most %(max)d offers can be changed at once."),
            params={"max": MAX_OFFERS},
        )
    products = list(
        Product.objects.filter(pk__in=ids).select_related("shop").prefetch_related("skus")
    )
    if len(products) != len(ids):
        raise Refused(
            RefusalCode.UNKNOWN_OFFER, gettext_lazy("Some of the selected offers do not exist.")
        )
    wanted_skus = None if sku_ids in (None, "", []) else set(_ids(sku_ids))
    values = {key: value for key, value in (values or {}).items() if str(value).strip() != ""}
    if values:
        rule = (multiply, add, round_to, price, stock)
        return _plan_values(
            user, products, kind, values, rule_given=any(v not in (None, "") for v in rule)
        )
    if kind == LiveEdit.Kind.PRICE:
        params, make = _price_rule(multiply, add, round_to, price)
    elif kind == LiveEdit.Kind.STOCK:
        params, make = _stock_rule(stock_mode, stock)
    else:
        params, make = {}, None
    lines = []
    for product in products:
        if product.status in GONE_STATUSES:
            raise Refused(
                RefusalCode.OFFER_GONE,
                gettext_lazy("Offer %(offer)s has been deleted on 1688 and cannot be changed."),
                params={"offer": product.offer_id},
            )
        if kind == LiveEdit.Kind.PRICE:
            lines.extend(_price_lines(product, make, wanted_skus))
        elif kind == LiveEdit.Kind.STOCK:
            lines.extend(_stock_lines(product, make, wanted_skus))
        else:
            lines.append(_status_line(product, kind))
    if not lines:
        raise Refused(
            RefusalCode.NOTHING_TO_CHANGE,
            gettext_lazy("The selected offers have nothing this can change."),
        )
    return _save_draft(user, kind, params, lines)


def _save_draft(user, kind: str, params: dict, lines: list[LiveEditLine]) -> LiveEdit:
    with transaction.atomic():
        operation = LiveEdit.objects.create(kind=kind, params=params, created_by=user)
        for line in lines:
            line.operation = operation
        LiveEditLine.objects.bulk_create(lines)
    return operation


def _plan_values(user, products, kind, values: dict, *, rule_given: bool) -> LiveEdit:
    if kind not in (LiveEdit.Kind.PRICE, LiveEdit.Kind.STOCK) or len(products) != 1:
        raise Refused(
            RefusalCode.VALUES_ONE_OFFER,
            gettext_lazy("Values one by one are for the prices or the stock of one offer."),
        )
    if rule_given:
        raise Refused(
            RefusalCode.RULE_OR_VALUES,
            gettext_lazy("Give either a rule or values one by one, not both."),
        )
    (product,) = products
    lines = [_value_line(product, kind, str(key), value) for key, value in values.items()]
    params = {"values": len(lines)} if kind == LiveEdit.Kind.PRICE else {"mode": "set"}
    return _save_draft(user, kind, params, lines)


def _value_line(product: Product, kind: str, key: str, raw) -> LiveEditLine:
    what, _sep, ident = key.partition(":")
    skus = {str(s.pk): s for s in product.skus.all()}
    unknown = Refused(
        RefusalCode.UNKNOWN_VALUE_KEY,
        gettext_lazy("%(key)s is not a SKU or tier of this offer."),
        params={"key": key[:40]},
    )
    if kind == LiveEdit.Kind.PRICE:
        new = _decimal(raw, _("Price"))
        if new <= 0:
            raise Refused(RefusalCode.BAD_PRICE, gettext_lazy("The price must be greater than 0."))
        new = new.quantize(Decimal("0.01"))
        if what == "sku" and ident in skus:
            return _line(product, Field.PRICE, skus[ident].price, new, sku=skus[ident])
        tiers = {str(t.get("start_quantity")): t.get("price") for t in product.price_ranges}
        if what != "tier" or ident not in tiers:
            raise unknown
        line = _line(product, Field.TIER_PRICE, Decimal(str(tiers[ident])), new)
        line.tier_start_quantity = int(ident)
        line.label = _("From %(quantity)d %(unit)s") % {
            "quantity": int(ident),
            "unit": product.unit,
        }
        return line
    amount = _decimal(raw, _("Stock"))
    if amount < 0 or amount != amount.to_integral_value():
        raise Refused(
            RefusalCode.BAD_STOCK, gettext_lazy("The stock must be a whole number, 0 or more.")
        )
    if what == "sku" and ident in skus:
        return _line(product, Field.STOCK, skus[ident].stock, int(amount), sku=skus[ident])
    if what == "offer" and not skus:
        return _line(product, Field.STOCK, product.amount_on_sale, int(amount))
    raise unknown


def _ids(values) -> list[int]:
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    try:
        ids = [int(v) for v in values or []]
    except (TypeError, ValueError):
        raise Refused(
            RefusalCode.BAD_IDS, gettext_lazy("Offer and SKU ids must be numbers.")
        ) from None
    if any(i <= 0 or i > 2**63 - 1 for i in ids):
        raise Refused(RefusalCode.BAD_IDS, gettext_lazy("Offer and SKU ids must be numbers."))
    return list(dict.fromkeys(ids))


def _price_rule(multiply, add, round_to, price):
    multiply, add = _decimal(multiply, _("Multiply by")), _decimal(add, _("Add"))
    round_to, price = _decimal(round_to, _("Round to")), _decimal(price, _("Price"))
    if all(v is None for v in (multiply, add, round_to, price)):
        raise Refused(
            RefusalCode.NO_PRICE_RULE,
            gettext_lazy("Give a new price, or a percentage, an amount to add or a rounding."),
        )
    if round_to is not None and round_to not in ROUNDING_STEPS:
        raise Refused(RefusalCode.BAD_ROUNDING, gettext_lazy("Round to 0.1 or 1 only."))
    if multiply is not None and multiply <= 0:
        raise Refused(
            RefusalCode.BAD_MULTIPLY, gettext_lazy("The price factor must be greater than 0.")
        )
    if price is not None and price <= 0:
        raise Refused(RefusalCode.BAD_PRICE, gettext_lazy("The price must be greater than 0."))
    params = {
        key: str(value)
        for key, value in {
            "multiply": multiply,
            "add": add,
            "round_to": round_to,
            "price": price,
        }.items()
        if value is not None
    }

    def make(before: Decimal) -> Decimal:
        if price is not None:
            return price.quantize(Decimal("0.01"))
        return new_price(before, multiply=multiply, add=add, round_to=round_to)

    return params, make


def _stock_rule(mode, stock):
    if mode not in STOCK_MODES:
        raise Refused(
            RefusalCode.BAD_STOCK_MODE, gettext_lazy("Choose: set the stock, or adjust it by ±N.")
        )
    amount = _decimal(stock, _("Stock"))
    if amount is None or amount != amount.to_integral_value():
        raise Refused(RefusalCode.BAD_STOCK, gettext_lazy("The stock must be a whole number."))
    amount = int(amount)
    if mode == "set" and amount < 0:
        raise Refused(RefusalCode.BAD_STOCK, gettext_lazy("The stock cannot be negative."))

    def make(before: int | None) -> int | None:
        if mode == "set":
            return amount
        return None if before is None else before + amount

    return {"mode": mode, "amount": amount}, make


def _sku_label(sku: Sku) -> str:
    return str(sku)[:255]


def _price_lines(product: Product, make, wanted_skus) -> list[LiveEditLine]:
    skus = [s for s in product.skus.all() if wanted_skus is None or s.pk in wanted_skus]
    by_sku = product.quote_type == 1 or (
        product.quote_type is None and skus and all(s.price is not None for s in skus)
    )
    lines = []
    if by_sku:
        for sku in skus:
            if sku.price is None:
                continue  # unknown: nothing to compute from
            lines.append(
                _line(product, Field.PRICE, sku.price, _checked_price(make(sku.price)), sku=sku)
            )
        return lines
    if wanted_skus is not None:
        return []  # these SKUs share the offer's tier prices: change the tiers instead
    for tier in product.price_ranges or []:
        try:
            start, before = int(tier["start_quantity"]), Decimal(str(tier["price"]))
        except (KeyError, TypeError, ValueError, InvalidOperation):
            continue
        line = _line(product, Field.TIER_PRICE, before, _checked_price(make(before)))
        line.tier_start_quantity = start
        line.label = _("From %(quantity)d %(unit)s") % {"quantity": start, "unit": product.unit}
        lines.append(line)
    return lines


def _checked_price(value: Decimal) -> Decimal:
    if value <= 0:
        raise Refused(
            RefusalCode.PRICE_NOT_POSITIVE,
            gettext_lazy("The rule would make a price %(price)s; prices must stay above 0."),
            params={"price": value},
        )
    return value


def _stock_lines(product: Product, make, wanted_skus) -> list[LiveEditLine]:
    skus = list(product.skus.all())
    if not skus:
        if wanted_skus is not None:
            return []
        return [_stock_line(product, None, product.amount_on_sale, make)]
    return [
        _stock_line(product, sku, sku.stock, make)
        for sku in skus
        if wanted_skus is None or sku.pk in wanted_skus
    ]


def _stock_line(product, sku, before, make) -> LiveEditLine:
    after = make(before)
    if after is not None and after < 0:
        raise Refused(
            RefusalCode.STOCK_NEGATIVE,
            gettext_lazy("The stock of offer %(offer)s would go below 0 (%(stock)d)."),
            params={"offer": product.offer_id, "stock": after},
        )
    line = _line(product, Field.STOCK, before, after, sku=sku)
    if after is None:
        line.status = LineStatus.FAILED
        line.reason = as_text(
            _why(gettext_noop("The stock of this SKU is unknown: sync the shop first."))
        )
    return line


def _status_line(product: Product, kind: str) -> LiveEditLine:
    after = DELISTED_STATUS if kind == LiveEdit.Kind.DELIST else LISTED_STATUS
    line = _line(product, Field.STATUS, product.status, after)
    line.label = product.subject[:255]
    return line


def _line(product, field, before, after, *, sku=None) -> LiveEditLine:
    line = LiveEditLine(
        product=product,
        sku=sku,
        remote_sku_id=sku.sku_id if sku else 0,
        spec_id=sku.spec_id if sku else "",
        field=field,
        label=_sku_label(sku) if sku else "",
        before=_text(before),
        after=_text(after),
    )
    if line.before == line.after:
        line.status = LineStatus.UNCHANGED
        line.reason = as_text(_why(gettext_noop("Nothing to change.")))
    return line


# --- apply, discard, undo ----------------------------------------------------------------
def apply_live_edit(*, user, operation: LiveEdit) -> LiveEdit:
    """Queue the job that sends a draft to 1688."""
    _require(user)
    with transaction.atomic():
        locked = LiveEdit.objects.select_for_update().get(pk=operation.pk)
        if locked.status != LiveEdit.Status.DRAFT:
            raise Refused(
                RefusalCode.NOT_A_DRAFT,
                gettext_lazy("This change has already been applied or discarded."),
            )
        require_owner(user, locked)
        if not locked.lines.filter(status=LineStatus.PLANNED).exists():
            raise Refused(
                RefusalCode.NOTHING_TO_APPLY, gettext_lazy("Nothing in this change is to be sent.")
            )
        locked.status = LiveEdit.Status.QUEUED
        locked.applied_by = user
        locked.applied_at = timezone.now()
        locked.save(update_fields=["status", "applied_by", "applied_at"])
        transaction.on_commit(lambda: _enqueue(locked.pk))
    return locked


def _enqueue(operation_id: int) -> None:
    job = django_rq.get_queue(QUEUE).enqueue(
        run_live_edit_job,
        operation_id,
        job_timeout=settings.SYNC_JOB_TIMEOUT,
        on_failure=Callback(mark_live_edit_job_failed),
    )
    LiveEdit.objects.filter(pk=operation_id).update(job_id=job.id)


def discard_live_edit(*, user, operation: LiveEdit) -> LiveEdit:
    _require(user)
    with transaction.atomic():
        locked = LiveEdit.objects.select_for_update().filter(pk=operation.pk).first()
        if locked is not None and locked.status == LiveEdit.Status.DRAFT:
            require_owner(user, locked)
        updated = LiveEdit.objects.filter(pk=operation.pk, status=LiveEdit.Status.DRAFT).update(
            status=LiveEdit.Status.DISCARDED, finished_at=timezone.now()
        )
    if not updated:
        raise Refused(
            RefusalCode.NOT_A_DRAFT, gettext_lazy("Only a change not yet applied can be discarded.")
        )
    operation.refresh_from_db()
    return operation


def check_live_edit(*, user, operation: LiveEdit, client: Open1688Client | None = None) -> LiveEdit:
    """Read the draft's offers on 1688 now (through the shared rate limit) and mark in the
    preview what would be a conflict or is already so; nothing is sent. Drafts of at most
    CHECK_MAX_OFFERS offers (a page waits for it); the job checks again when applied."""
    _require(user)
    operation = LiveEdit.objects.get(pk=operation.pk)
    if operation.status != LiveEdit.Status.DRAFT:
        raise Refused(RefusalCode.NOT_A_DRAFT, gettext_lazy("Only a preview can be checked."))
    require_owner(user, operation)
    lines = list(operation.lines.select_related("product__shop").order_by("product_id", "id"))
    offers: dict[int, list[LiveEditLine]] = defaultdict(list)
    for line in lines:
        if line.status in (LineStatus.PLANNED, LineStatus.CONFLICT, LineStatus.UNCHANGED):
            offers[line.product_id].append(line)
    if len(offers) > CHECK_MAX_OFFERS:
        raise Refused(
            RefusalCode.TOO_MANY_TO_CHECK,
            gettext_lazy("Check at most %(max)d offers at once; applying checks every offer."),
            params={"max": CHECK_MAX_OFFERS},
        )
    with client_or_new(client) as api:
        for product_lines in offers.values():
            product = product_lines[0].product
            try:
                detail = _read(product.shop, api, product)
            except Open1688Error as exc:
                try:
                    reason = _refusal(exc)[1]
                except _Stop as stop:
                    reason = stop.reason
                raise Refused(
                    RefusalCode.CHECK_FAILED, "%(reason)s", params={"reason": reason}
                ) from exc
            _compare(product_lines, remote_values(detail))
            LiveEditLine.objects.bulk_update(product_lines, ["status", "reason", "found"])
    return operation


def plan_undo(*, user, operation: LiveEdit) -> LiveEdit:
    """A draft that puts back the values the applied lines of `operation` replaced."""
    _require(user)
    operation = LiveEdit.objects.get(pk=operation.pk)  # as it is now, not as the caller read it
    if not operation.is_finished:
        raise Refused(
            RefusalCode.NOT_FINISHED, gettext_lazy("Only a change that has finished can be undone.")
        )
    earlier = operation.undos.exclude(
        status__in=[LiveEdit.Status.DISCARDED, LiveEdit.Status.FAILED]
    ).first()
    if earlier is not None:
        raise Refused(
            RefusalCode.ALREADY_UNDONE,
            gettext_lazy("This change already has an undo (#%(id)d)."),
            params={"id": earlier.pk},
        )
    applied = list(operation.lines.filter(status=LineStatus.APPLIED).select_related("product"))
    if not applied:
        raise Refused(
            RefusalCode.NOTHING_TO_UNDO, gettext_lazy("Nothing in this change was applied.")
        )
    kind = {
        LiveEdit.Kind.DELIST: LiveEdit.Kind.RELIST,
        LiveEdit.Kind.RELIST: LiveEdit.Kind.DELIST,
    }.get(operation.kind, operation.kind)
    params = {"undo_of": operation.pk}
    if kind == LiveEdit.Kind.STOCK:
        params["mode"] = "set"  # put the old number back, whatever happened in between
    with transaction.atomic():
        undo = LiveEdit.objects.create(kind=kind, params=params, created_by=user, undo_of=operation)
        LiveEditLine.objects.bulk_create(
            LiveEditLine(
                operation=undo,
                product=line.product,
                sku_id=line.sku_id,
                remote_sku_id=line.remote_sku_id,
                spec_id=line.spec_id,
                field=line.field,
                tier_start_quantity=line.tier_start_quantity,
                label=line.label,
                before=line.after,
                after=line.before,
            )
            for line in applied
        )
    return undo


# --- the job -----------------------------------------------------------------------------
def run_live_edit_job(operation_id: int) -> dict:
    operation = run_live_edit(operation_id)
    counts = defaultdict(int)
    for status in operation.lines.values_list("status", flat=True):
        counts[status] += 1
    return {"status": operation.status, **counts}


def mark_live_edit_job_failed(job, connection, exc_type, exc_value, traceback):
    """on_failure callback: a job killed by its timeout never reached its own handler."""
    message = f"{getattr(exc_type, '__name__', exc_type)}: {exc_value}"[:2000]
    active = LiveEdit.objects.filter(
        job_id=job.id, status__in=[LiveEdit.Status.QUEUED, LiveEdit.Status.RUNNING]
    )
    ids = list(active.values_list("pk", flat=True))
    active.update(status=LiveEdit.Status.FAILED, finished_at=timezone.now(), last_error=message)
    live_settle.close_dead(ids)  # sent lines stay unknown until read back


def fail_dead_operations() -> int:
    """Record operations whose job died without reaching its own handler (a work-horse killed
    by the OS: rq then calls no on_failure; a job lost with Redis): failed, and every line not
    confirmed says so. Run by the scheduler's minute job (sync.jobs). Returns how many."""
    queue = django_rq.get_queue(QUEUE)
    dead = 0
    active = [LiveEdit.Status.QUEUED, LiveEdit.Status.RUNNING]
    for operation in LiveEdit.objects.filter(status__in=active).exclude(job_id=""):
        try:
            job = Job.fetch(operation.job_id, connection=queue.connection)
        except NoSuchJobError:
            status = None
        else:
            status = job.get_status(refresh=False)
            if status not in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                continue  # queued, running, or finished (then it recorded its own end)
        with transaction.atomic():
            if not LiveEdit.objects.filter(pk=operation.pk, status__in=active).update(
                status=LiveEdit.Status.FAILED,
                finished_at=timezone.now(),
                last_error=as_text(
                    _why(
                        gettext_noop(
                            "The worker running this change stopped before it finished. Lines "
                            "not marked applied may or may not be on 1688: sync the shop and "
                            "check them before changing them again."
                        )
                    )
                ),
            ):
                continue
            live_settle.close_dead([operation.pk])  # sent lines stay unknown until read back
        dead += 1
    return dead


class _Stop(Exception):
    """Nothing more can be sent for this shop (or at all): the remaining lines say why."""

    def __init__(self, reason: Message, *, every_shop: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.every_shop = every_shop


def run_live_edit(operation_id: int, *, client: Open1688Client | None = None) -> LiveEdit:
    """The job body: send a queued operation's planned lines, offer by offer."""
    with transaction.atomic():
        operation = LiveEdit.objects.select_for_update().get(pk=operation_id)
        if operation.status not in (LiveEdit.Status.QUEUED, LiveEdit.Status.RUNNING):
            return operation  # already done (a duplicate job) or discarded
        operation.status = LiveEdit.Status.RUNNING
        operation.save(update_fields=["status"])
    pending = (
        operation.lines.filter(status=LineStatus.PLANNED)
        .select_related("product__shop", "sku")
        .order_by("product_id", "id")  # offers in the order they were picked from the mirror
    )
    offers: dict[int, list[LiveEditLine]] = defaultdict(list)
    for line in pending:
        offers[line.product_id].append(line)
    stopped: dict[int | None, Message] = {}  # shop id (None: every shop) → why
    try:
        with client_or_new(client) as api:
            for lines in offers.values():
                product = lines[0].product
                reason = stopped.get(None) or stopped.get(product.shop_id)
                if reason:
                    _close(lines, LineStatus.FAILED, reason)
                    continue
                try:
                    _apply_offer(operation, product, lines, api)
                except _Stop as stop:
                    stopped[None if stop.every_shop else product.shop_id] = stop.reason
                    _close(
                        [line for line in lines if line.status == LineStatus.PLANNED],
                        LineStatus.FAILED,
                        stop.reason,
                    )
    except Exception as exc:
        operation.status, operation.last_error = LiveEdit.Status.FAILED, f"{exc}"[:2000]
        operation.finished_at = timezone.now()
        operation.save(update_fields=["status", "last_error", "finished_at"])
        live_settle.close_dead([operation.pk])
        raise
    return _finish(operation)


def _finish(operation: LiveEdit) -> LiveEdit:
    statuses = set(operation.lines.values_list("status", flat=True))
    if LineStatus.UNKNOWN in statuses:  # the minute job settles them (catalog/live_edits/settle.py)
        operation.status = LiveEdit.Status.CONFIRMING
    elif statuses <= {LineStatus.APPLIED, LineStatus.UNCHANGED}:
        operation.status = LiveEdit.Status.DONE
    elif LineStatus.APPLIED in statuses:
        operation.status = LiveEdit.Status.PARTLY_DONE
    else:  # nothing sent took: conflicts, refusals, failures only
        operation.status = LiveEdit.Status.FAILED
    operation.finished_at = timezone.now()
    operation.save(update_fields=["status", "finished_at"])
    return operation


def _why(msgid: str, **params) -> Message:
    """A line's reason as stored: the English message id and its parameters, shown later in
    the reader's language (erp1688/messages.py; templates use the `stored_message` filter)."""
    message = stored(msgid)
    return message % params if params else message


def _close(lines: list[LiveEditLine], status: str, reason: Message) -> None:
    for line in lines:
        line.status, line.reason = status, as_text(reason)[:2000]
    LiveEditLine.objects.bulk_update(lines, ["status", "reason", "found"])


def _apply_offer(operation: LiveEdit, product: Product, lines: list[LiveEditLine], client):
    shop = product.shop
    try:
        detail = _read(shop, client, product)
    except Open1688Error as exc:
        _close(lines, *_refusal(exc))
        return
    to_send = _compare(lines, remote_values(detail))
    # Marked before the call: if the worker dies from here on, the line may be on 1688, and
    # only a read-back can tell (a line still planned was never sent).
    live_settle.mark_sent(to_send)
    LiveEditLine.objects.bulk_update(lines, ["status", "reason", "found", "sent_at"])
    if not to_send:
        return
    may_be_late = False
    try:
        _write(operation, shop, client, detail, to_send)
    except (OutcomeUnknownError, TransportError, ServerError) as exc:
        # No answer (a delta), or none after the retries of an idempotent write (expire, edit,
        # a set): 1688 may have applied it all the same, so what it shows now decides.
        log.warning("live edit %s: outcome unknown for %s, re-reading", operation.pk, product)
        may_be_late = may_land_later(exc)
        wait_for_late_apply(exc)  # after a timeout 1688 may still apply it
    except Open1688Error as exc:
        try:
            outcome = _refusal(exc)
        except _Stop as stop:  # refused: not applied
            _close(to_send, LineStatus.FAILED, stop.reason)
            raise
        _close(to_send, *outcome)
        return
    try:
        fresh = _read(shop, client, product)
    except (Open1688Error, _Stop) as exc:
        live_settle.not_read_back(to_send, exc)
        if isinstance(exc, _Stop):
            raise
        return
    live_settle.read_back(operation, product, fresh, to_send, may_be_late=may_be_late)


def _compare(lines: list[LiveEditLine], current: dict) -> list[LiveEditLine]:
    """Mark each line against what 1688 has now; returns the lines still to send."""
    to_send = []
    for line in lines:
        found = current.get(_key(line))
        line.found = _text(found)
        if found is None and line.field != Field.STATUS:
            line.status = LineStatus.FAILED
            line.reason = as_text(
                _why(gettext_noop("This SKU or tier is no longer on the offer on 1688."))
            )
        elif _same(line, line.found, line.after):
            line.status = LineStatus.UNCHANGED
            line.reason = as_text(_why(gettext_noop("Already so on 1688.")))
        elif not _same(line, line.found, line.before):
            line.status = LineStatus.CONFLICT
            line.reason = as_text(
                _why(
                    gettext_noop(
                        "Changed on 1688 since the last sync: %(found)s there, %(before)s here. "
                        "Not overwritten."
                    ),
                    found=line.found or "—",
                    before=line.before or "—",
                )
            )
        else:
            line.status, line.reason = LineStatus.PLANNED, ""
            to_send.append(line)
    return to_send


def _read(shop, client, product: Product) -> ProductDetail:
    return call_as_shop(shop, client, client.get_product, product.offer_id)


def _key(line: LiveEditLine) -> tuple:
    return (line.field, line.remote_sku_id, line.tier_start_quantity)


def remote_values(detail: ProductDetail) -> dict[tuple, object]:
    """What 1688 has now, keyed like the lines: (field, remote SKU id, tier start quantity)."""
    values: dict[tuple, object] = {(Field.STATUS, 0, None): detail.status}
    for sku in detail.skus:
        values[(Field.PRICE, sku.sku_id, None)] = sku.price
        values[(Field.STOCK, sku.sku_id, None)] = sku.amount_on_sale
    if not detail.skus:
        values[(Field.STOCK, 0, None)] = detail.amount_on_sale
    for tier in detail.price_ranges:
        values[(Field.TIER_PRICE, 0, tier.start_quantity)] = tier.price
    return values


def _same(line: LiveEditLine, a: str, b: str) -> bool:
    if not line.is_numeric or a == "" or b == "":
        return a == b
    return Decimal(a) == Decimal(b)


def _write(operation, shop, client, detail: ProductDetail, lines: list[LiveEditLine]) -> None:
    offer_id = detail.product_id
    if operation.kind == LiveEdit.Kind.DELIST:
        call_as_shop(shop, client, client.expire_products, [offer_id])
    elif operation.kind == LiveEdit.Kind.RELIST:
        call_as_shop(shop, client, client.republish_products, [offer_id])
    elif operation.kind == LiveEdit.Kind.STOCK:
        increment = operation.params.get("mode") == "adjust"
        change = stock_change(detail, lines, increment=increment)
        call_as_shop(shop, client, client.modify_stock, [change], increment=increment)
    else:  # tier prices alone by the incremental edit where granted (catalog/live_edits/writes.py)
        live_edit_writes.write_prices(shop, client, detail, lines)


def stock_change(detail: ProductDetail, lines: list[LiveEditLine], *, increment: bool) -> dict:
    """One `productStockChange` item: per SKU keyed by the specId 1688 just gave, the delta
    (increment) or the new number."""

    def amount(line: LiveEditLine) -> int:
        after = int(Decimal(line.after))
        return after - int(Decimal(line.before)) if increment else after

    spec_ids = {sku.sku_id: sku.spec_id for sku in detail.skus}
    change: dict = {"productId": detail.product_id}
    sku_lines = [line for line in lines if line.remote_sku_id]
    if sku_lines:
        change["skuStocks"] = [
            {"skuId": spec_ids.get(line.remote_sku_id) or line.spec_id, "stockChange": amount(line)}
            for line in sku_lines
        ]
    else:
        change["productAmountChange"] = amount(lines[0])
    return change


# Platform refusals in plain words. Codes beyond the gateway's are not attested: matched by
# the words they carry (REPUBLISH/LIMIT, AUDIT), as the sandbox and real answers name them.
def _refusal(exc: Open1688Error) -> tuple[str, Message]:
    if isinstance(exc, AuthError):  # a refresh was tried (call_as_shop): re-authorise
        raise _Stop(
            _why(
                gettext_noop("The shop must be authorised again before its offers can be changed.")
            )
        )
    if isinstance(exc, QuotaSpentError):
        raise _Stop(
            _why(gettext_noop("The app's paid call quota on 1688 is spent.")), every_shop=True
        )
    if isinstance(exc, PermissionDeniedError):
        return LineStatus.REFUSED, _why(
            gettext_noop(
                "1688 refused: this app is not allowed to call %(api)s (API access not granted)."
            ),
            api=exc.api or "?",
        )
    if isinstance(exc, BusinessError):
        code = (exc.code or "").upper()
        if "REPUBLISH" in code or "LIMIT" in code:
            return LineStatus.REFUSED, _why(
                gettext_noop("1688's daily relist limit is reached; relist this offer tomorrow.")
            )
        if "AUDIT" in code:
            return LineStatus.REFUSED, _why(
                gettext_noop(
                    "1688 is auditing this offer, or it failed the audit; it cannot be changed now."
                )
            )
        if "NOT_EXIST" in code:
            return LineStatus.REFUSED, _why(
                gettext_noop("The offer or SKU no longer exists on 1688.")
            )
        return LineStatus.REFUSED, _why(
            gettext_noop("1688 refused: %(message)s"), message=exc.message
        )
    if isinstance(exc, QuotaError):
        return LineStatus.FAILED, _why(
            gettext_noop("1688's call rate limit held this back; apply again later.")
        )
    if isinstance(exc, TransportError | ServerError):
        return LineStatus.FAILED, _why(
            gettext_noop("1688 could not be reached: %(error)s"), error=exc
        )
    return LineStatus.FAILED, _why(
        gettext_noop("1688 answered with an error: %(error)s"), error=exc
    )


# --- mirror and change log ---------------------------------------------------------------
def _mirror(product: Product, detail: ProductDetail, applied: list[LiveEditLine]) -> None:
    """The confirmed values into the mirror; the modify stamp is left for the next sync."""
    if not applied:
        return
    product.refresh_from_db()
    values = remote_values(detail)
    fields = set()
    skus = {s.sku_id: s for s in product.skus.all()}
    changed_skus = {}
    for line in applied:
        value = values.get(_key(line))
        if line.field == Field.STATUS:
            product.status = str(value)[:40]
            if value in DELISTED_STATUSES:
                product.delisted_at = product.delisted_at or timezone.now()
            else:
                product.delisted_at = None
            fields |= {"status", "delisted_at"}
        elif line.field == Field.TIER_PRICE:
            product.price_ranges = [
                {**tier, "price": str(value)}
                if int(tier.get("start_quantity", -1)) == line.tier_start_quantity
                else tier
                for tier in product.price_ranges
            ]
            fields.add("price_ranges")
        elif line.remote_sku_id and line.remote_sku_id in skus:
            sku = skus[line.remote_sku_id]
            setattr(sku, "price" if line.field == Field.PRICE else "stock", value)
            changed_skus[sku.pk] = sku
        elif line.field == Field.STOCK:
            product.amount_on_sale = value
            fields.add("amount_on_sale")
    if any(line.field == Field.STOCK for line in applied) and detail.amount_on_sale is not None:
        product.amount_on_sale = detail.amount_on_sale
        fields.add("amount_on_sale")
    if fields:
        product.save(update_fields=sorted(fields))
    if changed_skus:
        Sku.objects.bulk_update(list(changed_skus.values()), ["price", "stock"])


def _log_changes(operation, product: Product, detail: ProductDetail, applied) -> None:
    now = timezone.now()
    stamp = detail.modify_time or now
    field_of = {
        Field.PRICE: PriceStockChange.Field.PRICE,
        Field.STOCK: PriceStockChange.Field.STOCK,
        Field.TIER_PRICE: PriceStockChange.Field.TIER_PRICE,
    }
    rows = [
        PriceStockChange(
            shop_id=product.shop_id,
            product=product,
            sku_id=line.sku_id,
            remote_sku_id=line.remote_sku_id,
            field=field_of[line.field],
            tier_start_quantity=line.tier_start_quantity or 0,
            **PriceStockChange.value_columns(
                field_of[line.field],
                Decimal(line.before) if line.before else None,
                Decimal(line.after),
            ),
            remote_modified_at=stamp,
            observed_at=now,
            source=ChangeSource.ERP,
            made_by=operation.applied_by,
            live_edit=operation,
        )
        for line in applied
        if line.field in field_of
    ]
    PriceStockChange.objects.bulk_create(rows, ignore_conflicts=True)
    alerts.on_changes(changes=rows)  # the same rules as a sync's rows (catalog/alerts/services.py)
