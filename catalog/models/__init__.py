"""Domain models: a local mirror of 1688 shops, offers (products) and SKUs, the price/stock
change log, sync runs, and batch uploads (批量上货)."""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator, ProhibitNullCharactersValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models.fields import EncryptedTextField

MONEY = {"max_digits": 14, "decimal_places": 2}


def json_texts(value):
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from json_texts(key)
            yield from json_texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from json_texts(item)


class ProhibitNullCharactersInJSON(ProhibitNullCharactersValidator):
    """PostgreSQL's jsonb refuses "\u0000" anywhere: a form error, not a database error."""

    def __call__(self, value):
        if any("\x00" in text for text in json_texts(value)):
            raise ValidationError(self.message, code=self.code)


class JSONField(models.JSONField):
    """JSON that accepts Decimal (1688 prices are parsed as Decimal, never float)."""

    default_validators = [ProhibitNullCharactersInJSON()]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("encoder", DjangoJSONEncoder)
        super().__init__(*args, **kwargs)


class ShopQuerySet(models.QuerySet):
    def syncable(self):
        """Shops that may be synced at all (by staff or the scheduler): active ones. The one rule
        every caller that picks shops to sync goes through."""
        return self.filter(status=Shop.Status.ACTIVE)

    def scheduled(self):
        """Syncable shops the scheduler syncs on its own (staff did not switch it off)."""
        return self.syncable().filter(sync_enabled=True)


class Shop(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        NEEDS_REAUTH = "needs_reauth", _("Needs re-authorisation")
        DISABLED = "disabled", _("Disabled")

    member_id = models.CharField(_("1688 member id"), max_length=64, unique=True)
    login_id = models.CharField(_("login id"), max_length=128, blank=True)
    name = models.CharField(_("shop name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    status_reason = models.CharField(_("status reason"), max_length=300, blank=True)
    access_token = EncryptedTextField(_("access token"), blank=True, editable=False)
    refresh_token = EncryptedTextField(_("refresh token"), blank=True, editable=False)
    access_token_expires_at = models.DateTimeField(_("access token expires"), null=True)
    refresh_token_expires_at = models.DateTimeField(_("refresh token expires"), null=True)
    sync_enabled = models.BooleanField(_("scheduled sync"), default=True)
    sync_cursor = models.DateTimeField(
        _("sync cursor"),
        null=True,
        blank=True,
        help_text=_("End of the last fully committed modify-time window."),
    )
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    # APIs the platform refused this app (gw.APIACLDecline), newest first:
    # [{"api": "alibaba.product.get", "at": "<ISO time>", "message": "..."}], one per API.
    declined_apis = JSONField(_("APIs not granted"), default=list, blank=True, editable=False)
    # Offers whose detail call failed transiently (e.g. PRODUCT_NOT_EXIST right after the offer
    # appeared): {"<offer id>": misses}. The next run reads them again; gone after two misses.
    pending_offers = JSONField(_("offers to read again"), default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ShopQuerySet.as_manager()

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["name"]
        permissions = [
            ("connect_shop", _("Can connect a 1688 shop (OAuth)")),
            ("sync_shop", _("Can queue a sync of a shop")),
            ("resync_shop", _("Can queue a full resync of a shop")),
        ]

    def __str__(self):
        return f"{self.name} ({self.member_id})"

    @property
    def is_connected(self) -> bool:
        return bool(self.access_token) and self.status == self.Status.ACTIVE

    def access_token_fresh(self, margin: timedelta = timedelta(minutes=5)) -> bool:
        expires = self.access_token_expires_at
        return bool(self.access_token) and (expires is None or expires - margin > timezone.now())

    @property
    def is_syncable(self) -> bool:
        """The instance form of `Shop.objects.syncable()`."""
        return self.status == self.Status.ACTIVE


class Product(models.Model):
    """One 1688 offer of a shop, as last read from the platform."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="products", verbose_name=_("shop")
    )
    offer_id = models.BigIntegerField(_("offer id"))
    subject = models.CharField(_("title"), max_length=255)
    category_id = models.BigIntegerField(_("category id"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=40, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    min_order_quantity = models.PositiveIntegerField(_("min order quantity"), null=True)
    amount_on_sale = models.BigIntegerField(_("amount on sale"), null=True, blank=True)
    quote_type = models.SmallIntegerField(_("quote type"), null=True, blank=True)
    cargo_number = models.CharField(_("cargo number"), max_length=64, blank=True)
    price_ranges = JSONField(
        _("price ranges"),
        default=list,
        blank=True,
        help_text='[{"start_quantity": 1, "price": "9.90"}]',
    )
    images = JSONField(_("images"), default=list, blank=True)
    attributes = JSONField(_("attributes"), default=list, blank=True)
    remote_created_at = models.DateTimeField(_("created on 1688"), null=True, blank=True)
    remote_modified_at = models.DateTimeField(_("modified on 1688"), null=True, blank=True)
    raw = JSONField(_("raw payload"), default=dict, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    delisted_at = models.DateTimeField(
        _("delisted"), null=True, blank=True, help_text=_("Set when 1688 no longer lists it.")
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["-remote_modified_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "offer_id"], name="product_offer_unique_per_shop"
            )
        ]
        indexes = [
            models.Index(fields=["shop", "remote_modified_at"], name="product_shop_modified"),
            models.Index(fields=["shop", "status"], name="product_shop_status"),
            models.Index(fields=["shop", "cargo_number"], name="product_shop_cargo"),
            models.Index(fields=["offer_id"], name="product_offer"),
            # The staff product list's orderings and filters (catalog/mirror/selectors.py).
            models.Index(fields=["remote_modified_at", "id"], name="product_modified_id"),
            models.Index(fields=["subject", "id"], name="product_subject_id"),
            models.Index(fields=["amount_on_sale", "id"], name="product_stock_id"),
            models.Index(
                fields=["status", "remote_modified_at", "id"], name="product_status_modified"
            ),
            models.Index(fields=["delisted_at"], name="product_delisted"),
            models.Index(fields=["category_id"], name="product_category"),
        ]

    def __str__(self):
        return f"{self.subject} [{self.offer_id}]"

    @property
    def min_price(self) -> Decimal | None:
        prices = [Decimal(r["price"]) for r in self.price_ranges if r.get("price") is not None]
        return min(prices) if prices else None

    @property
    def main_image(self) -> str:
        return self.images[0] if self.images else ""


class Sku(models.Model):
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="skus", verbose_name=_("product")
    )
    sku_id = models.BigIntegerField(_("SKU id"))
    spec_id = models.CharField(_("spec id"), max_length=64, blank=True)
    attributes = JSONField(_("attributes"), default=list, blank=True)
    cargo_number = models.CharField(_("cargo number"), max_length=64, blank=True)
    sku_code = models.CharField(_("SKU code"), max_length=64, blank=True)
    price = models.DecimalField(_("price"), null=True, blank=True, **MONEY)
    retail_price = models.DecimalField(_("retail price"), null=True, blank=True, **MONEY)
    stock = models.BigIntegerField(_("stock"), null=True, blank=True)
    # The SKU's own quantity tiers (1688's per-SKU `priceRange`), where present.
    price_ranges = JSONField(_("price ranges"), default=list, blank=True)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["product", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "sku_id"], name="sku_unique_per_product")
        ]
        indexes = [
            # Search by SKU cargo number (货号) in the staff product list.
            models.Index(fields=["cargo_number", "product"], name="sku_cargo_product"),
        ]

    def __str__(self):
        label = " / ".join(str(a.get("attributeValue", "")) for a in self.attributes)
        return label or str(self.sku_id)


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        INCREMENTAL = "incremental", _("Incremental")
        FULL = "full", _("Full resync")
        FIRST = "first", _("First sync")  # an incremental run of a shop never synced before

    class ErrorKind(models.TextChoices):  # why a run failed, for staff (catalog/alerts/services.py)
        AUTH = "auth", _("Authorisation")
        QUOTA = "quota", _("Quota")
        DATA = "data", _("Data")
        PLATFORM = "platform", _("1688 platform")
        WORKER = "worker", _("Worker stopped")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (already running)")

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="sync_runs", verbose_name=_("shop")
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.INCREMENTAL
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    job_id = models.CharField(_("job ID"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    window_start = models.DateTimeField(_("window start"), null=True, blank=True)
    window_end = models.DateTimeField(_("window end"), null=True, blank=True)
    cursor_before = models.DateTimeField(_("cursor before"), null=True, blank=True)
    cursor_after = models.DateTimeField(_("cursor after"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    requests_made = models.PositiveIntegerField(_("requests made"), default=0)
    offers_seen = models.PositiveIntegerField(_("offers seen"), default=0)
    offers_created = models.PositiveIntegerField(_("offers created"), default=0)
    offers_updated = models.PositiveIntegerField(_("offers updated"), default=0)
    offers_delisted = models.PositiveIntegerField(_("offers delisted"), default=0)
    details_fetched = models.PositiveIntegerField(_("details fetched"), default=0)
    changes_written = models.PositiveIntegerField(_("changes written"), default=0)
    offers_total = models.PositiveIntegerField(
        _("offers total"), null=True, blank=True
    )  # the window's, for progress
    error = models.TextField(_("error"), blank=True)
    error_kind = models.CharField(
        _("error kind"), max_length=10, choices=ErrorKind.choices, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "-created_at"], name="syncrun_shop_created"),
            # The admin's newest-first list, without a sort of every run.
            models.Index(fields=["-created_at", "-id"], name="syncrun_created"),
        ]

    def __str__(self):
        return f"{self.shop} {self.get_kind_display()} {self.get_status_display()}"

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class ChangeSource(models.TextChoices):
    SYNC = "sync", _("Seen on 1688")
    ERP = "erp", _("Made by this ERP")
    WATCH = "watch", _("Watched supplier")


class PriceStockChange(models.Model):
    """One observed change of a price or stock, per SKU (or per offer when it has no SKUs)."""

    class Field(models.TextChoices):
        PRICE = "price", _("Price")
        STOCK = "stock", _("Stock")
        TIER_PRICE = "tier_price", _("Tier price")

    # An own shop's offer (shop + product), or a watched supplier's offer (watched_offer).
    shop = models.ForeignKey(
        Shop,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("shop"),
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("product"),
    )
    watched_offer = models.ForeignKey(
        "catalog.WatchedOffer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("watched offer"),
    )
    sku = models.ForeignKey(
        Sku,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("SKU"),
    )
    # The remote SKU id (0 = the offer itself): part of the de-duplication key.
    remote_sku_id = models.BigIntegerField(_("remote SKU ID"), default=0)
    field = models.CharField(_("field"), max_length=10, choices=Field.choices)
    # A tier_price row: the tier's start quantity (起批量) whose price moved; 0 for other rows.
    tier_start_quantity = models.PositiveIntegerField(_("tier start quantity"), default=0)
    # Prices in the money columns, stock counts in their own: a count 1688 can send does not
    # fit a money column's 12 integer digits (and SQLite reads decimals back to 15 digits).
    old_value = models.DecimalField(_("old value"), null=True, blank=True, **MONEY)
    new_value = models.DecimalField(_("new value"), null=True, blank=True, **MONEY)
    old_stock = models.BigIntegerField(_("old stock"), null=True, blank=True)
    new_stock = models.BigIntegerField(_("new stock"), null=True, blank=True)
    remote_modified_at = models.DateTimeField(_("1688 modify stamp"))
    observed_at = models.DateTimeField(_("observed"), default=timezone.now)
    sync_run = models.ForeignKey(
        SyncRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("sync run"),
    )
    # Who made the change: seen by a sync (made on 1688), or made by this ERP for a user.
    source = models.CharField(
        _("source"), max_length=10, choices=ChangeSource.choices, default=ChangeSource.SYNC
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("made by"),
    )
    live_edit = models.ForeignKey(
        "catalog.LiveEdit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("live offer change"),
    )

    class Meta:
        verbose_name = _("price/stock change")
        verbose_name_plural = _("price/stock changes")
        ordering = ["-observed_at", "-id"]
        constraints = [
            # The same remote change is recorded once, however often it is re-read.
            models.UniqueConstraint(
                fields=[
                    "product",
                    "remote_sku_id",
                    "field",
                    "tier_start_quantity",
                    "remote_modified_at",
                ],
                name="change_once_per_remote_change",
            ),
            models.UniqueConstraint(
                fields=[
                    "watched_offer",
                    "remote_sku_id",
                    "field",
                    "tier_start_quantity",
                    "remote_modified_at",
                ],
                condition=Q(watched_offer__isnull=False),
                name="watched_change_once",
            ),
            # A stock row keeps its counts in the stock columns, a price row in the money ones.
            models.CheckConstraint(
                condition=(
                    Q(field="stock", old_value__isnull=True, new_value__isnull=True)
                    | (~Q(field="stock") & Q(old_stock__isnull=True, new_stock__isnull=True))
                ),
                name="change_stock_in_stock_columns",
            ),
            # Exactly one subject: an own offer or a watched one.
            models.CheckConstraint(
                condition=(
                    Q(product__isnull=False, shop__isnull=False, watched_offer__isnull=True)
                    | Q(product__isnull=True, shop__isnull=True, watched_offer__isnull=False)
                ),
                name="change_own_or_watched",
            ),
        ]
        indexes = [
            models.Index(fields=["product", "-observed_at"], name="change_product_history"),
            # The staff change log: newest first, by field, by SKU
            # (catalog/mirror/changelog_views.py).
            models.Index(fields=["observed_at", "id"], name="change_observed_id"),
            models.Index(fields=["field", "observed_at", "id"], name="change_field_observed"),
            models.Index(fields=["remote_sku_id", "observed_at"], name="change_sku_observed"),
            models.Index(fields=["shop", "-observed_at"], name="change_shop_latest"),
            models.Index(fields=["watched_offer", "-observed_at"], name="change_watched_history"),
        ]

    def __str__(self):
        tier = f"@{self.tier_start_quantity}" if self.field == self.Field.TIER_PRICE else ""
        subject = self.product_id or f"watched {self.watched_offer_id}"
        return f"{subject} {self.field}{tier}: {self.before} → {self.after}"

    @property
    def is_stock(self) -> bool:
        return self.field == self.Field.STOCK

    # The values whatever the field: a count for a stock row, a price otherwise.
    @property
    def before(self) -> int | Decimal | None:
        return self.old_stock if self.is_stock else self.old_value

    @property
    def after(self) -> int | Decimal | None:
        return self.new_stock if self.is_stock else self.new_value

    @classmethod
    def value_columns(cls, field: str, before, after) -> dict:
        """The column values of a row of `field` moving from `before` to `after`."""
        if field == cls.Field.STOCK:
            return {
                "old_stock": None if before is None else int(before),
                "new_stock": None if after is None else int(after),
            }
        return {"old_value": before, "new_value": after}

    # What the row is about, for lists that show own and watched offers together.
    @property
    def subject_offer_id(self) -> int | None:
        subject = self.product if self.product_id else self.watched_offer
        return subject.offer_id if subject else None

    @property
    def subject_title(self) -> str:
        return self.product.subject if self.product_id else self.watched_offer.subject

    @property
    def subject_owner(self) -> str:
        """The own shop's name, or the watched offer's supplier."""
        return self.shop.name if self.shop_id else self.watched_offer.supplier_label

    @property
    def tier_label(self) -> str:
        """Which tier moved, for staff: "起批 3 件" (empty for rows that are not tiers)."""
        if self.field != self.Field.TIER_PRICE:
            return ""
        return _("from %(quantity)s pieces") % {"quantity": self.tier_start_quantity}

    @property
    def delta(self) -> int | Decimal | None:
        if self.before is None or self.after is None:
            return None
        return self._shown(self.after - self.before)

    def _shown(self, value) -> int | Decimal | None:
        # Stock is a whole number, prices have cents.
        if value is None:
            return None
        return int(value) if self.is_stock else Decimal(value).quantize(Decimal("0.01"))

    @property
    def old_shown(self) -> int | Decimal | None:
        return self._shown(self.before)

    @property
    def new_shown(self) -> int | Decimal | None:
        return self._shown(self.after)


def new_cargo_number() -> str:
    return "ERP" + uuid.uuid4().hex[:12].upper()


class UploadBatch(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        VALIDATED = "validated", _("Validated")
        SUBMITTED = "submitted", _("Submitted")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        PARTLY_FAILED = "partly_failed", _("Partly failed")

    shop = models.ForeignKey(
        Shop, on_delete=models.PROTECT, related_name="upload_batches", verbose_name=_("shop")
    )
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    job_id = models.CharField(_("job ID"), max_length=64, blank=True)
    items_total = models.PositiveIntegerField(_("items total"), default=0)
    items_invalid = models.PositiveIntegerField(_("items invalid"), default=0)
    items_pending = models.PositiveIntegerField(_("items pending"), default=0)
    items_succeeded = models.PositiveIntegerField(_("items succeeded"), default=0)
    items_failed = models.PositiveIntegerField(_("items failed"), default=0)
    items_unknown = models.PositiveIntegerField(_("items unknown"), default=0)
    items_auditing = models.PositiveIntegerField(_("items auditing"), default=0)
    items_rejected = models.PositiveIntegerField(_("items rejected"), default=0)
    # Per-batch overrides of the shop's publishing defaults (catalog.models.publishing).
    freight_template_id = models.BigIntegerField(_("freight template"), null=True, blank=True)
    send_address_id = models.BigIntegerField(_("send-goods address"), null=True, blank=True)
    # Why the last run stopped early (quota wait, shop needs re-authorisation...), for staff.
    last_error = models.TextField(_("last error"), blank=True)

    # While the upload job owns a batch (queued or running), staging leaves it alone.
    LOCKED_STATUSES = (Status.SUBMITTED, Status.RUNNING)

    class Meta:
        verbose_name = _("upload batch")
        verbose_name_plural = _("upload batches")
        ordering = ["-created_at", "-id"]
        permissions = [("submit_uploadbatch", _("Can submit a batch for upload, or retry it"))]

    def __str__(self):
        return self.name

    @property
    def is_locked(self) -> bool:
        return self.status in self.LOCKED_STATUSES

    @property
    def progress_percent(self) -> int:
        valid = self.items_total - self.items_invalid
        if valid <= 0:
            return 0
        done = self.items_succeeded + self.items_auditing + self.items_rejected + self.items_failed
        return round(100 * done / valid)


# The one definition of a valid staged item: no validation errors (also used in aggregates).
VALID_ITEM = Q(validation_errors={})


class UploadItemQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(VALID_ITEM)

    def invalid(self):
        return self.exclude(VALID_ITEM)

    def not_uploaded(self):
        """Items staging may still validate or change: pending or failed."""
        return self.filter(status__in=UploadItem.NOT_UPLOADED)

    def to_upload(self):
        """What an upload run works on, in order: valid items not yet succeeded."""
        return self.valid().filter(status__in=UploadItem.TO_UPLOAD).order_by("position", "id")

    def back_to_pending(self) -> int:
        """Send these items again from the start (a retry, a resubmit): pending, no sends or
        looks counted, no 1688 error kept; the offer id stays. Returns how many."""
        return self.update(
            status=UploadItem.Status.PENDING,
            sends=0,
            looks=0,
            next_check_at=None,
            remote_error_code="",
            remote_error_message="",
            updated_at=timezone.now(),
        )


class UploadItem(models.Model):
    class Status(models.TextChoices):
        # pending → uploading → (unknown →) auditing → published | rejected; or failed.
        PENDING = "pending", _("Pending")
        UPLOADING = "uploading", _("Uploading")
        UNKNOWN = "unknown", _("Unknown — checking")
        AUDITING = "auditing", _("In 1688 audit")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Rejected in audit")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        FORM = "form", _("Form")
        IMPORT = "import", _("Import")
        COPY = "copy", _("Copied offer")

    batch = models.ForeignKey(
        UploadBatch, on_delete=models.CASCADE, related_name="items", verbose_name=_("batch")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.FORM
    )
    source_offer_id = models.BigIntegerField(_("source offer ID"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=255, blank=True)
    category_id = models.BigIntegerField(_("category id"), null=True, blank=True)
    price = models.DecimalField(_("price"), null=True, blank=True, **MONEY)
    price_ranges = JSONField(_("price ranges"), default=list, blank=True)
    stock = models.BigIntegerField(
        _("stock"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    unit = models.CharField(_("unit"), max_length=20, default="件")
    min_order_quantity = models.PositiveIntegerField(_("min order quantity"), default=1)
    images = JSONField(_("images"), default=list, blank=True)
    attributes = JSONField(_("attributes"), default=list, blank=True)
    skus = JSONField(_("SKUs"), default=list, blank=True)
    cargo_number = models.CharField(
        _("cargo number"), max_length=64, default=new_cargo_number,
        help_text=_("The cargo number is also the key that finds the offer on 1688."),
    )  # fmt: skip
    description = models.TextField(_("description"), blank=True)
    validation_errors = JSONField(_("validation errors"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    remote_offer_id = models.BigIntegerField(_("1688 offer id"), null=True, blank=True)
    remote_error_code = models.CharField(_("remote error code"), max_length=100, blank=True)
    remote_error_message = models.TextField(_("remote error message"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    # Exactly once (catalog/publishing/upload/run.py): sends since the last staff retry; looks on
    # 1688 in the
    # current unknown episode; when the next look (or audit check) is due.
    sends = models.PositiveSmallIntegerField(_("sends"), default=0)
    looks = models.PositiveSmallIntegerField(_("looks"), default=0)
    next_check_at = models.DateTimeField(_("next check"), null=True, blank=True)
    publish_api = models.CharField(_("publish API"), max_length=10, blank=True)
    offer_status = models.CharField(_("1688 offer status"), max_length=20, blank=True)
    # Photobank paths of `images`, in order, once the job put them there.
    picture_paths = JSONField(_("picture paths"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Still to be uploaded: the only items staging may validate or change.
    NOT_UPLOADED = (Status.PENDING, Status.FAILED)
    # Sent or maybe sent without a known outcome: asked about on 1688 before any new send.
    UNRESOLVED = (Status.UPLOADING, Status.UNKNOWN)
    # What a run picks up (when valid).
    TO_UPLOAD = (Status.PENDING, Status.UPLOADING, Status.UNKNOWN)

    objects = UploadItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("upload item")
        verbose_name_plural = _("upload items")
        ordering = ["batch", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "cargo_number"], name="upload_item_cargo_unique_per_batch"
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gt=0), name="upload_item_price_positive"
            ),
        ]
        indexes = [models.Index(fields=["batch", "status"], name="upload_item_batch_status")]

    def __str__(self):
        return self.title or self.cargo_number


# --- Watching suppliers: offers of other sellers, read from the buyer side --------


class Channel(models.TextChoices):
    """How a watched offer's latest read came about (docs/contracts.md "Watching suppliers")."""

    PUSH_HTTP = "push_http", _("Push (HTTP)")
    PUSH_WS = "push_ws", _("Push (WebSocket)")
    REPLAY = "replay", _("Push replay")
    POLL = "poll", _("Scheduled poll")
    MANUAL = "manual", _("Manual")


class WatchedOfferQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def due_for_poll(self, now, interval: timedelta):
        """Active offers not read for `interval` (or never read): what the scheduled poll reads."""
        return self.active().filter(
            Q(last_read_at__isnull=True) | Q(last_read_at__lte=now - interval)
        )


class WatchedOffer(models.Model):
    """Another seller's offer staff follow for price and stock moves. Its last buyer-side read
    is `snapshot` (the change log's "before"); its moves are PriceStockChange rows with
    `watched_offer` set and source "watch"."""

    offer_id = models.BigIntegerField(_("offer id"), unique=True)
    subject = models.CharField(_("title"), max_length=255, blank=True)
    image = models.URLField(_("image"), max_length=1000, blank=True)
    # The supplier, as far as the buyer-side detail tells (docs/protocol.md).
    supplier_open_id = models.CharField(_("supplier open id"), max_length=64, blank=True)
    supplier_member_id = models.CharField(_("supplier member id"), max_length=64, blank=True)
    supplier_login_id = models.CharField(_("supplier login id"), max_length=128, blank=True)
    supplier_company = models.CharField(_("supplier company"), max_length=255, blank=True)
    supplier_trade_level = models.CharField(_("trade medal level"), max_length=20, blank=True)
    supplier_score = models.DecimalField(
        _("service score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    # {"price_ranges": [...], "amount_on_sale": n, "skus": {"<skuId>": {price, price_ranges,
    # stock, label}}, "status", "min_order_quantity", "unit"}: the same shapes as Product/Sku.
    snapshot = JSONField(_("snapshot"), default=dict, blank=True)
    raw = JSONField(_("raw payload"), default=dict, blank=True)
    active = models.BooleanField(_("watching"), default=True)
    followed = models.BooleanField(_("followed on 1688"), default=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)
    last_read_at = models.DateTimeField(_("last read"), null=True, blank=True)
    last_read_channel = models.CharField(
        _("last read through"), max_length=12, choices=Channel.choices, blank=True
    )
    last_changed_at = models.DateTimeField(_("last changed"), null=True, blank=True)
    last_change_channel = models.CharField(
        _("last change seen through"), max_length=12, choices=Channel.choices, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    objects = WatchedOfferQuerySet.as_manager()

    class Meta:
        verbose_name = _("watched offer")
        verbose_name_plural = _("watched offers")
        ordering = ["-added_at", "-id"]
        permissions = [("watch_offer", _("Can watch suppliers' offers"))]
        indexes = [
            models.Index(fields=["active", "last_read_at"], name="watched_due"),
            models.Index(fields=["supplier_open_id"], name="watched_supplier"),
        ]

    def __str__(self):
        return f"{self.subject or self.offer_id} [{self.offer_id}]"

    @property
    def supplier_label(self) -> str:
        return (
            self.supplier_company
            or self.supplier_login_id
            or self.supplier_member_id
            or self.supplier_open_id
        )

    @property
    def min_price(self) -> Decimal | None:
        prices = [
            Decimal(t["price"])
            for t in self.snapshot.get("price_ranges", [])
            if t.get("price") is not None
        ]
        prices += [
            Decimal(s["price"])
            for s in self.snapshot.get("skus", {}).values()
            if s.get("price") is not None
        ]
        return min(prices) if prices else None

    @property
    def stock(self) -> int | None:
        return self.snapshot.get("amount_on_sale")


class PushMessage(models.Model):
    """One 1688 push message as received (HTTP, WebSocket or replay), once per msgId."""

    msg_id = models.BigIntegerField(_("message id"), unique=True)
    topic = models.CharField(_("topic"), max_length=100, blank=True)
    user_info = models.CharField(_("member"), max_length=100, blank=True)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    born_at = models.DateTimeField(_("sent by 1688"), null=True, blank=True)
    raw = JSONField(_("raw message"), default=dict)
    offer_ids = JSONField(_("offer ids"), default=list, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("push message")
        verbose_name_plural = _("push messages")
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.topic} {self.msg_id}"


# --- Alerts: rules staff set, and the alerts they raise (catalog/alerts/services.py) ----------


class AlertRule(models.Model):
    """What one staff member wants to hear about. `threshold` is the rule's number: a percent
    (price change), a stock level (stock below) or days (authorisation expiring)."""

    class Kind(models.TextChoices):
        PRICE_CHANGE = "price_change", _("Price changes by at least N %")
        STOCK_BELOW = "stock_below", _("Stock falls below N")
        DELISTED = "delisted", _("Offer delisted or gone")
        SKU_GONE = "sku_gone", _("SKU gone")
        SYNC_FAILING = "sync_failing", _("Sync failing")
        AUTH_EXPIRING = "auth_expiring", _("Authorisation expires within N days")

    class Scope(models.TextChoices):
        OWN = "own", _("My shops' offers")
        WATCHED = "watched", _("Watched suppliers' offers")
        ALL = "all", _("My shops' and watched offers")

    # Kinds about one shop as a whole (no product scope); the others are per product.
    SHOP_KINDS = (Kind.SYNC_FAILING, Kind.AUTH_EXPIRING)
    # Kinds a watched supplier's change rows also feed (the `scope` says whose offers).
    WATCHABLE_KINDS = (Kind.PRICE_CHANGE, Kind.STOCK_BELOW)
    NEEDS_THRESHOLD = (Kind.PRICE_CHANGE, Kind.STOCK_BELOW, Kind.AUTH_EXPIRING)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alert_rules",
        verbose_name=_("owner"),
    )
    kind = models.CharField(_("when"), max_length=20, choices=Kind.choices)
    threshold = models.DecimalField(
        _("N"), max_digits=14, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("shop"), help_text=_("Empty: every shop."),
    )  # fmt: skip
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("product"), help_text=_("Empty: every product."),
    )  # fmt: skip
    # Whose offers a price/stock rule watches; a shop or product narrows only own offers.
    scope = models.CharField(_("offers"), max_length=8, choices=Scope.choices, default=Scope.OWN)
    email = models.BooleanField(_("also by email"), default=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["owner", "kind", "id"]
        indexes = [models.Index(fields=["kind", "active"], name="alertrule_kind_active")]

    def __str__(self):
        return f"{self.owner} {self.kind} {self.threshold}"


class Alert(models.Model):
    """One alert of a rule: ONE per rule and state (`state_key`, e.g. "stock_below:12:345")
    while the state lasts (`resolved_at` empty), so a stock that stays low is one alert, not
    one per sync; when the state ends the alert is resolved and a later dip is a new one."""

    rule = models.ForeignKey(
        AlertRule, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("rule")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alerts",
        verbose_name=_("owner"),
    )  # the rule's owner, kept here so the inbox and its unread count read one index
    shop = models.ForeignKey(
        Shop,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shop"),
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    watched_offer = models.ForeignKey(
        WatchedOffer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("watched offer"),
    )  # an alert about a watched supplier's offer (rule scope "watched" or "all")
    state_key = models.CharField(_("state key"), max_length=200)
    # The message's values (catalog/alerts/services.py `message` renders them in the reader's
    # language).
    params = JSONField(_("params"), default=dict, blank=True)
    created_at = models.DateTimeField(_("raised"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "state_key"],
                condition=Q(resolved_at__isnull=True),
                name="alert_open_once_per_state",
            )
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="alert_inbox"),
            models.Index(fields=["owner", "read_at"], name="alert_unread"),
        ]

    def __str__(self):
        return f"{self.rule_id} {self.state_key}"

    @property
    def kind(self) -> str:
        return self.params.get("kind", "")


# Live offer edits live in their own module; imported here so Django registers them.
# Offers left out of the mirror because their answer is outside 1688's domain.
from catalog.models.data_problems import OfferDataProblem  # noqa: E402, F401
from catalog.models.live_edits import LiveEdit, LiveEditLine  # noqa: E402, F401

# Publishing: category/schema caches, photobank pictures, shop publishing settings.
from catalog.models.publishing import (  # noqa: E402, F401
    AttributeSchemaCache,
    CategoryNode,
    PhotobankPicture,
    ShopPublishing,
)
from catalog.models.sync_history import SyncRunDay  # noqa: E402, F401
