"""Staff pages to source on 1688: keyword search with the buyers' filters, image search by a
picture's address or an uploaded picture, and "stage into batch" for any result.

Searching needs a connected shop's authorisation: staff pick the shop (the first active shop by
default). The category filter takes a category by its path or name from the shop's cached
category tree (catalog/publishing/categories.py; catalog/common/category_names.py), or by its id.

Each view parses its input with a form, reads through catalog/sourcing/selectors.py, calls one
service of catalog/sourcing/services.py and renders. A business refusal is shown on the page; a
`PermissionRefused` goes on to the styled 403 page.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from catalog.common.category_names import UNKNOWN as UNKNOWN_CATEGORY
from catalog.common.category_names import category_from_text, category_label, leaf_paths
from catalog.common.offer_refs import OFFER_ID_MAX
from catalog.models import Shop
from catalog.publishing.selectors import draft_batches
from catalog.sourcing import selectors
from catalog.sourcing import services as sourcing
from erp1688.refusals import Refused, show_refusal
from erp1688.staff_access import staff_member_required

SEARCH = sourcing.SEARCH_PERMISSION
PAGE_SIZE = 20
PAGE_MAX = 100  # deep pages say little; the platform pages only so far
OFFER_URL = "https://detail.1688.com/offer/{}.html"


def shop_field() -> forms.ModelChoiceField:
    """The shop whose authorisation searches (default: the first active shop)."""
    return forms.ModelChoiceField(
        label=gettext_lazy("Search as shop"),
        queryset=selectors.search_shops(),
        required=False,
        empty_label=None,
    )


# keywordQuery's documented filter codes staff can read without a manual (docs/protocol.md);
# the service-score and repurchase-rate levels are left out: their meaning is not on record.
SEARCH_FILTERS = [
    ("1688Selection", gettext_lazy("are 1688 selections")),
    ("certifiedFactory", gettext_lazy("come from a certified factory")),
    ("shipInToday", gettext_lazy("ship today")),
    ("shipIn24Hours", gettext_lazy("ship within 24 hours")),
    ("shipIn48Hours", gettext_lazy("ship within 48 hours")),
    ("noReason7DReturn", gettext_lazy("take 7-day returns without a reason")),
    ("isOnePsale", gettext_lazy("ship a single piece (dropshipping)")),
    ("isOnePsaleFreePost", gettext_lazy("ship a single piece post-free")),
    ("new7", gettext_lazy("are new in the last 7 days")),
    ("new30", gettext_lazy("are new in the last 30 days")),
]


class KeywordSearchForm(forms.Form):
    shop = shop_field()
    keyword = forms.CharField(label=gettext_lazy("Keyword"), max_length=200)
    price_min = forms.DecimalField(
        label=gettext_lazy("Price from (¥)"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
    )
    price_max = forms.DecimalField(
        label=gettext_lazy("Price to (¥)"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
    )
    category = forms.CharField(  # a path, a name or an id (resolved in clean)
        label=gettext_lazy("Category"),
        required=False,
        max_length=600,
        widget=forms.TextInput(attrs={"list": "category-names"}),
    )
    min_order = forms.IntegerField(
        label=gettext_lazy("Minimum order at most"),
        required=False,
        min_value=1,
        max_value=10**9,
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort"),
        required=False,
        choices=[
            ("", gettext_lazy("Best match")),
            ("price:asc", gettext_lazy("Price, low to high")),
            ("price:desc", gettext_lazy("Price, high to low")),
            ("monthSold:desc", gettext_lazy("Sales")),
        ],
    )
    filters = forms.MultipleChoiceField(
        label=gettext_lazy("Only offers that"),
        required=False,
        choices=SEARCH_FILTERS,
        widget=forms.CheckboxSelectMultiple,
    )
    sold_30_days = forms.IntegerField(
        label=gettext_lazy("Sold in 30 days at least"),
        required=False,
        min_value=1,
        max_value=10**9,
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=PAGE_MAX)

    def clean(self):
        data = super().clean()
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError(_("The lowest price is above the highest price."))
        if data.get("category"):
            shop = data.get("shop") or self.fields["shop"].queryset.first()
            shops = [shop.pk] if shop else []
            data["category"] = category_from_text(data["category"], shop_ids=shops)
            if not data["category"] or data["category"] > OFFER_ID_MAX:
                self.add_error("category", UNKNOWN_CATEGORY)
        return data

    def query(self) -> sourcing.KeywordQuery:
        data = self.cleaned_data
        return sourcing.KeywordQuery(
            keyword=data["keyword"],
            price_min=data.get("price_min"),
            price_max=data.get("price_max"),
            category_id=data.get("category"),
            min_order_max=data.get("min_order"),
            sort=data.get("sort") or "",
            filters=tuple(data.get("filters") or ()),
            sold_30_days_min=data.get("sold_30_days"),
        )


class ImageSearchForm(forms.Form):
    """GET: `image_url` or `image_id` (after an upload), and `page`."""

    image_url = forms.URLField(
        label=gettext_lazy("Picture address"),
        required=False,
        max_length=2000,
        assume_scheme="https",
    )
    image_id = forms.RegexField(regex=r"^[A-Za-z0-9]{1,64}$", required=False)
    shop = shop_field()
    page = forms.IntegerField(required=False, min_value=1, max_value=PAGE_MAX)


class ImageUploadForm(forms.Form):
    shop = shop_field()
    image = forms.FileField(
        label=gettext_lazy("Or upload a picture"),
        help_text=gettext_lazy(
            "JPEG, PNG, WebP or GIF, at most 10 MB; it is shrunk before upload."
        ),
    )

    def clean_image(self):
        upload = self.cleaned_data["image"]
        if upload.size > sourcing.IMAGE_MAX_BYTES:
            raise forms.ValidationError(
                _("The picture is larger than %(mb)d MB.")
                % {"mb": sourcing.IMAGE_MAX_BYTES // (1024 * 1024)}
            )
        return upload


class StageForm(forms.Form):
    offer_id = forms.IntegerField(min_value=1, max_value=OFFER_ID_MAX)
    batch = forms.ModelChoiceField(queryset=draft_batches())
    next = forms.CharField(required=False, max_length=4000)


def _watch_url() -> str | None:
    """The watchlist's "add" URL once it exists (the watchlist adds `catalog:watch_add`,
    a POST of `offer_id` and `next`); until then no watch button is drawn."""
    try:
        return reverse("catalog:watch_add")
    except NoReverseMatch:
        return None


def _page_links(request, results) -> dict:
    """?…&page=N links for the previous and next pages, keeping every other parameter."""
    links = {}
    if results is None:
        return links
    params = request.GET.copy()
    for name, number in (
        ("previous", results.current_page - 1),
        ("next", results.current_page + 1),
    ):
        if 1 <= number <= min(results.total_page, PAGE_MAX):
            params["page"] = str(number)
            links[name] = "?" + params.urlencode()
    return links


def _chosen_shop(form) -> Shop | None:
    """The form's shop, else the first active one (what the service would use)."""
    if form.is_bound and form.is_valid() and form.cleaned_data.get("shop"):
        return form.cleaned_data["shop"]
    return selectors.default_search_shop()


def _category_names(shop: Shop | None) -> list[str]:
    """The paths of the shop's cached leaf categories, for the category input's datalist."""
    return leaf_paths([shop.pk]) if shop is not None else []


def _results_context(request, results, **extra) -> dict:
    can_stage = request.user.has_perm(sourcing.STAGE_PERMISSION)
    return {
        "results": results,
        "links": _page_links(request, results),
        "batches": list(draft_batches()[:50]) if can_stage and results else [],
        "can_stage": can_stage,
        "watch_url": _watch_url() if request.user.has_perm("catalog.watch_offer") else None,
        "here": request.get_full_path(),
        "offer_url": OFFER_URL,
        **extra,
    }


@staff_member_required
@permission_required(SEARCH, raise_exception=True)
def sourcing_search(request):
    """Keyword search (GET, so a page of results can be linked and paged)."""
    form = KeywordSearchForm(request.GET if "keyword" in request.GET else None)
    results = None
    if form.is_bound and form.is_valid():
        try:
            results = sourcing.search_by_keyword(
                user=request.user,
                query=form.query(),
                page=form.cleaned_data.get("page") or 1,
                page_size=PAGE_SIZE,
                shop=form.cleaned_data.get("shop"),
            )
        except Refused as refused:
            show_refusal(request, refused)
    shop = _chosen_shop(form)
    category_names = _category_names(shop)
    chosen = form.cleaned_data.get("category") if form.is_bound and form.is_valid() else None
    context = _results_context(
        request,
        results,
        form=form,
        mode="keyword",
        category_names=category_names,
        category_name=category_label(shop_id=shop and shop.pk, category_id=chosen),
    )
    return render(request, "sourcing/sourcing_search.html", context)


@staff_member_required
@permission_required(SEARCH, raise_exception=True)
def sourcing_image(request):
    """Image search: GET by `image_url` or `image_id`; POST a picture file, which is checked,
    shrunk, uploaded, then searched by its imageId (a redirect, so the pages can be linked)."""
    upload_form = ImageUploadForm()
    if request.method == "POST":
        upload_form = ImageUploadForm(request.POST, request.FILES)
        if upload_form.is_valid():
            shop = upload_form.cleaned_data.get("shop")
            try:
                image_id = sourcing.upload_search_image(
                    user=request.user, image=upload_form.cleaned_data["image"].read(), shop=shop
                )
            except Refused as refused:
                show_refusal(request, refused)
            else:
                query = {"image_id": image_id, **({"shop": shop.pk} if shop else {})}
                return redirect(f"{reverse('catalog:sourcing_image')}?{urlencode(query)}")
    form = ImageSearchForm(request.GET if request.GET else None)
    results = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data.get("image_url") or data.get("image_id"):
            try:
                results = sourcing.search_by_image(
                    user=request.user,
                    image_id=data.get("image_id") or "",
                    image_url=data.get("image_url") or "",
                    page=data.get("page") or 1,
                    page_size=PAGE_SIZE,
                    shop=data.get("shop"),
                )
            except Refused as refused:
                show_refusal(request, refused)
    context = _results_context(request, results, form=form, upload_form=upload_form, mode="image")
    return render(request, "sourcing/sourcing_image.html", context)


@staff_member_required
@require_POST
def sourcing_stage(request):
    """Stage one found offer into a draft batch (read buyer-side with the batch shop's token)."""
    form = StageForm(request.POST)
    back = request.POST.get("next") or reverse("catalog:sourcing_search")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("catalog:sourcing_search")
    if not form.is_valid():
        messages.error(request, _("Choose a draft batch to stage the offer into."))
        return HttpResponseRedirect(back)
    batch = form.cleaned_data["batch"]  # a draft batch, just read by the form
    offer_id = form.cleaned_data["offer_id"]
    try:
        result = sourcing.stage_offers(user=request.user, batch=batch, offer_ids=[offer_id])
    except Refused as refused:
        show_refusal(request, refused)
        return HttpResponseRedirect(back)
    if result.created:
        messages.success(
            request,
            _("Offer %(offer)s was staged into batch %(batch)s.")
            % {"offer": offer_id, "batch": batch.name},
        )
    elif result.skipped:
        messages.info(
            request,
            _("Offer %(offer)s is already in batch %(batch)s.")
            % {"offer": offer_id, "batch": batch.name},
        )
    for _offer, message in result.errors:
        messages.error(
            request,
            _("Offer %(offer)s was not staged: %(error)s") % {"offer": offer_id, "error": message},
        )
    return HttpResponseRedirect(back)
