"""Staff page: a supplier's whole store on 1688 — its offers page by page, searched within,
sorted, each to watch or to stage into a draft batch (the watchlist's and sourcing's own
buttons, catalog/sourcing/views/search.py).

Reached from a watched offer (`?seller=<sellerOpenId>`) or from any search result
(`?offer=<offer id>`: its seller is looked up once, then the page redirects to `?seller=`).
When 1688 declines the cross-border sourcing permission the page says so.
"""

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

from catalog.common.offer_refs import OFFER_ID_MAX
from catalog.sourcing import services as sourcing
from catalog.sourcing.views.search import PAGE_MAX, _results_context, shop_field
from catalog.watch import supplier_store as store_service
from erp1688.refusals import Refused, show_refusal

PAGE_SIZE = 20


class StoreForm(forms.Form):
    seller = forms.RegexField(regex=r"^[A-Za-z0-9_-]{1,64}$", required=False)
    offer = forms.IntegerField(required=False, min_value=1, max_value=OFFER_ID_MAX)
    name = forms.CharField(required=False, max_length=200)
    shop = shop_field()
    keyword = forms.CharField(
        label=gettext_lazy("Search this store"), required=False, max_length=200
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort"),
        required=False,
        choices=[
            ("", gettext_lazy("Newest first")),
            ("price:asc", gettext_lazy("Price, low to high")),
            ("price:desc", gettext_lazy("Price, high to low")),
            ("monthSold:desc", gettext_lazy("Sales")),
        ],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=PAGE_MAX)


@staff_member_required
@permission_required(sourcing.SEARCH_PERMISSION, raise_exception=True)
def supplier_store(request):
    form = StoreForm(request.GET)
    results, data = None, {}
    if form.is_valid():
        data = form.cleaned_data
        shop = data.get("shop")
        if data.get("offer") and not data.get("seller"):
            try:
                found = store_service.supplier_of_offer(
                    user=request.user, offer_id=data["offer"], shop=shop
                )
            except Refused as refused:
                show_refusal(request, refused)
            else:
                query = {"seller": found.open_id, "name": found.name}
                if shop:
                    query["shop"] = shop.pk
                return redirect(f"{reverse('catalog:supplier_store')}?{urlencode(query)}")
        elif data.get("seller"):
            try:
                results = store_service.browse_store(
                    user=request.user,
                    seller_open_id=data["seller"],
                    keyword=data.get("keyword") or "",
                    sort=data.get("sort") or "",
                    page=data.get("page") or 1,
                    page_size=PAGE_SIZE,
                    shop=shop,
                )
            except Refused as refused:
                show_refusal(request, refused)
    context = _results_context(
        request,
        results,
        form=form,
        seller=data.get("seller") or "",
        seller_name=data.get("name") or "",
        mode="store",
    )
    return render(request, "watch/supplier_store.html", context)
