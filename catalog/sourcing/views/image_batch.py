"""Staff page: image search with many pictures at once (several files and/or a list of picture
addresses), each optionally cropped to a region first, the results grouped per picture, each
result to watch or to stage (the buttons of catalog/sourcing/views/search.py's results).

POST prepares the pictures (catalog/sourcing/image_batch.py: crop, upload) and redirects to a GET of
the
prepared pictures (`p` = "id:<imageId>" or "url:<address>", `n` = its label, in order), which
searches: a page of grouped results that a watch or a stage returns to.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.publishing.selectors import draft_batches
from catalog.sourcing import image_batch
from catalog.sourcing import services as sourcing
from catalog.sourcing.views.search import OFFER_URL, _watch_url, shop_field
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, show_refusal

PAGE_SIZE = 20
LABEL_MAX = 200
URL_MAX = 2000


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(one, initial) for one in data]
        return [single(data, initial)] if data else []


class BatchForm(forms.Form):
    shop = shop_field()
    images = MultipleFileField(
        label=gettext_lazy("Pictures"),
        required=False,
        help_text=gettext_lazy(
            "Several files at once: JPEG, PNG, WebP or GIF, at most 10 MB each."
        ),
    )
    regions = forms.CharField(
        label=gettext_lazy("Regions of the files"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One line per file, in order: x, y, width, height in pixels from the top left "
            "(only that part is searched); an empty line searches the whole picture."
        ),
    )
    urls = forms.CharField(
        label=gettext_lazy("Picture addresses"),
        required=False,
        max_length=image_batch.PICTURES_MAX * (URL_MAX + 40),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "One address per line, optionally followed by a region: https://… 10, 20, 200, 150."
        ),
    )

    def pictures(self) -> list[image_batch.Picture]:
        """The pictures in order (files, then addresses). Refused `search.bad_region`."""
        data = self.cleaned_data
        regions = data.get("regions", "").splitlines()
        found = []
        for number, upload in enumerate(data.get("images") or []):
            if upload.size > sourcing.IMAGE_MAX_BYTES:
                raise Refused(
                    RefusalCode.IMAGE_TOO_LARGE,
                    _("The picture %(name)s is larger than %(mb)d MB."),
                    params={"name": upload.name, "mb": sourcing.IMAGE_MAX_BYTES // (1024 * 1024)},
                )
            region = image_batch.Region.parse(regions[number] if number < len(regions) else "")
            label = (upload.name or _("Picture %(number)d") % {"number": number + 1})[:LABEL_MAX]
            found.append(image_batch.Picture(label=label, data=upload.read(), region=region))
        for line in data.get("urls", "").splitlines():
            address, _space, rest = line.strip().partition(" ")
            if address:
                found.append(
                    image_batch.Picture(
                        label=address[:LABEL_MAX],
                        url=address[:URL_MAX],
                        region=image_batch.Region.parse(rest),
                    )
                )
        return found


def _prepared_from(request) -> list[image_batch.Prepared]:
    """The GET's prepared pictures; a malformed entry is left out."""
    names = request.GET.getlist("n")
    prepared = []
    for number, value in enumerate(request.GET.getlist("p")[: image_batch.PICTURES_MAX]):
        kind, _colon, rest = value.partition(":")
        label = (names[number] if number < len(names) else rest)[:LABEL_MAX]
        if kind == "id" and rest.isalnum() and len(rest) <= 64:
            prepared.append(image_batch.Prepared(label=label, image_id=rest))
        elif kind == "url" and rest and len(rest) <= URL_MAX:
            prepared.append(image_batch.Prepared(label=label, image_url=rest))
    return prepared


@staff_member_required
@permission_required(sourcing.SEARCH_PERMISSION, raise_exception=True)
def sourcing_images(request):
    form = BatchForm()
    if request.method == "POST":
        form = BatchForm(request.POST, request.FILES)
        if form.is_valid():
            shop = form.cleaned_data.get("shop")
            outcomes, given = [], None
            try:
                given = form.pictures()
                if given:
                    outcomes = image_batch.prepare_pictures(
                        user=request.user, items=given, shop=shop
                    )
            except Refused as refused:
                show_refusal(request, refused)
            query = [("shop", shop.pk)] if shop else []
            for outcome in outcomes:
                if outcome.error:
                    messages.error(request, f"{outcome.label}: {outcome.error}")
                    continue
                prepared = outcome.prepared
                value = (
                    f"id:{prepared.image_id}" if prepared.image_id else f"url:{prepared.image_url}"
                )
                query += [("p", value), ("n", outcome.label)]
            if any(name == "p" for name, _value in query):
                return redirect(f"{reverse('catalog:sourcing_images')}?{urlencode(query)}")
            if given == []:
                messages.error(request, _("Give at least one picture or picture address."))
    groups = []
    prepared = _prepared_from(request)
    if prepared:
        shop_form = forms.Form(request.GET)
        shop_form.fields["shop"] = shop_field()
        shop = shop_form.cleaned_data.get("shop") if shop_form.is_valid() else None
        try:
            groups = image_batch.search_pictures(
                user=request.user, prepared=prepared, page_size=PAGE_SIZE, shop=shop
            )
        except Refused as refused:
            show_refusal(request, refused)
    can_stage = request.user.has_perm(sourcing.STAGE_PERMISSION)
    context = {
        "form": form,
        "groups": groups,
        "batches": list(draft_batches()[:50]) if can_stage and groups else [],
        "can_stage": can_stage,
        "watch_url": _watch_url() if request.user.has_perm("catalog.watch_offer") else None,
        "here": request.get_full_path(),
        "offer_url": OFFER_URL,
        "mode": "images",
    }
    return render(request, "sourcing/sourcing_images.html", context)
