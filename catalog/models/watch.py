"""Watching suppliers: offers of other sellers, read from the buyer side, and the 1688 push
messages that announce their moves."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models.fields import JSONField


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
