"""Fixtures of the mirror's page tests."""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory


@pytest.fixture
def log_reader(client):
    """A logged-in client whose user may only read the change log."""
    user = UserFactory(username="viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_pricestockchange"))
    client.force_login(user)
    return client
