"""Reads the follow pages need beyond catalog/follow/selectors.py: one own offer, a rule as the
editor's form would make it (unsaved, for the dry run), the approval inbox with its lines, the
history with what each change's undo button needs, and an unlinked offer's main picture for
the image search. Nothing here writes or calls 1688.
"""

from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404

from catalog.follow import selectors
from catalog.mirror import selectors as mirror_selectors
from catalog.models import FollowRule, Product, Shop
from catalog.models.live_edits import LiveEdit, LiveEditLine

DEAD = [LiveEdit.Status.DISCARDED, LiveEdit.Status.FAILED]


def own_offer(pk) -> Product:
    """One own offer with its shop and SKUs (Http404 when there is none)."""
    rows = Product.objects.select_related("shop").prefetch_related("skus")
    return get_object_or_404(rows, pk=pk)


def shop_or_none(pk) -> Shop | None:
    """The shop a page is narrowed to by `?shop=` (None: every shop, or an id naming none)."""
    text = str(pk or "")
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return Shop.objects.filter(pk=int(text)).first()


def rule_of_scope(shop: Shop, product: Product | None) -> FollowRule | None:
    """The saved rule of the shop (or, with `product`, the offer's own rule)."""
    if product is None:
        return selectors.shop_rule(shop)
    return FollowRule.objects.filter(product=product).first()


def rule_to_edit(shop: Shop, product: Product | None) -> FollowRule:
    """The rule the editor starts from: the saved one, else a new one as rules.set_rule would
    make it (an offer's starts as its shop's rule; a shop's from the defaults). Not saved."""
    saved = rule_of_scope(shop, product)
    if saved is not None:
        return saved
    rule = FollowRule(shop=shop, product=product)
    base = selectors.shop_rule(shop) if product is not None else None
    if base is not None:
        for field in FollowRule._meta.concrete_fields:
            if field.name not in ("id", "shop", "product", "updated_by", "created_at"):
                setattr(rule, field.attname, getattr(base, field.attname))
        rule.paused = False
    return rule


def offer_rules(shop: Shop) -> list[FollowRule]:
    """The offers of `shop` that follow a rule of their own."""
    return [rule for rule in selectors.rules_of(shop) if rule.product_id]


def inbox(shop: Shop | None = None):
    """The approval inbox with each change's offer and lines (before → after)."""
    lines = LiveEditLine.objects.order_by("field", "tier_start_quantity", "remote_sku_id", "id")
    return selectors.awaiting(shop).prefetch_related(
        Prefetch("lines", queryset=lines, to_attr="shown_lines")
    )


def history(shop: Shop | None = None, *, status: str = ""):
    """Every change a follow rule made, newest first, with how many of its lines were applied
    (an undo button only where something was) and how many met a value changed on 1688 by
    hand since the last read (not overwritten: flagged)."""
    changes = selectors.follow_changes()
    if shop is not None:
        changes = changes.filter(source_link__product__shop=shop)
    if status:
        changes = changes.filter(status=status)
    return changes.select_related("applied_by").annotate(
        applied_lines=Count("lines", filter=Q(lines__status=LiveEditLine.Status.APPLIED)),
        conflicts=Count("lines", filter=Q(lines__status=LiveEditLine.Status.CONFLICT)),
    )


def undos_of(changes) -> dict[int, LiveEdit]:
    """The undo of each change in `changes` (a page of the history) that was not discarded and
    did not fail, by change id: then no second undo button."""
    ids = [change.pk for change in changes]
    undos = LiveEdit.objects.filter(undo_of_id__in=ids).exclude(status__in=DEAD).order_by("pk")
    return {undo.undo_of_id: undo for undo in undos}


def picture(product: Product) -> str:
    """The address of the offer's main picture (what the image search is given), or ""."""
    return mirror_selectors.picture(product.main_image)
