"""A staged item's pictures on the batch pages: where each is shown from
(catalog.publishing.editor.picture_src)."""

from django import template

from catalog.publishing.editor import picture_src

register = template.Library()


@register.filter
def main_picture(images) -> str:
    """The address of an item's main picture (its first), or ''."""
    first = images[0] if isinstance(images, list) and images else None
    return picture_src(first)
