"""The WebSocket push worker (catalog/watch/push_ws.py) against the sandbox's channel:
CONNECT with the MD5 sign, CONNECT_ACK, heartbeats, SERVER_PUSH stored and CONFIRMed, a
reconnect after the
server drops the connection, a refused sign. Real sandbox, real Redis, a real RQ worker."""

import hashlib
import threading
import time
from decimal import Decimal

import pytest

from catalog.models import Channel, PriceStockChange, PushMessage, WatchedOffer
from catalog.watch import services as watch
from catalog.watch.push_ws import ConnectRefused, PushChannel, connect_frame
from tests.conftest import run_worker
from tests.factories import UserFactory

SUPPLIER = "b2b-2209800001"
pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


@pytest.fixture
def channel_url(sandbox, settings):
    answer = sandbox.control("push", {"app_key": settings.OPEN1688_APP_KEY, "websocket": True})
    return answer["ws_url"]


@pytest.fixture
def watched(sandbox, connected_shop):
    sandbox.new_seller(SUPPLIER, "东莞五金厂")
    ids = sandbox.control("seed", {"member_id": SUPPLIER, "count": 10, "seed": 5})["product_ids"]
    for offer_id in ids:
        detail = watch.sourcing.read_supplier_offer(offer_id)
        if detail.skus and all(s.price is not None for s in detail.skus):
            break
    watch.watch_offers(user=UserFactory(roles=["operator"]), refs=str(offer_id))
    return offer_id, detail.skus


@pytest.fixture
def running():
    """Run a PushChannel in a thread; stopped (and joined) at the end."""
    started = []

    def start(**options):
        channel = PushChannel(heartbeat=0.3, backoff_max=0.5, **options)
        thread = threading.Thread(target=channel.run, daemon=True)
        thread.start()
        started.append((channel, thread))
        return channel

    yield start
    for channel, thread in started:
        channel.stop()
        thread.join(timeout=5)


def test_connect_frame_signs_secret_app_key_and_pub_time():
    frame = connect_frame("8688001", "sandbox-secret", now_ms=1700000000000)
    assert (frame["type"], frame["appKey"], frame["pubTime"]) == (
        "CONNECT", "8688001", "1700000000000",
    )  # fmt: skip
    expected = hashlib.md5(b"sandbox-secret" + b"8688001" + b"1700000000000").hexdigest()
    assert frame["sign"] == expected.upper()


def test_a_change_comes_through_the_websocket_confirmed_and_logged(
    sandbox, watched, channel_url, running
):
    offer_id, skus = watched
    channel = running(url=channel_url)
    assert channel.connected.wait(5)
    started = time.monotonic()
    new = str(skus[0].price + Decimal("3.00"))
    sandbox.control(
        "offers/update", {"product_id": offer_id, "sku_prices": {str(skus[0].sku_id): new}}
    )
    try:
        message = wait_for(lambda: PushMessage.objects.filter(channel=Channel.PUSH_WS).first())
    except AssertionError as timeout:  # what the sandbox made of it, to tell where it stopped
        timeout.add_note(f"sandbox push state: {sandbox.get('push')}")
        raise
    assert offer_id in message.offer_ids
    run_worker("default")
    row = PriceStockChange.objects.get(watched_offer__offer_id=offer_id)
    elapsed = time.monotonic() - started
    assert str(row.new_value) == new and elapsed < 10
    assert WatchedOffer.objects.get().last_change_channel == Channel.PUSH_WS
    state = wait_for(lambda: (s := sandbox.get("push"))["confirmed"] == s["messages"] and s)
    assert state["messages"] >= 1  # every message CONFIRMed: the sandbox will not resend
    wait_for(lambda: channel.stats.heartbeats >= 1, 3)
    print(f"push WebSocket: mutation to change row in {elapsed:.2f} s")


def test_the_worker_reconnects_after_the_server_drops_it(
    sandbox, watched, channel_url, running, settings
):
    offer_id, skus = watched
    channel = running(url=channel_url)
    assert channel.connected.wait(5)
    dropped = sandbox.control("push", {"app_key": settings.OPEN1688_APP_KEY,
                                       "drop_websockets": True})  # fmt: skip
    assert dropped["dropped"] == 1
    # Missed messages asked for again after reconnecting (the replay follows the connect).
    wait_for(lambda: channel.stats.connects >= 2 and channel.stats.replays >= 2, 10)
    sandbox.control(
        "offers/update", {"product_id": offer_id, "sku_stock": {str(skus[0].sku_id): 1}}
    )
    wait_for(lambda: PushMessage.objects.filter(channel=Channel.PUSH_WS).exists())
    run_worker("default")
    row = PriceStockChange.objects.get(watched_offer__offer_id=offer_id)
    assert (row.field, row.new_stock) == ("stock", 1)


def test_a_wrong_sign_is_refused_and_not_retried(sandbox, channel_url, db):
    channel = PushChannel(url=channel_url, app_secret="wrong-secret", replay=None)
    with pytest.raises(ConnectRefused):
        channel.run()
    assert channel.stats.connects == 0


def test_an_unreachable_channel_is_retried_with_backoff(db):
    channel = PushChannel(url="ws://127.0.0.1:9/websocket", backoff_max=0.2, replay=None)
    thread = threading.Thread(target=channel.run, daemon=True)
    thread.start()
    time.sleep(1.0)
    channel.stop()
    thread.join(timeout=5)
    assert not thread.is_alive() and channel.stats.connects == 0


def test_a_message_that_could_not_be_stored_is_not_confirmed_and_comes_again(
    sandbox, watched, channel_url, running
):
    offer_id, skus = watched
    calls = []

    def flaky(envelope):
        calls.append(envelope["msgId"])
        if len(calls) == 1:
            raise RuntimeError("database away")
        return False

    channel = running(url=channel_url, handle=flaky, replay=None)
    assert channel.connected.wait(5)
    sandbox.control(
        "offers/update", {"product_id": offer_id, "sku_stock": {str(skus[0].sku_id): 2}}
    )
    # The one not stored comes again after 3 s (a stock change also brings a second message,
    # which may come in between).
    wait_for(lambda: calls and calls.count(calls[0]) >= 2, 15)
    assert channel.stats.failures == 1 and channel.stats.confirms >= 1
    wait_for(lambda: (s := sandbox.get("push"))["confirmed"] == s["messages"])
