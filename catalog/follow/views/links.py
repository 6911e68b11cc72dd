"""Link coverage (the share of own offers linked to a supplier, the unlinked ones with a paste
box and an image search by their main picture), linking one offer, its page with the SKU
mapping editor, and unlinking. A business refusal is shown where it happened; a
`PermissionRefused` goes on to the styled 403 page."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.follow import pages_support as support
from catalog.follow import selectors
from catalog.follow import services as follow
from catalog.follow.forms import LinkForm, SkuMappingForm
from catalog.follow.views import VIEW
from catalog.mirror.views.products import requires
from catalog.shops import selectors as shop_selectors
from erp1688.refusals import Refused, require, show_refusal

SHOWN_UNLINKED = 200


def image_search_url(product) -> str:
    """The image search page, searching by the offer's main picture ("" without one)."""
    picture = support.picture(product)
    if not picture:
        return ""
    return f"{reverse('catalog:sourcing_image')}?{urlencode({'image_url': picture})}"


@requires(VIEW)
def follow_coverage(request):
    shop = support.shop_or_none(request.GET.get("shop"))
    coverage = selectors.coverage(shop, limit=SHOWN_UNLINKED)
    context = {
        "coverage": coverage,
        "percent": round(coverage.share * 100, 1),
        "rows": [(product, image_search_url(product)) for product in coverage.unlinked],
        "more": max(0, coverage.offers - coverage.linked - len(coverage.unlinked)),
        "shop": shop,
        "shops": shop_selectors.shops(),
        "can_link": request.user.has_perm(follow.LINK),
        "tab": "coverage",
    }
    return render(request, "follow/coverage.html", context)


@require_POST
@requires(follow.LINK)
def follow_link(request, pk):
    """Link one own offer to the supplier offer pasted (a link or an id), then show its SKU
    mapping; a refusal goes back to where the paste came from."""
    product = support.own_offer(pk)
    form = LinkForm(request.POST)
    back = request.POST.get("back") == "coverage"
    if not form.is_valid():
        messages.error(request, _("Paste one supplier offer: its link or its offer id."))
        return _back(back, product)
    try:
        link = follow.link_offer(user=request.user, product=product, ref=form.cleaned_data["ref"])
    except Refused as refused:
        show_refusal(request, refused)
        return _back(back, product)
    messages.success(
        request,
        _("Offer %(own)s now follows supplier offer %(supplier)s. Check the SKU mapping below.")
        % {"own": product.offer_id, "supplier": link.supplier_offer_id},
    )
    if link.watch_error:
        messages.warning(
            request,
            _("The supplier offer could not be watched yet: %(reason)s")
            % {"reason": link.watch_error},
        )
    return redirect("catalog:follow_offer", pk=product.pk)


def _back(to_coverage: bool, product):
    if to_coverage:
        return redirect("catalog:follow_coverage")
    return redirect("catalog:follow_offer", pk=product.pk)


@requires(VIEW)
def follow_offer(request, pk):
    """One own offer: its supplier link and the SKU mapping editor (GET), the mapping saved
    (POST); unlinked, the paste box and the image search."""
    product = support.own_offer(pk)
    if request.method == "POST":
        require(request.user, follow.MAP)  # before anything is read from the post
    link = selectors.link_of(product)
    if link is None:
        if request.method == "POST":
            messages.error(request, _("This offer is not linked to a supplier offer."))
            return redirect("catalog:follow_offer", pk=product.pk)
        return render(request, "follow/offer.html", _offer_context(request, product, None))
    context = _offer_context(request, product, link)
    skus = context["skus"]
    if request.method == "POST":
        form = SkuMappingForm(request.POST, **context["form_arguments"])
        if form.is_valid():
            try:
                done = follow.map_skus(user=request.user, link=link, mapping=form.mapping())
            except Refused as refused:
                show_refusal(request, refused)
            else:
                messages.success(
                    request,
                    _("SKU mapping saved: %(mapped)d of %(total)d SKUs follow a supplier SKU.")
                    % {"mapped": len(done), "total": len(skus)},
                )
                return redirect("catalog:follow_offer", pk=product.pk)
        context["form"] = form
    context["rows"] = context["form"].rows(skus)
    return render(request, "follow/offer.html", context)


def _offer_context(request, product, link) -> dict:
    rule = selectors.rule_for(product)
    context = {
        "product": product,
        "link": link,
        "link_form": LinkForm(),
        "image_search": image_search_url(product),
        "rule": rule,
        "blocked": selectors.follow_blocked_reason(product.shop, rule) if rule else None,
        "can_link": request.user.has_perm(follow.LINK),
        "can_map": request.user.has_perm(follow.MAP),
        "can_unlink": request.user.has_perm(follow.UNLINK),
        "tab": "coverage",
    }
    if link is None:
        return context
    watched = selectors.watched(link.supplier_offer_id)
    skus = list(product.skus.all())
    supplier_skus = selectors.supplier_skus(watched)
    arguments = {
        "skus": skus,
        "supplier_skus": supplier_skus,
        "mapped": {s.sku_id: s.supplier_sku_id for s in link.sku_links.all()},
        "suggested": selectors.sku_suggestions(product, watched),
        "disabled": not request.user.has_perm(follow.MAP),
    }
    context.update(
        watched=watched,
        skus=skus,
        supplier_skus=supplier_skus,
        form_arguments=arguments,
        form=SkuMappingForm(**arguments),
    )
    return context


@require_POST
@requires(follow.UNLINK)
def follow_unlink(request, pk):
    product = support.own_offer(pk)
    link = selectors.link_of(product)
    if link is None:
        messages.error(request, _("This offer is not linked to a supplier offer."))
        return redirect("catalog:follow_offer", pk=product.pk)
    try:
        follow.unlink_offer(user=request.user, link=link)
    except Refused as refused:
        show_refusal(request, refused)
    else:
        messages.success(
            request,
            _("Offer %(own)s no longer follows a supplier offer.") % {"own": product.offer_id},
        )
    return redirect("catalog:follow_offer", pk=product.pk)
