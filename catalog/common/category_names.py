"""Categories by name outside the item form (product page, sourcing filter, bulk edit).

Names come from what is already stored — the name 1688 sent with a synced offer, else the
shop's cached category tree (CategoryNode, catalog/publishing/categories.py) — and fall back to the
id when
no name is known. People may type a category by its path, its name or its id.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.mirror.selectors import category_name as synced_category_name
from catalog.models import CategoryNode

CHOICES_MAX = 3000  # cached leaf categories offered by name (a datalist)


def category_label(*, shop_id, category_id, raw=None) -> str:
    """The category's name (the synced answer's, else the tree's path), else its id."""
    if not category_id:
        return ""
    name = synced_category_name(raw) if raw is not None else ""
    if name:
        return name
    nodes = CategoryNode.objects.filter(category_id=category_id).order_by("-shop_id")
    node = nodes.filter(shop_id=shop_id).first() or nodes.first()
    return str(node) if node else str(category_id)


def leaf_paths(shop_ids) -> list[str]:
    """The paths of the shops' cached leaf categories, for an input's datalist."""
    leaves = CategoryNode.objects.filter(shop_id__in=list(shop_ids), is_leaf=True)
    paths = leaves.order_by("path").values_list("path", flat=True).distinct()
    return [path for path in paths[:CHOICES_MAX] if path]


def category_from_text(text: str, *, shop_ids) -> int | None:
    """The id a person means by `text`: digits are the id; otherwise the cached category whose
    path or name it is (a leaf first). None when it names nothing known."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    nodes = CategoryNode.objects.filter(shop_id__in=list(shop_ids)).order_by("-is_leaf", "path")
    node = nodes.filter(path=text).first() or nodes.filter(name=text).first()
    return node.category_id if node else None


UNKNOWN = _(
    "No category of this name in the shop's category tree: choose one from the list or type its "
    "number."
)


class CategoryField(forms.CharField):
    """A category typed by path, name or id; cleans to the id (or None). The form sets
    `shop_ids` (whose cached trees are searched)."""

    shop_ids: tuple = ()

    def __init__(self, *, datalist: str, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 600)
        super().__init__(widget=forms.TextInput(attrs={"list": datalist}), **kwargs)

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        category_id = category_from_text(text, shop_ids=self.shop_ids)
        if category_id is None:
            raise forms.ValidationError(UNKNOWN, code="unknown_category")
        return category_id
