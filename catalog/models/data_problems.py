"""Offers whose latest 1688 answer holds values 1688 cannot mean (a negative price, a stock of
99,999,999,999,999): left out of the mirror by the sync and listed on the shop page until a
later answer is sane (sync/answer_domain.py)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models.fields import JSONField
from catalog.models.shops import Shop


class OfferDataProblem(models.Model):
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="data_problems", verbose_name=_("shop")
    )
    offer_id = models.BigIntegerField(_("offer id"))
    subject = models.CharField(_("title"), max_length=255, blank=True)
    # Stored messages (erp1688/messages.py), shown in the reader's language.
    reasons = JSONField(_("reasons"), default=list, blank=True)
    remote_modified_at = models.DateTimeField(_("modified on 1688"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        verbose_name = _("offer data problem")
        verbose_name_plural = _("offer data problems")
        ordering = ["shop", "-last_seen_at", "offer_id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "offer_id"], name="data_problem_once_per_offer")
        ]

    def __str__(self):
        return f"{self.shop_id} {self.offer_id}"
