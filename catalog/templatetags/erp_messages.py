"""`stored_message`: a message kept in the database (erp1688.messages) in the reader's language."""

from django import template

from erp1688.messages import render

register = template.Library()


@register.filter
def stored_message(value) -> str:
    return render(value)
