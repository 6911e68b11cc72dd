"""The rule editor of a shop (or of one offer, overriding its shop's rule): everyone who may
see rules reads it and runs the dry run ("what would change across the catalogue now", per
offer, from the mirror and the suppliers' last reads: no 1688 call, nothing saved); managers
save it, pause the shop, follow now, or remove an offer's own rule."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.follow import pages_support as support
from catalog.follow import rules, selectors
from catalog.follow import services as follow
from catalog.follow.forms import RuleForm
from catalog.follow.views import VIEW_RULES
from catalog.mirror.views.products import requires
from catalog.models.live_edits import LiveEdit
from catalog.shops import selectors as shop_selectors
from erp1688.refusals import PermissionRefused, Refused, require, show_refusal

SHOWN_DRY_RUN = 200


def _page_url(shop, product):
    if product is not None:
        return redirect("catalog:follow_offer_rule", pk=product.pk)
    return redirect("catalog:follow_rule", pk=shop.pk)


def _rule_page(request, shop, product, *, dry_run: bool = False):
    rule = support.rule_to_edit(shop, product)
    saved = rule.pk is not None
    if request.method == "POST" and not dry_run:
        require(request.user, rules.PERMISSION)  # before the form: no typing for nothing
    form = RuleForm(request.POST if request.method == "POST" else None, instance=rule)
    result = None
    if form.is_bound and form.is_valid():
        if dry_run:
            result = selectors.dry_run(form.instance)
        else:
            try:
                rules.set_rule(user=request.user, shop=shop, product=product, **form.values())
            except PermissionRefused:
                raise
            except Refused as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(
                    request,
                    _(
                        "Rule saved. It applies to the next supplier move, or now with "
                        "“Follow now”."
                    ),  # fmt: skip
                )
                return _page_url(shop, product)
    context = {
        "shop": shop,
        "product": product,
        "rule": rule if saved else None,
        "shop_rule": selectors.shop_rule(shop) if product is not None else None,
        "form": form,
        "dry": result,
        "dry_rows": [
            (row, LiveEdit.Hold(row.hold).label if row.hold else "")
            for row in (result.rows[:SHOWN_DRY_RUN] if result else [])
        ],
        "dry_more": max(0, len(result.rows) - SHOWN_DRY_RUN) if result else 0,
        "blocked": selectors.follow_blocked_reason(shop, rule if saved else None),
        "offer_rules": support.offer_rules(shop) if product is None else [],
        "shops": shop_selectors.shops(),
        "can_edit": request.user.has_perm(rules.PERMISSION),
        "tab": "rules",
    }
    return render(request, "follow/rule.html", context)


@requires(VIEW_RULES)
def follow_rule(request, pk):
    return _rule_page(request, shop_selectors.shop(pk), None)


@require_POST
@requires(VIEW_RULES)
def follow_dry_run(request, pk):
    return _rule_page(request, shop_selectors.shop(pk), None, dry_run=True)


@requires(VIEW_RULES)
def follow_offer_rule(request, pk):
    product = support.own_offer(pk)
    return _rule_page(request, product.shop, product)


@require_POST
@requires(VIEW_RULES)
def follow_offer_dry_run(request, pk):
    product = support.own_offer(pk)
    return _rule_page(request, product.shop, product, dry_run=True)


@require_POST
@requires(rules.PERMISSION)
def follow_offer_rule_delete(request, pk):
    product = support.own_offer(pk)
    rule = support.rule_of_scope(product.shop, product)
    if rule is None:
        messages.error(request, _("This offer has no rule of its own."))
    else:
        rules.delete_rule(user=request.user, rule=rule)
        messages.success(request, _("The offer follows its shop's rule again."))
    return redirect("catalog:follow_offer_rule", pk=product.pk)


@require_POST
@requires(rules.PERMISSION)
def follow_pause(request, pk):
    shop = shop_selectors.shop(pk)
    paused = request.POST.get("paused") == "1"
    try:
        rules.pause(user=request.user, shop=shop, paused=paused)
    except Refused as refused:
        show_refusal(request, refused)
    else:
        if paused:
            messages.success(request, _("Following is paused: changes wait until you resume."))
        else:
            messages.success(request, _("Following resumed."))
    return redirect("catalog:follow_rule", pk=shop.pk)


@require_POST
@requires(rules.PERMISSION)
def follow_now(request, pk):
    shop = shop_selectors.shop(pk)
    try:
        queued = follow.follow_now(user=request.user, shop=shop)
    except Refused as refused:
        show_refusal(request, refused)
    else:
        messages.success(
            request,
            _("%(n)d supplier offers are followed now by the rule.") % {"n": queued},
        )
    return redirect("catalog:follow_rule", pk=shop.pk)
