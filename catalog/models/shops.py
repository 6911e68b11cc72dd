"""The mirror's subjects: the 1688 shops connected to this ERP, their offers (products) and the
offers' SKUs, as last read from the platform."""

from datetime import timedelta
from decimal import Decimal

from django.db import models
from django.db.models import Count, Min, OuterRef, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models.fields import MONEY, EncryptedTextField, JSONField


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


class ProductQuerySet(models.QuerySet):
    def listed(self):
        """Offers 1688 still lists."""
        return self.filter(delisted_at__isnull=True)

    def gone(self):
        """Offers 1688 no longer lists (the sync set `delisted_at`)."""
        return self.filter(delisted_at__isnull=False)

    def with_status(self, status: str):
        """The one status filter of the staff list and the admin: a 1688 status among the
        offers still listed, or `Product.GONE` for those no longer listed."""
        if status == Product.GONE:
            return self.gone()
        return self.listed().filter(status=status)

    def refresh_sort_figures(self) -> int:
        """Store the lowest price and the SKU count of these products, for the list's price
        and SKU-count sorts (Product.sort_price, sort_sku_count): one UPDATE, called by every
        writer of SKUs or tiers (the sync, a live edit's record) after it wrote them."""
        return self.update(sort_price=lowest_price(), sort_sku_count=Coalesce(sku_count(), 0))


MONEY_FIELD = models.DecimalField(**MONEY)


def _tier_price(index: int):
    return Cast(KT(f"price_ranges__{index}__price"), MONEY_FIELD)


def _skus():
    return Sku.objects.filter(product=OuterRef("pk")).order_by().values("product")


def lowest_price():
    """The offer's lowest price as the list shows it: 1688 allows at most three quantity tiers,
    their prices fall as the quantity grows, so the last tier present is the lowest; offers
    priced per SKU (no tiers) take their SKUs' lowest price."""
    cheapest_sku = Subquery(_skus().annotate(low=Min("price")).values("low")[:1])
    return Coalesce(
        _tier_price(2), _tier_price(1), _tier_price(0), cheapest_sku, output_field=MONEY_FIELD
    )


def sku_count():
    return Subquery(_skus().annotate(n=Count("*")).values("n")[:1])


class Product(models.Model):
    """One 1688 offer of a shop, as last read from the platform."""

    # Not a 1688 status: the status filters' choice for offers no longer listed.
    GONE = "gone"

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
    # What the list's price and SKU-count sorts read through their indexes, kept by
    # ProductQuerySet.refresh_sort_figures (the shown figures are computed per row).
    sort_price = models.DecimalField(_("lowest price"), null=True, blank=True, **MONEY)
    sort_sku_count = models.PositiveIntegerField(_("SKU count"), default=0)

    objects = ProductQuerySet.as_manager()

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
            models.Index(fields=["sort_price", "id"], name="product_price_id"),
            models.Index(fields=["sort_sku_count", "id"], name="product_skus_id"),
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
