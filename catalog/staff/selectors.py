"""Reads behind the users page: every account with its groups, and one account. Writes live in
services.py."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404

User = get_user_model()


def accounts() -> list:
    """Every account, active ones first, by name, with the groups its role is read from."""
    return list(User.objects.prefetch_related("groups").order_by("-is_active", "username"))


def account(pk):
    """One account (Http404 when there is none)."""
    return get_object_or_404(User, pk=pk)
