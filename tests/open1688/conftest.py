"""Fixtures for the client tests: a scripted gateway over real HTTP and clients aimed at it."""

import pytest

from open1688 import Open1688Client
from tests.open1688.scripted_gateway import APP_KEY, APP_SECRET, ScriptedGateway


@pytest.fixture
def gateway():
    scripted = ScriptedGateway()
    yield scripted
    scripted.close()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_client(gateway, sleeps):
    clients = []

    def build(**options):
        defaults = {
            "app_key": APP_KEY,
            "app_secret": APP_SECRET,
            "gateway": gateway.url,
            "read_timeout": 0.5,
            "max_retries": 2,
            "sleep": sleeps.append,
        }
        client = Open1688Client(**{**defaults, **options})
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
