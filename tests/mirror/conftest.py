"""Fixtures of the mirror's page tests."""

import pytest

from tests.factories import UserFactory


@pytest.fixture
def log_reader(client):
    """A logged-in client whose user may only read the change log."""
    client.force_login(UserFactory(username="viewer", permissions=["view_pricestockchange"]))
    return client
