"""What the sync records about the mirror: its runs, and the price/stock change log (seen on
1688, made by this ERP, or moved at a watched supplier)."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models.fields import MONEY
from catalog.models.shops import Product, Shop, Sku


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        INCREMENTAL = "incremental", _("Incremental")
        FULL = "full", _("Full resync")
        FIRST = "first", _("First sync")  # an incremental run of a shop never synced before

    class ErrorKind(models.TextChoices):  # why a run failed, for staff (catalog/alerts/failures.py)
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
    # The shop's mirrored offers when the run ended: what the dashboard shows, so no page view
    # counts a whole catalog.
    offers_mirrored = models.PositiveIntegerField(_("offers in the mirror"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    error_kind = models.CharField(
        _("error kind"), max_length=10, choices=ErrorKind.choices, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    # Queued or running: the shop's sync is under way (one at a time per shop).
    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

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
            # (catalog/mirror/views/changelog.py).
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

    @property
    def percent(self) -> Decimal | None:
        """The move as a share of the old value, in percent (None from 0 or unknown)."""
        if self.before is None or self.after is None or not self.before:
            return None
        share = (Decimal(self.after) - Decimal(self.before)) * 100 / Decimal(self.before)
        return share.quantize(Decimal("0.1"))

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
