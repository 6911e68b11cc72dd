"""1688 message push: the signed HTTP endpoint, dedupe on msgId, a re-read instead of
the delta, the sandbox delivering pushes (duplicated, out of order) to the running app, the
scheduled poll when push is off, and the replay APIs. Real sandbox over HTTP, real Redis, a
real RQ worker."""

import hashlib
import hmac
import json
import time

import pytest
from django.urls import reverse

from catalog.models import Channel, PriceStockChange, PushMessage, WatchedOffer
from catalog.watch import push
from catalog.watch import services as watch
from tests.conftest import run_worker
from tests.factories import UserFactory

SUPPLIER = "b2b-2209700001"


def signed(message: dict | str, secret: str) -> dict:
    text = message if isinstance(message, str) else json.dumps(message)
    signature = hmac.new(secret.encode(), ("message" + text).encode(), hashlib.sha1)
    return {"message": text, "_aop_signature": signature.hexdigest().upper()}


def product_message(msg_id: int, offer_id: int, born_ms: int | None = None) -> dict:
    return {
        "msgId": msg_id,
        "type": push.PRODUCT_CHANGE,
        "userInfo": "b2b-2209000001",
        "gmtBorn": born_ms or int(time.time() * 1000),
        "data": {"memberId": "b2b-2209000001", "productIds": str(offer_id), "action": "modify"},
    }


@pytest.fixture
def watched(sandbox, connected_shop, settings):
    """A supplier's offer with priced SKUs, watched by an operator; returns (offer id, skus)."""
    settings.WATCH_CACHE_SECONDS = 300
    sandbox.new_seller(SUPPLIER, "宁波灯具厂")
    ids = sandbox.control("seed", {"member_id": SUPPLIER, "count": 12, "seed": 3})["product_ids"]
    for offer_id in ids:
        detail = watch.sourcing.read_supplier_offer(offer_id)
        if len(detail.skus) >= 2 and all(s.price is not None for s in detail.skus):
            break
    else:
        raise AssertionError("no offer with priced SKUs in the seed")
    operator = UserFactory(username="op", roles=["operator"])
    watch.watch_offers(user=operator, refs=str(offer_id))
    return offer_id, detail.skus


def set_price(sandbox, offer_id: int, sku, delta: str = "2.00") -> str:
    from decimal import Decimal

    new = str(sku.price + Decimal(delta))
    sandbox.control("offers/update", {"product_id": offer_id, "sku_prices": {str(sku.sku_id): new}})
    return new


def message_for(offer_id: int) -> PushMessage | None:
    return next((m for m in PushMessage.objects.all() if offer_id in m.offer_ids), None)


def wait_for(condition, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


# --- the endpoint -------------------------------------------------------------------------


def test_a_forged_or_unsigned_push_is_refused_401_and_changes_nothing(
    client, watched, settings, redis_conn
):
    offer_id, _skus = watched
    message = product_message(9001, offer_id)
    url = reverse("push_1688")
    forged = signed(message, "not-the-secret")
    assert client.post(url, forged).status_code == 401
    unsigned = {"message": json.dumps(message)}
    assert client.post(url, unsigned).status_code == 401
    tampered = signed(message, settings.OPEN1688_APP_SECRET)
    tampered["message"] = tampered["message"].replace("modify", "new")
    assert client.post(url, tampered).status_code == 401
    assert not PushMessage.objects.exists()
    assert redis_conn.llen("rq:queue:default") == 0


@pytest.mark.django_db(transaction=True)  # the re-read is queued on commit
def test_a_signed_push_is_stored_once_and_queues_one_reread(client, watched, settings):
    offer_id, _skus = watched
    message = product_message(9002, offer_id)
    form = signed(message, settings.OPEN1688_APP_SECRET)
    first = client.post(reverse("push_1688"), form)
    assert first.status_code == 200 and first.json() == {"success": True}
    again = client.post(reverse("push_1688"), form)  # at-least-once: the same msgId again
    assert again.status_code == 200
    stored = PushMessage.objects.get()
    assert (stored.msg_id, stored.channel, stored.offer_ids) == (9002, "push_http", [offer_id])
    assert stored.raw["data"]["productIds"] == str(offer_id) and stored.processed_at
    queue = watch.django_rq.get_queue("default")
    assert [job.args[0] for job in queue.jobs] == [offer_id]  # one re-read, not two


@pytest.mark.parametrize(
    "form",
    [
        {"message": "not json"},
        {"message": json.dumps({"type": "X"})},  # no msgId
        {"message": json.dumps({"msgId": "abc", "type": "X"})},
        {"message": json.dumps([1, 2])},
    ],
)
def test_a_signed_push_that_is_not_a_message_is_400(client, db, settings, form):
    answer = client.post(
        reverse("push_1688"), signed(form["message"], settings.OPEN1688_APP_SECRET)
    )
    assert answer.status_code == 400
    assert not PushMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_nul_characters_in_a_signed_push_are_dropped(client, settings):
    message = product_message(9100, 1)
    message["data"]["action"] = "mod\x00ify"
    message["userInfo"] = "b2b-\x00x"
    answer = client.post(reverse("push_1688"), signed(message, settings.OPEN1688_APP_SECRET))
    assert answer.status_code == 200
    stored = PushMessage.objects.get()
    assert stored.user_info == "b2b-x" and stored.raw["data"]["action"] == "modify"


def test_the_endpoint_answers_only_post(client, db):
    assert client.get(reverse("push_1688")).status_code == 405


# --- end to end: the sandbox pushes to the running app --------------------------------------


@pytest.fixture
def pushed_to(sandbox, live_server, settings):
    """The sandbox delivering this app's pushes over HTTP to the live test server."""

    def configure(**switches):
        body = {
            "app_key": settings.OPEN1688_APP_KEY,
            "url": live_server.url + reverse("push_1688"),
            **switches,
        }
        return sandbox.control("push", body)

    return configure


@pytest.mark.django_db(transaction=True)
def test_a_change_arrives_by_http_push_and_is_logged_within_seconds(sandbox, watched, pushed_to):
    offer_id, skus = watched
    pushed_to()
    started = time.monotonic()
    new_price = set_price(sandbox, offer_id, skus[0])
    message = wait_for(lambda: message_for(offer_id))
    assert message.channel == Channel.PUSH_HTTP and message.topic == push.PRODUCT_CHANGE
    run_worker("default")
    row = PriceStockChange.objects.get(watched_offer__offer_id=offer_id)
    elapsed = time.monotonic() - started
    assert (row.field, row.remote_sku_id, str(row.new_value)) == (
        "price",
        skus[0].sku_id,
        new_price,
    )
    assert elapsed < 10, elapsed
    assert WatchedOffer.objects.get(offer_id=offer_id).last_change_channel == Channel.PUSH_HTTP
    print(f"push HTTP: mutation to change row in {elapsed:.2f} s")


@pytest.mark.django_db(transaction=True)
def test_duplicated_and_reordered_pushes_write_each_change_once(sandbox, watched, pushed_to):
    offer_id, skus = watched
    pushed_to(duplicate=1.0, reorder=True)  # every message twice, each round newest first
    set_price(sandbox, offer_id, skus[0])
    sandbox.control(
        "offers/update", {"product_id": offer_id, "sku_stock": {str(skus[1].sku_id): 3}}
    )
    wait_for(lambda: PushMessage.objects.exists())
    wait_for(lambda: (state := sandbox.get("push"))["confirmed"] == state["messages"])
    time.sleep(0.5)  # let the last duplicate arrive
    run_worker("default")
    rows = PriceStockChange.objects.filter(watched_offer__offer_id=offer_id)
    assert sorted((r.field, r.remote_sku_id) for r in rows) == sorted(
        [("price", skus[0].sku_id), ("stock", skus[1].sku_id)]
    )
    assert sandbox.get("push")["sent"] > PushMessage.objects.count()  # duplicates were sent


@pytest.mark.django_db(transaction=True)
def test_an_older_message_arriving_late_is_served_from_the_cache(sandbox, watched, client):
    """Out of order: the newer message's re-read already saw the change, so the older one's
    re-read reads the cache (no request) and writes nothing."""
    offer_id, skus = watched
    born_before = int(time.time() * 1000)
    time.sleep(0.05)
    set_price(sandbox, offer_id, skus[0])
    secret = watch.settings.OPEN1688_APP_SECRET
    client.post(reverse("push_1688"), signed(product_message(501, offer_id), secret))
    run_worker("default")
    assert PriceStockChange.objects.count() == 1
    sandbox.reset_stats()
    late = product_message(500, offer_id, born_ms=born_before)
    client.post(reverse("push_1688"), signed(late, secret))
    run_worker("default")
    assert PriceStockChange.objects.count() == 1
    assert sandbox.calls().get("product.search.queryProductDetail", 0) == 0


@pytest.mark.django_db(transaction=True)
def test_with_push_off_the_scheduled_poll_logs_the_change(sandbox, watched, pushed_to, settings):
    from datetime import timedelta

    offer_id, skus = watched
    pushed_to(enabled=False)
    watch.forget_cached(offer_id)  # the read made when watching would still be cached
    new_price = set_price(sandbox, offer_id, skus[0])
    time.sleep(0.6)
    assert not PushMessage.objects.exists()  # nothing was delivered
    result = watch.poll_due(interval=timedelta(0))
    assert result.offers == 1 and result.changes == 1
    row = PriceStockChange.objects.get()
    assert str(row.new_value) == new_price
    assert WatchedOffer.objects.get().last_change_channel == Channel.POLL


@pytest.mark.django_db(transaction=True)
def test_missed_messages_are_replayed_with_the_cursor_api(sandbox, watched, pushed_to):
    offer_id, skus = watched
    pushed_to(enabled=False)  # the sandbox keeps messages; nothing is delivered
    set_price(sandbox, offer_id, skus[0])
    wait_for(lambda: sandbox.get("push")["messages"] >= 1)
    result = push.replay()
    assert result.messages >= 1 and result.rereads >= 1 and not result.error
    run_worker("default")
    assert PriceStockChange.objects.filter(watched_offer__offer_id=offer_id).count() == 1
    assert push.replay().messages == 0  # the cursor API confirmed what it returned
    assert message_for(offer_id).channel == Channel.REPLAY


@pytest.mark.django_db(transaction=True)
def test_query_replay_pages_without_confirming_until_confirmed(sandbox, watched, pushed_to):
    from catalog.shops.clients import make_client

    offer_id, skus = watched
    pushed_to(enabled=False)
    set_price(sandbox, offer_id, skus[0])
    wait_for(lambda: sandbox.get("push")["messages"] >= 1)
    with make_client() as api:
        messages, total = api.query_messages(page=1, page_size=20)
        assert total == len(messages) >= 1
        assert str(offer_id) in messages[0]["data"]["productIds"]
        again, _total = api.query_messages()
        assert [m["msgId"] for m in again] == [m["msgId"] for m in messages]  # not confirmed
        api.confirm_messages([m["msgId"] for m in messages])
        assert api.query_messages() == ([], 0)
        assert api.cursor_messages() == []


@pytest.mark.django_db(transaction=True)
def test_a_push_the_app_did_not_accept_is_sent_again(sandbox, watched, pushed_to, live_server):
    offer_id, skus = watched
    pushed_to(url=live_server.url + "/push/1688/wrong/")  # answered 404: not delivered
    set_price(sandbox, offer_id, skus[0])
    wait_for(lambda: sandbox.get("push")["sent"] >= 1)
    assert sandbox.get("push")["confirmed"] == 0 and not PushMessage.objects.exists()
    pushed_to()  # the right address: the unconfirmed message comes again (after 3 s)
    wait_for(lambda: message_for(offer_id), 15)
    run_worker("default")
    assert PriceStockChange.objects.filter(watched_offer__offer_id=offer_id).count() == 1
