"""A sandbox on a free port in a background thread, with a temporary database."""

import threading

import pytest
from publishing_kit import Seller, ready_seller
from sandbox_client import APP_KEY, APP_SECRET, SandboxClient

from sandbox.server.httpd import make_server


@pytest.fixture(scope="module")
def gateway_server(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite3"
    server = make_server("127.0.0.1", 0, str(db_path), app_key=APP_KEY, app_secret=APP_SECRET)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield SandboxClient(f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()


@pytest.fixture
def gateway(gateway_server: SandboxClient) -> SandboxClient:
    """A clean sandbox: no offers, tokens or faults; the app without a rate limit."""
    gateway_server.control("POST", "/_sandbox/reset")
    gateway_server.control(
        "POST", "/_sandbox/apps", app_key=APP_KEY, app_secret=APP_SECRET, rate_per_sec=0
    )
    return gateway_server


@pytest.fixture
def seller(gateway: SandboxClient) -> Seller:
    """The demo seller ready to publish (tests/sandbox/publishing_kit.py): (token, photobank
    picture path, freight template id, send-goods address id)."""
    return ready_seller(gateway, gateway.token())
