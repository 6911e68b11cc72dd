"""Changes staff make to live 1688 offers: one LiveEdit operation (a price change, a stock
change, a delist or a relist of one offer or a selection) and its lines, one per SKU, tier or
offer, each with the value before and after, what the job found and did.

A draft is a preview: nothing is sent until it is applied. The job re-reads every offer first;
a line whose value changed on 1688 since the last sync is a conflict and is left alone. An
undo is itself an operation (`undo_of`) whose lines put the previous values back.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models.fields import JSONField
from catalog.models.shops import Product, Sku


class LiveEdit(models.Model):
    class Kind(models.TextChoices):
        PRICE = "price", _("Price change")
        STOCK = "stock", _("Stock change")
        DELIST = "delist", _("Delist")
        RELIST = "relist", _("Relist")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Preview (not sent)")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        # The job ended with lines sent but not confirmed: the minute job reads them again.
        CONFIRMING = "confirming", _("Waiting for 1688 to confirm")
        DONE = "done", _("Done")
        PARTLY_DONE = "partly_done", _("Done with lines not applied")
        FAILED = "failed", _("Failed")
        DISCARDED = "discarded", _("Discarded")
        # A follow rule's draft outside its guards: an operator approves (it is applied) or
        # rejects (discarded) it.
        AWAITING = "awaiting", _("Awaiting approval")

    class Origin(models.TextChoices):
        STAFF = "staff", _("Staff")
        FOLLOW = "follow", _("Follow rule")

    class Hold(models.TextChoices):
        NONE = "", _("Not held")
        APPROVAL = "approval", _("Supplier move above the approval share")
        MARGIN = "margin", _("Below cost plus the minimum margin")
        LIMIT = "limit", _("Daily limit of automatic changes reached")
        RELISTS = "relists", _("Daily relist limit reached")
        PAUSED = "paused", _("Following paused")
        BLOCKED = "blocked", _("Shop cannot be written to now")

    kind = models.CharField(_("change"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    # The rule as staff gave it (multiply/add/round_to/price, or mode/amount), for display.
    params = models.JSONField(_("rule"), default=dict, blank=True)
    undo_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="undos",
        verbose_name=_("undoes"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("applied by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    # A draft belongs to its author until a manager takes it over (catalog/live_edits/ownership.py).
    taken_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("taken over by"),
    )
    taken_over_at = models.DateTimeField(_("taken over"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    job_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    origin = models.CharField(
        _("made by"), max_length=8, choices=Origin.choices, default=Origin.STAFF
    )
    follow_rule = models.ForeignKey(
        "catalog.FollowRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="live_edits",
        verbose_name=_("follow rule"),
    )
    source_link = models.ForeignKey(
        "catalog.SourceLink",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="live_edits",
        verbose_name=_("source link"),
    )
    # Why a rule made it: a stored message (erp1688/messages.py), "made by rule R because
    # supplier offer S moved a → b", shown in the reader's language.
    reason = JSONField(_("reason"), default=dict, blank=True)
    hold = models.CharField(_("held"), max_length=10, choices=Hold.choices, blank=True)
    hold_reason = JSONField(_("held because"), default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved or rejected by"),
    )
    decided_at = models.DateTimeField(_("approved or rejected"), null=True, blank=True)

    class Meta:
        verbose_name = _("live offer change")
        verbose_name_plural = _("live offer changes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["source_link", "status"], name="liveedit_link_status"),
            models.Index(fields=["origin", "status"], name="liveedit_origin_status"),
        ]
        permissions = [
            ("change_live_offer", _("Can change live 1688 offers (price, stock, delist, relist)")),
            ("take_over_live_edit", _("Can take over another person's live-edit draft")),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.PARTLY_DONE, self.Status.FAILED)

    @property
    def owner_id(self) -> int | None:
        """Whose draft it is: the manager who took it over, else its author."""
        return self.taken_over_by_id or self.created_by_id

    @property
    def owner(self):
        return self.taken_over_by if self.taken_over_by_id else self.created_by


class LiveEditLine(models.Model):
    """One value of one offer: a SKU's price or stock, a tier's price, or the offer's status."""

    class Field(models.TextChoices):
        PRICE = "price", _("SKU price")
        TIER_PRICE = "tier_price", _("Tier price")
        STOCK = "stock", _("Stock")
        STATUS = "status", _("Status")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        # Sent (or maybe sent) without a confirmed outcome: the read-back after the grace
        # period settles it (catalog/live_edits/settle.py).
        UNKNOWN = "unknown", _("Sent, not confirmed yet")
        APPLIED = "applied", _("Applied")
        UNCHANGED = "unchanged", _("Already so on 1688")
        CONFLICT = "conflict", _("Conflict: changed on 1688")
        REFUSED = "refused", _("Refused by 1688")
        FAILED = "failed", _("Failed")

    NOT_SENT = (Status.CONFLICT, Status.REFUSED, Status.FAILED)

    operation = models.ForeignKey(LiveEdit, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="live_edit_lines")
    sku = models.ForeignKey(Sku, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The remote SKU id (0 = the offer itself) and its specId, which modifyStock keys on.
    remote_sku_id = models.BigIntegerField(default=0)
    spec_id = models.CharField(max_length=64, blank=True)
    field = models.CharField(_("field"), max_length=12, choices=Field.choices)
    tier_start_quantity = models.PositiveIntegerField(_("tier from quantity"), null=True)
    label = models.CharField(_("SKU / tier"), max_length=255, blank=True)
    # Values as text: a price ("12.50"), a stock ("40") or a status ("published").
    before = models.CharField(_("before"), max_length=40, blank=True)
    after = models.CharField(_("after"), max_length=40, blank=True)
    found = models.CharField(_("found on 1688"), max_length=40, blank=True)
    status = models.CharField(
        _("result"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    reason = models.TextField(_("reason"), blank=True)
    # When the write was sent: a line planned without it was never sent.
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("live offer change line")
        verbose_name_plural = _("live offer change lines")
        ordering = ["operation", "product", "field", "tier_start_quantity", "remote_sku_id", "id"]
        indexes = [models.Index(fields=["operation", "status"], name="liveline_op_status")]

    def __str__(self):
        return f"{self.product_id} {self.field} {self.label}: {self.before} → {self.after}"

    @property
    def is_numeric(self) -> bool:
        return self.field != self.Field.STATUS

    def value(self, text: str) -> Decimal | str | None:
        if not self.is_numeric:
            return text
        return None if text == "" else Decimal(text)
