"""Failures in words for staff (catalog.common.operator_words); the raw
detail for superusers only."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from catalog.common import operator_words
from erp1688.messages import render

register = template.Library()


@register.filter
def item_outcome(item) -> str:
    return operator_words.item_outcome(item)


@register.simple_tag(takes_context=True)
def technical_details(context, *parts) -> str:
    """A closed "details" toggle with the technical text, shown to superusers only."""
    request = context.get("request")
    text = " ".join(render(part) for part in parts if part not in (None, ""))
    if not text or request is None or not request.user.is_superuser:
        return ""
    return format_html(
        '<details class="technical"><summary>{}</summary><code>{}</code></details>',
        _("Details"),
        text,
    )
