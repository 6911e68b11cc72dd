"""Alerts: the rules staff set, and the alerts they raise (catalog/alerts/rules.py, engine.py)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models.fields import JSONField
from catalog.models.shops import Product, Shop
from catalog.models.watch import WatchedOffer


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
    # Email its alerts once a day, together (catalog/alerts/emails.py send_digests), instead of
    # one mail per alert as it is raised.
    digest = models.BooleanField(_("as a daily digest"), default=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["owner", "kind", "id"]
        indexes = [models.Index(fields=["kind", "active"], name="alertrule_kind_active")]

    def __str__(self):
        return f"{self.owner} {self.kind} {self.threshold}"


class AlertGroup(models.Model):
    """The alerts of one rule about one offer (or one shop) within one local day: the inbox
    shows the group as one row, to expand to its alerts, so a rule that fires fifty times for
    one offer in a day is one line to read (catalog/alerts/filing.py files each new alert into
    its group)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alert_groups",
        verbose_name=_("owner"),
    )
    rule = models.ForeignKey(
        AlertRule, on_delete=models.CASCADE, related_name="groups", verbose_name=_("rule")
    )
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("shop"),
    )  # fmt: skip
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("product"),
    )  # fmt: skip
    watched_offer = models.ForeignKey(
        WatchedOffer, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("watched offer"),
    )  # fmt: skip
    # What the alerts are about: "p<product>", "w<watched offer>", "s<shop>" (snoozes use it).
    subject_key = models.CharField(_("subject"), max_length=40)
    window_start = models.DateTimeField(_("window start"))
    first_at = models.DateTimeField(_("first alert"))
    last_at = models.DateTimeField(_("last alert"))
    alert_count = models.PositiveIntegerField(_("alerts"), default=0)
    # Empty while one of its alerts is unread.
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert group")
        verbose_name_plural = _("alert groups")
        ordering = ["-last_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject_key", "window_start"], name="alertgroup_once_per_window"
            )
        ]
        indexes = [
            models.Index(fields=["owner", "-last_at", "-id"], name="alertgroup_inbox"),
            models.Index(fields=["owner", "read_at", "-last_at"], name="alertgroup_unread"),
        ]

    def __str__(self):
        return f"{self.rule_id} {self.subject_key} {self.window_start:%Y-%m-%d %H:%M}"


class AlertSnooze(models.Model):
    """A rule kept quiet until `until`: all of it (`subject_key` empty) or its alerts about one
    offer or shop. Alerts raised meanwhile are recorded already read and are not emailed."""

    rule = models.ForeignKey(
        AlertRule, on_delete=models.CASCADE, related_name="snoozes", verbose_name=_("rule")
    )
    subject_key = models.CharField(_("subject"), max_length=40, blank=True)
    until = models.DateTimeField(_("snoozed until"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("alert snooze")
        verbose_name_plural = _("alert snoozes")
        constraints = [
            models.UniqueConstraint(fields=["rule", "subject_key"], name="alertsnooze_once")
        ]

    def __str__(self):
        return f"{self.rule_id} {self.subject_key or '*'} {self.until:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """One alert of a rule: ONE per rule and state (`state_key`, e.g. "stock_below:12:345")
    while the state lasts (`resolved_at` empty), so a stock that stays low is one alert, not
    one per sync; when the state ends the alert is resolved and a later dip is a new one."""

    class Mail(models.TextChoices):
        NONE = "", _("No email")
        NOW = "now", _("At once")
        DIGEST = "digest", _("Daily digest")

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
    # The message's values (catalog/alerts/rendering.py `message` renders them in the reader's
    # language).
    params = JSONField(_("params"), default=dict, blank=True)
    created_at = models.DateTimeField(_("raised"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    group = models.ForeignKey(
        AlertGroup, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts",
        verbose_name=_("group"),
    )  # fmt: skip
    # How it is emailed, fixed when it is raised: a later change of the rule is not retroactive.
    mail = models.CharField(_("email"), max_length=8, choices=Mail.choices, blank=True)
    snoozed = models.BooleanField(_("raised while snoozed"), default=False)

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
            # The digest's due alerts (catalog/alerts/emails.py send_digests).
            models.Index(
                fields=["created_at"],
                condition=Q(mail="digest", emailed_at__isnull=True),
                name="alert_digest_due",
            ),
        ]

    def __str__(self):
        return f"{self.rule_id} {self.state_key}"

    @property
    def kind(self) -> str:
        return self.params.get("kind", "")
