"""List filters of the staff workspace (django-filter): products and the change log.

Every number has bounds, so odd input is a form error on the page, never a database error.
"""

from datetime import date, datetime, time

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.mirror import change_log, selectors
from catalog.models import ChangeSource, PriceStockChange, Product, Shop, WatchedOffer

BIG_ID = 10**18  # offer and SKU ids are 64-bit integers
BIG_AMOUNT = 10**12


def shop_choices() -> list[tuple[int, str]]:
    # A plain list: a model choice field would read the shops through a server-side cursor on
    # PostgreSQL (three round trips) on every page.
    return list(Shop.objects.order_by("name").values_list("pk", "name"))


def _number(label, *, decimals=False, maximum=BIG_AMOUNT, minimum=0, method=None, **kwargs):
    extra = {"max_digits": 14, "decimal_places": 2} if decimals else {}
    return django_filters.NumberFilter(
        label=label,
        method=method,
        min_value=minimum,
        max_value=maximum,
        widget=forms.NumberInput(attrs={"step": "0.01" if decimals else "1"}),
        **extra,
        **kwargs,
    )


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Title, offer id, cargo number")}),
    )
    shop = django_filters.ChoiceFilter(
        label=_("Shop"), field_name="shop", choices=shop_choices, empty_label=_("All shops")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=selectors.status_choices,
        method="filter_status",
        empty_label=_("All statuses"),
    )
    category = django_filters.CharFilter(
        label=_("Category"), method="filter_category", max_length=100
    )
    price_min = _number(_("Price from"), decimals=True, method="filter_price")
    price_max = _number(_("Price to"), decimals=True, method="filter_price")
    stock_below = _number(_("Stock below"), field_name="amount_on_sale", lookup_expr="lt")
    changed_days = _number(
        _("Changed in the last N days"), minimum=1, maximum=3650, method="filter_changed"
    )

    class Meta:
        model = Product
        fields = []

    def filter_search(self, queryset, name, value):
        return selectors.search_products(queryset, value)

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value)

    def filter_category(self, queryset, name, value):
        return selectors.filter_category(queryset, value) if value.strip() else queryset

    def filter_price(self, queryset, name, value):
        # Both bounds are applied once, by whichever of the two filters runs first.
        if getattr(self, "_price_done", False):
            return queryset
        self._price_done = True
        data = self.form.cleaned_data
        return selectors.filter_price(queryset, data.get("price_min"), data.get("price_max"))

    def filter_changed(self, queryset, name, value):
        return selectors.filter_changed_within(queryset, int(value))


class DateInput(forms.DateInput):
    input_type = "date"


def _date(label):
    return django_filters.DateFilter(
        label=label,
        method="filter_dates",
        widget=DateInput(),
        validators=[MinValueValidator(date(2000, 1, 1)), MaxValueValidator(date(2200, 1, 1))],
    )


class ChangeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Title, offer id, cargo number")}),
    )
    shop = django_filters.ChoiceFilter(
        label=_("Shop"), field_name="shop", choices=shop_choices, empty_label=_("All shops")
    )
    product = _number(_("Offer id"), maximum=BIG_ID, minimum=1, method="filter_offer")
    sku = _number(_("SKU id"), maximum=BIG_ID, minimum=1, field_name="remote_sku_id")
    field = django_filters.ChoiceFilter(
        label=_("Field"), choices=PriceStockChange.Field.choices, empty_label=_("Price and stock")
    )
    source = django_filters.ChoiceFilter(
        label=_("Source"), choices=ChangeSource.choices, empty_label=_("Any source")
    )
    direction = django_filters.ChoiceFilter(
        label=_("Direction"),
        choices=[("up", _("Up")), ("down", _("Down"))],
        empty_label=_("Up or down"),
        method="filter_size",
    )
    percent = _number(_("By at least (%)"), decimals=True, maximum=10**6, method="filter_size")
    stock_below = _number(_("Stock ending below"), method="filter_size")
    date_from = _date(_("From"))
    date_to = _date(_("To"))

    class Meta:
        model = PriceStockChange
        fields = []

    def filter_search(self, queryset, name, value):
        return change_log.search_changes(queryset, value)

    def filter_offer(self, queryset, name, value):
        """An own offer or a watched supplier's offer (catalog/watch/services.py) with this id.

        The ids are looked up first: as a join in the log's query (an OR over two joins),
        SQLite walks the whole log newest first to find the offer's rows (2 s at 1M rows).
        """
        products = list(Product.objects.filter(offer_id=value).values_list("pk", flat=True))
        watched = list(WatchedOffer.objects.filter(offer_id=value).values_list("pk", flat=True))
        if products and watched:
            return queryset.filter(Q(product_id__in=products) | Q(watched_offer_id__in=watched))
        if products:
            return queryset.filter(product_id__in=products)
        return queryset.filter(watched_offer_id__in=watched)

    def filter_size(self, queryset, name, value):
        if getattr(self, "_size_done", False):
            return queryset
        self._size_done = True
        data = self.form.cleaned_data
        return selectors.changes_by_size(
            queryset,
            direction=data.get("direction") or "",
            percent=data.get("percent"),
            stock_below=data.get("stock_below"),
        )

    def filter_dates(self, queryset, name, value):
        if getattr(self, "_dates_done", False):
            return queryset
        self._dates_done = True
        data = self.form.cleaned_data
        zone = timezone.get_current_timezone()
        condition = Q()
        if data.get("date_from"):
            start = datetime.combine(data["date_from"], time.min, tzinfo=zone)
            condition &= Q(observed_at__gte=start)
        if data.get("date_to"):
            end = datetime.combine(data["date_to"], time.max, tzinfo=zone)
            condition &= Q(observed_at__lte=end)
        return queryset.filter(condition)
