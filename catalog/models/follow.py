"""Following suppliers: an own offer linked to the supplier offer it is bought from (and each
own SKU to the supplier's SKU), and the rules that keep the own offer's prices, stock and
listing in step with the supplier's (catalog/follow/). A rule's change is a LiveEdit with
`origin` "follow", made and applied through the live-edit machinery.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models.fields import MONEY
from catalog.models.publishing import UploadItem
from catalog.models.shops import Product, Shop, Sku


class LinkOrigin(models.TextChoices):
    """How a link was made."""

    COPIED = "copied", _("Copied offer, published")
    MANUAL = "manual", _("Linked by hand")
    SUGGESTED = "suggested", _("Suggested, confirmed by hand")


class SourceLink(models.Model):
    """An own offer and the supplier offer it follows (one supplier offer per own offer; a
    supplier offer may feed several own offers, in one shop or several)."""

    product = models.OneToOneField(
        Product, on_delete=models.CASCADE, related_name="source_link", verbose_name=_("own offer")
    )
    supplier_offer_id = models.BigIntegerField(_("supplier offer id"))
    origin = models.CharField(_("made"), max_length=10, choices=LinkOrigin.choices)
    upload_item = models.ForeignKey(
        UploadItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("copied through"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("linked by"),
    )
    created_at = models.DateTimeField(_("linked"), default=timezone.now)
    # The own offer was delisted by a rule (supplier sold out or gone): only then does the
    # supplier's return relist it; an offer staff delisted stays delisted.
    delisted_by_rule = models.BooleanField(_("delisted by a rule"), default=False)
    last_followed_at = models.DateTimeField(_("last followed"), null=True, blank=True)
    # Why the supplier offer could not be watched when the link was made ("" = watched).
    watch_error = models.CharField(_("not watched because"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("source link")
        verbose_name_plural = _("source links")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["supplier_offer_id"], name="sourcelink_supplier")]

    def __str__(self):
        return f"{self.product_id} ← {self.supplier_offer_id}"


class SkuLink(models.Model):
    """An own SKU and the supplier SKU it follows (skuId, and the specId 1688 keys stock on)."""

    link = models.ForeignKey(
        SourceLink, on_delete=models.CASCADE, related_name="sku_links", verbose_name=_("link")
    )
    sku = models.OneToOneField(
        Sku, on_delete=models.CASCADE, related_name="source_sku", verbose_name=_("own SKU")
    )
    supplier_sku_id = models.BigIntegerField(_("supplier SKU id"))
    supplier_spec_id = models.CharField(_("supplier spec id"), max_length=64, blank=True)
    origin = models.CharField(_("made"), max_length=10, choices=LinkOrigin.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("mapped by"),
    )
    created_at = models.DateTimeField(_("mapped"), default=timezone.now)

    class Meta:
        verbose_name = _("SKU link")
        verbose_name_plural = _("SKU links")
        ordering = ["link", "sku"]

    def __str__(self):
        return f"{self.sku_id} ← {self.supplier_sku_id}"


class FollowRule(models.Model):
    """How a shop's own offers follow their suppliers; with `product` set, one offer's own rule
    instead of its shop's (a whole rule, not a patch over the shop's)."""

    class Tiers(models.TextChoices):
        FOLLOW = "follow", _("Follow the supplier's tiers")
        KEEP = "keep", _("Keep own tiers, priced from the supplier's")

    class SoldOut(models.TextChoices):
        ZERO = "zero", _("Set the stock to 0")
        DELIST = "delist", _("Delist")

    ROUNDING = (("", _("No rounding")), ("0.1", "0.1"), ("1", "1"))

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="follow_rules", verbose_name=_("shop")
    )
    product = models.OneToOneField(
        Product,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="follow_rule",
        verbose_name=_("only for offer"),
    )
    active = models.BooleanField(_("following"), default=True)
    # A pause of the shop's rule pauses the whole shop; of an offer's rule, that offer.
    paused = models.BooleanField(_("paused"), default=False)
    follow_price = models.BooleanField(_("follow prices"), default=True)
    follow_stock = models.BooleanField(_("follow stock"), default=True)
    margin_percent = models.DecimalField(
        _("margin %"),
        max_digits=7,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("-99"))],
    )
    fixed_add = models.DecimalField(_("add"), default=Decimal("0"), **MONEY)
    round_to = models.CharField(_("round to"), max_length=4, choices=ROUNDING, blank=True)
    floor = models.DecimalField(_("lowest price"), null=True, blank=True, **MONEY)
    ceiling = models.DecimalField(_("highest price"), null=True, blank=True, **MONEY)
    tiers = models.CharField(_("tiers"), max_length=8, choices=Tiers.choices, default=Tiers.FOLLOW)
    stock_buffer = models.PositiveIntegerField(_("stock buffer"), default=0)
    stock_cap = models.PositiveIntegerField(_("stock cap"), null=True, blank=True)
    sold_out = models.CharField(
        _("supplier SKU sold out"), max_length=8, choices=SoldOut.choices, default=SoldOut.ZERO
    )
    gone = models.CharField(
        _("supplier offer delisted or gone"),
        max_length=8,
        choices=SoldOut.choices,
        default=SoldOut.DELIST,
    )
    relist = models.BooleanField(_("relist when back on sale"), default=True)
    approval_percent = models.DecimalField(
        _("approval above a move of %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("30"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000"))],
    )
    min_margin_percent = models.DecimalField(
        _("minimum margin over cost %"),
        max_digits=7,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    max_changes_per_day = models.PositiveIntegerField(
        _("automatic changes per offer a day"), default=10
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("follow rule")
        verbose_name_plural = _("follow rules")
        ordering = ["shop", "product", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop"], condition=Q(product__isnull=True), name="followrule_one_per_shop"
            ),
        ]
        permissions = [
            ("approve_follow_change", _("Can approve or reject a change a follow rule made")),
        ]

    def __str__(self):
        if self.product_id:
            return str(_("Follow rule of offer %(offer)s")) % {"offer": self.product_id}
        return str(_("Follow rule of %(shop)s")) % {"shop": self.shop}
