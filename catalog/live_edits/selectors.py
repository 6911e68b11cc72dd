"""Reads behind the live-edit pages: the list of changes, the offers a new change is for, one
change with its lines, its counts, the change-log rows it wrote and its undos. Writes live in
planning.py and services.py.
"""

from django.db.models import Count
from django.shortcuts import get_object_or_404

from catalog.models import PriceStockChange, Product
from catalog.models.live_edits import LiveEdit, LiveEditLine


def operations():
    """Every change, newest first, with how many offers each touches."""
    return (
        LiveEdit.objects.select_related("created_by", "applied_by", "undo_of")
        .annotate(offers=Count("lines__product", distinct=True))
        .order_by("-created_at", "-id")  # an aggregate drops Meta.ordering: page predictably
    )


def operation(pk, *, detailed: bool = False) -> LiveEdit:
    """One change (Http404 when there is none); `detailed` joins the people and the undone
    change its page names."""
    rows = LiveEdit.objects.all()
    if detailed:
        rows = rows.select_related("created_by", "applied_by", "taken_over_by", "undo_of")
    return get_object_or_404(rows, pk=pk)


def offers_to_change(ids) -> list[Product]:
    """The offers a new change is for, with their shop and SKUs, in id order."""
    return list(
        Product.objects.filter(pk__in=ids)
        .select_related("shop")
        .prefetch_related("skus")
        .order_by("pk")
    )


def lines_of(operation: LiveEdit) -> list[LiveEditLine]:
    return list(
        operation.lines.select_related("product", "product__shop").order_by(
            "product_id", "field", "tier_start_quantity", "remote_sku_id", "id"
        )
    )


def changes_made_by(operation: LiveEdit):
    """The change-log rows the change wrote, per offer."""
    return (
        PriceStockChange.objects.filter(live_edit=operation)
        .select_related("product", "sku", "made_by")
        .order_by("product_id", "field", "tier_start_quantity", "remote_sku_id")
    )


def undos_of(operation: LiveEdit) -> list[LiveEdit]:
    return list(operation.undos.all())


def open_undo(operation: LiveEdit) -> LiveEdit | None:
    """The change's undo that was not discarded and did not fail, if any (then no second one)."""
    dead = [LiveEdit.Status.DISCARDED, LiveEdit.Status.FAILED]
    return operation.undos.exclude(status__in=dead).first()


def conflict_count(operation: LiveEdit) -> int:
    return operation.lines.filter(status=LiveEditLine.Status.CONFLICT).count()


def offer_to_retitle(pk) -> Product:
    """One own offer with its shop, for a title change (Http404 when there is none)."""
    return get_object_or_404(Product.objects.select_related("shop"), pk=pk)
