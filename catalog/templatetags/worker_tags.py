"""`{% load worker_tags %}{% worker_warning "upload" %}`: the sentence a page that waits on a
worker shows when no live worker serves those queues (all three when none is named), else
nothing (sync/workers.py)."""

from django import template

from sync.workers import QUEUES, worker_health

register = template.Library()


@register.inclusion_tag("common/_worker_warning.html")
def worker_warning(*queues):
    return {"warning": worker_health().warning(queues or QUEUES)}
