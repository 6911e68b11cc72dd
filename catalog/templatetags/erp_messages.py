"""`stored_message`: a message kept in the database (catalog.messages) in the reader's language."""

from django import template

from catalog.messages import render

register = template.Library()


@register.filter
def stored_message(value) -> str:
    return render(value)
