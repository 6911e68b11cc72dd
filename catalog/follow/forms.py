"""Forms of the follow pages: link an own offer by pasting a supplier link, map its SKUs to the
supplier's, and edit a follow rule (the same form feeds the dry run, unsaved)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import FollowRule

NOT_MAPPED = ""


class LinkForm(forms.Form):
    ref = forms.CharField(
        label=_("Supplier offer link or id"),
        max_length=2000,
        widget=forms.TextInput(
            attrs={"placeholder": "https://detail.1688.com/offer/…", "size": 40}
        ),
    )


class SkuMappingForm(forms.Form):
    """One choice per own SKU (`sku_<pk>`): a supplier SKU, or not mapped. A SKU already
    mapped starts at its supplier SKU; one not mapped yet at the suggestion, if any."""

    def __init__(
        self,
        *args,
        skus=(),
        supplier_skus=(),
        mapped=None,
        suggested=None,
        disabled=False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        mapped, suggested = mapped or {}, suggested or {}
        choices = [(NOT_MAPPED, _("— not mapped —"))]
        choices += [(str(s.sku_id), s.label or str(s.sku_id)) for s in supplier_skus]
        known = {str(s.sku_id) for s in supplier_skus}
        self.suggested = set()
        for sku in skus:
            current = mapped.get(sku.pk)
            own_choices = list(choices)
            if current is not None and str(current) not in known:  # the supplier dropped it
                own_choices.append((str(current), str(current)))
            if current is None and sku.pk in suggested:
                current = suggested[sku.pk].sku_id
                self.suggested.add(sku.pk)
            self.fields[f"sku_{sku.pk}"] = forms.ChoiceField(
                label=str(sku),
                choices=own_choices,
                required=False,
                initial=NOT_MAPPED if current is None else str(current),
                disabled=disabled,  # read only for whoever may not map
            )

    def mapping(self) -> dict[int, str | None]:
        """{own Sku pk: supplier SKU id, or None to unmap}, as services.map_skus takes it."""
        return {
            int(name.removeprefix("sku_")): (value or None)
            for name, value in self.cleaned_data.items()
        }

    def rows(self, skus):
        """(own SKU, its bound field, suggested?) for the template."""
        return [(sku, self[f"sku_{sku.pk}"], sku.pk in self.suggested) for sku in skus]


class RuleForm(forms.ModelForm):
    """A shop's (or an offer's) follow rule. Saved through catalog/follow/rules.py `set_rule`;
    valid, its instance is the rule as typed (unsaved), which the dry run takes."""

    class Meta:
        model = FollowRule
        # As staff think of a rule: whether, the price, its guards, then stock and listing.
        fields = [
            "active",
            "follow_price",
            "margin_percent",
            "fixed_add",
            "round_to",
            "tiers",
            "floor",
            "ceiling",
            "min_margin_percent",
            "approval_percent",
            "max_changes_per_day",
            "follow_stock",
            "stock_buffer",
            "stock_cap",
            "sold_out",
            "gone",
            "relist",
        ]
        labels = {
            "active": _("Follow the supplier"),
            "follow_price": _("Follow prices"),
            "follow_stock": _("Follow stock"),
            "margin_percent": _("Margin over the supplier's price (%)"),
            "fixed_add": _("Then add (¥)"),
            "round_to": _("Round to"),
            "floor": _("Never below (¥)"),
            "ceiling": _("Never above (¥)"),
            "tiers": _("Quantity tiers"),
            "stock_buffer": _("Keep back from the supplier's stock"),
            "stock_cap": _("Show at most this stock"),
            "sold_out": _("When a supplier SKU is sold out"),
            "gone": _("When the supplier offer is delisted or gone"),
            "relist": _("Relist when the supplier is back on sale"),
            "approval_percent": _("Ask for approval when a price moves more than (%)"),
            "min_margin_percent": _("Never below cost plus (%)"),
            "max_changes_per_day": _("Automatic changes per offer a day, at most"),
        }
        help_texts = {
            "margin_percent": _("Price = supplier price × (1 + margin) + the amount added."),
            "stock_cap": _("Empty: no cap."),
            "floor": _("Empty: no lowest price."),
            "ceiling": _("Empty: no highest price."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("margin_percent", "approval_percent", "min_margin_percent"):
            self.fields[name].widget.attrs["step"] = "0.01"
        self.fields["margin_percent"].min_value = Decimal("-99")

    def clean(self):
        data = super().clean()
        floor, ceiling = data.get("floor"), data.get("ceiling")
        if floor is not None and ceiling is not None and floor > ceiling:
            self.add_error("ceiling", _("The highest price is below the lowest price."))
        for name in ("floor", "ceiling"):
            if data.get(name) is not None and data[name] <= 0:
                self.add_error(name, _("Prices must be greater than 0."))
        return data

    def values(self) -> dict:
        """The typed values, as rules.set_rule takes them."""
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}
