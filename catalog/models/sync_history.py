"""What is kept of sync runs past their retention (sync/retention.py): one row a shop a day,
the day's runs added up, so a year of history costs 365 rows a shop instead of ~17,000 runs."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models.shops import Shop

# The SyncRun counters a day's summary adds up (each a column of both models).
SUMMED = (
    "pages", "requests_made", "offers_seen", "offers_created", "offers_updated",
    "offers_delisted", "details_fetched", "changes_written",
)  # fmt: skip


class SyncRunDay(models.Model):
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="sync_days", verbose_name=_("shop")
    )
    day = models.DateField(_("day"))
    runs = models.PositiveIntegerField(_("runs"), default=0)
    succeeded = models.PositiveIntegerField(_("succeeded"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    pages = models.BigIntegerField(_("pages"), default=0)
    requests_made = models.BigIntegerField(_("requests made"), default=0)
    offers_seen = models.BigIntegerField(_("offers seen"), default=0)
    offers_created = models.BigIntegerField(_("offers created"), default=0)
    offers_updated = models.BigIntegerField(_("offers updated"), default=0)
    offers_delisted = models.BigIntegerField(_("offers delisted"), default=0)
    details_fetched = models.BigIntegerField(_("details fetched"), default=0)
    changes_written = models.BigIntegerField(_("changes written"), default=0)

    class Meta:
        verbose_name = _("sync day summary")
        verbose_name_plural = _("sync day summaries")
        ordering = ["-day", "shop"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "day"], name="sync_run_day_once_per_shop")
        ]

    def __str__(self):
        return f"{self.shop} {self.day}"
