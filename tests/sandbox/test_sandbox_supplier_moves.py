"""A supplier's offer moves (POST /_sandbox/offers/move): what the buyer detail answers after
it, and the messages 1688 sends its followers, delivered over HTTP push (checked with a
signature computed here) and the WebSocket channel, and kept for replay."""

import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sandbox_client import APP_KEY, APP_SECRET, CROSSBORDER, DEMO_SELLER
from websockets.sync.client import connect

SUPPLIER = "b2b-2200000088"
PUSH = "cn.alibaba.open"
CHANGE = "PRODUCT_RELATION_VIEW_PRODUCT_CHANGE"
INVENTORY = "PRODUCT_PRODUCT_INVENTORY_CHANGE"
EXPIRE = "PRODUCT_RELATION_VIEW_PRODUCT_EXPIRE"
DELETE = "PRODUCT_RELATION_VIEW_PRODUCT_DELETE"
REPOST = "PRODUCT_RELATION_VIEW_PRODUCT_REPOST"


def wait_for(condition, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def cents(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture
def offers(gateway) -> dict[str, int]:
    """A supplier's offers by shape: priced per SKU with SKU tiers, tiers only (SKUs without a
    price), no SKUs."""
    gateway.control("POST", "/_sandbox/sellers", member_id=SUPPLIER, name="温州鞋厂")
    ids = gateway.control("POST", "/_sandbox/seed", member_id=SUPPLIER, count=40, seed=7)
    token = gateway.token(SUPPLIER)
    found: dict[str, int] = {}
    for offer_id in ids["product_ids"]:
        info = gateway.call("alibaba.product.get", {"productID": offer_id}, token=token).json()
        info = info["productInfo"]
        skus = info.get("skuInfos") or []
        if info["status"] != "published":
            continue
        if len(skus) > 1 and all(s.get("priceRange") for s in skus):
            found.setdefault("sku_tiers", offer_id)
        elif len(skus) > 1 and all(s.get("price") is None for s in skus):
            found.setdefault("tiers_only", offer_id)
        elif not skus:
            found.setdefault("no_skus", offer_id)
    assert set(found) == {"sku_tiers", "tiers_only", "no_skus"}, found
    return found


def detail(gateway, offer_id: int) -> dict:
    query = json.dumps({"offerId": offer_id, "country": "en"})
    answer = gateway.call(
        "product.search.queryProductDetail",
        {"offerDetailParam": query},
        namespace=CROSSBORDER,
        token=gateway.token(DEMO_SELLER),
    )
    return answer.json()["result"]


def follow(gateway, *offer_ids: int) -> None:
    token = gateway.token(DEMO_SELLER)
    for offer_id in offer_ids:
        answer = gateway.call("alibaba.product.follow", {"productId": offer_id}, token=token)
        assert answer.json()["code"] == 0


# --- what the buyer detail answers -----------------------------------------------------------


def test_a_price_factor_moves_every_tier_sku_price_and_sku_tier(gateway, offers):
    offer_id = offers["sku_tiers"]
    before = detail(gateway, offer_id)["result"]
    moved = gateway.move_offer(offer_id, price_factor="1.10")
    after = detail(gateway, offer_id)["result"]
    tiers = before["productSaleInfo"]["priceRangeList"]
    assert after["productSaleInfo"]["priceRangeList"] == [
        {"startQuantity": t["startQuantity"], "price": str(cents(Decimal(t["price"]) * 11 / 10))}
        for t in tiers
    ]
    old_prices = [Decimal(s["price"]) for s in before["productSkuInfos"]]
    new_prices = [Decimal(s["price"]) for s in after["productSkuInfos"]]
    assert new_prices == [cents(p * Decimal("1.10")) for p in old_prices]
    assert [s["price"] for s in moved["skus"]] == [float(p) for p in new_prices]
    for sku in moved["skus"]:  # a SKU's own tiers move with it
        assert sku["priceRange"][0]["price"] == sku["price"]
    assert moved["status"] == "published" and moved["productID"] == offer_id


def test_a_drop_by_yuan_never_goes_below_a_cent_and_tiers_can_be_replaced(gateway, offers):
    offer_id = offers["tiers_only"]
    gateway.move_offer(offer_id, price_delta="-100000")
    tiers = detail(gateway, offer_id)["result"]["productSaleInfo"]["priceRangeList"]
    assert {t["price"] for t in tiers} == {"0.01"}
    gateway.move_offer(
        offer_id,
        price_ranges=[{"startQuantity": 2, "price": "30"}, {"startQuantity": 50, "price": "27.5"}],
    )
    after = detail(gateway, offer_id)["result"]
    assert after["productSaleInfo"]["priceRangeList"] == [
        {"startQuantity": 2, "price": "30.00"},
        {"startQuantity": 50, "price": "27.50"},
    ]
    assert all(s["price"] is None for s in after["productSkuInfos"])  # still tiers only


def test_sku_prices_and_stock_by_sku_id_or_spec_id(gateway, offers):
    offer_id = offers["sku_tiers"]
    skus = detail(gateway, offer_id)["result"]["productSkuInfos"]
    first, second = skus[0], skus[1]
    gateway.move_offer(
        offer_id,
        sku_prices={first["specId"]: "12.30", str(second["skuId"]): 8},
        stock=50,
        sku_stock={first["specId"]: 3},
    )
    after = detail(gateway, offer_id)["result"]
    by_id = {s["skuId"]: s for s in after["productSkuInfos"]}
    assert (by_id[first["skuId"]]["price"], by_id[second["skuId"]]["price"]) == ("12.30", "8.00")
    assert by_id[first["skuId"]]["amountOnSale"] == 3
    assert all(s["amountOnSale"] == 50 for s in after["productSkuInfos"][1:])
    assert after["productSaleInfo"]["amountOnSale"] == 3 + 50 * (len(skus) - 1)


def test_sold_out_empties_every_sku_and_an_offer_without_skus_takes_stock(gateway, offers):
    gateway.move_offer(offers["sku_tiers"], sold_out=True)
    after = detail(gateway, offers["sku_tiers"])["result"]
    assert {s["amountOnSale"] for s in after["productSkuInfos"]} == {0}
    assert after["productSaleInfo"]["amountOnSale"] == 0
    moved = gateway.move_offer(offers["no_skus"], stock=17)
    assert moved["amountOnSale"] == 17 and moved["skus"] == []
    assert detail(gateway, offers["no_skus"])["result"]["productSaleInfo"]["amountOnSale"] == 17


def test_delist_relist_and_gone_as_the_buyer_reads_them(gateway, offers):
    offer_id = offers["tiers_only"]
    stamps = [gateway.move_offer(offer_id, listing="delist")["lastUpdateTime"]]
    assert detail(gateway, offer_id)["result"]["status"] == "outdated"
    stamps.append(gateway.move_offer(offer_id, listing="relist")["lastUpdateTime"])
    assert detail(gateway, offer_id)["result"]["status"] == "published"
    stamps.append(gateway.move_offer(offer_id, listing="gone")["lastUpdateTime"])
    assert detail(gateway, offer_id) == {
        "success": False,
        "code": "SP0056",
        "message": "商品不存在",
    }
    assert stamps == sorted(set(stamps))  # each move is a new modification
    refused = gateway.move_offer(offer_id, expect=409, listing="relist")
    assert "cannot be relisted" in refused["error"]


def test_moves_that_make_no_sense_are_refused_and_change_nothing(gateway, offers):
    offer_id = offers["sku_tiers"]
    before = detail(gateway, offer_id)
    assert gateway.move_offer(1, expect=404, price_factor="1.1")["error"] == "no offer 1"
    assert "no SKU" in gateway.move_offer(offer_id, expect=404, sku_stock={"nope": 1})["error"]
    assert "listing" in gateway.move_offer(offer_id, expect=400, listing="sell")["error"]
    assert "nothing to move" in gateway.move_offer(offer_id, expect=400)["error"]
    gateway.move_offer(offer_id, expect=400, price_factor="0")
    gateway.move_offer(offer_id, expect=400, price_factor="abc")
    gateway.move_offer(offer_id, expect=400, stock=-1)
    # A refusal after the prices moved in the transaction leaves them as they were.
    gateway.move_offer(offer_id, expect=404, price_factor="2", sku_prices={"nope": "1"})
    assert detail(gateway, offer_id) == before


# --- the messages --------------------------------------------------------------------------


class Receiver:
    """An HTTP push endpoint: keeps each form it is posted, answers 200."""

    def __init__(self) -> None:
        self.forms: list[dict] = []
        received = self.forms

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the stdlib's name)
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8"))
                received.append({key: values[0] for key, values in form.items()})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/push/1688/"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def envelopes(self) -> list[dict]:
        return [json.loads(form["message"]) for form in self.forms]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def by_topic(envelopes: list[dict], topic: str, offer_id: int) -> list[dict]:
    def names(envelope: dict) -> bool:
        data = envelope["data"]
        if topic == INVENTORY:
            return any(c["offerId"] == offer_id for c in data["OfferInventoryChangeList"])
        return data["productIds"] == str(offer_id)

    return [e["data"] for e in envelopes if e["type"] == topic and names(e)]


def test_every_move_reaches_a_follower_by_http_push_signed(gateway, offers, receiver):
    sku_offer, tier_offer = offers["sku_tiers"], offers["tiers_only"]
    follow(gateway, sku_offer, tier_offer)
    gateway.control("POST", "/_sandbox/push", app_key=APP_KEY, url=receiver.url)
    skus = gateway.move_offer(sku_offer, price_factor="1.10")["skus"]
    gateway.move_offer(sku_offer, sku_stock={skus[0]["specId"]: skus[0]["amountOnSale"] + 7})
    gateway.move_offer(tier_offer, listing="delist")
    gateway.move_offer(tier_offer, listing="relist")
    gateway.move_offer(tier_offer, listing="gone")
    state = wait_for(
        lambda: (s := gateway.control("GET", "/_sandbox/push"))["confirmed"] == 9 and s
    )
    assert state["messages"] == 9

    for form in receiver.forms:
        expected = hmac.new(
            APP_SECRET.encode(), ("message" + form["message"]).encode(), hashlib.sha1
        ).hexdigest()
        assert form["_aop_signature"] == expected.upper()
    envelopes = receiver.envelopes()
    assert {e["userInfo"] for e in envelopes} == {DEMO_SELLER}
    assert all(isinstance(e["msgId"], int) and e["gmtBorn"] > 0 for e in envelopes)
    assert [c["action"] for c in by_topic(envelopes, CHANGE, sku_offer)] == ["modify", "modify"]
    (inventory,) = by_topic(envelopes, INVENTORY, sku_offer)
    moves = {c["skuId"]: c for c in inventory["OfferInventoryChangeList"]}
    assert set(moves) == {skus[0]["skuId"], None}  # the SKU, and the offer as a whole
    assert moves[skus[0]["skuId"]]["quantity"] == moves[None]["quantity"] == 7
    assert moves[skus[0]["skuId"]]["skuOnSale"] == skus[0]["amountOnSale"] + 7
    assert [c["action"] for c in by_topic(envelopes, CHANGE, tier_offer)] == [
        "member_expired",
        "repost",
        "member_delete",
    ]
    (expire,) = by_topic(envelopes, EXPIRE, tier_offer)
    assert expire["status"] == "RELATION_VIEW_PRODUCT_EXPIRE"
    assert expire["memberId"] == DEMO_SELLER and expire["msgSendTime"]
    assert by_topic(envelopes, REPOST, tier_offer)[0]["status"] == "RELATION_VIEW_PRODUCT_REPOST"
    assert by_topic(envelopes, DELETE, tier_offer)[0]["status"] == "RELATION_VIEW_PRODUCT_DELETE"


def test_sold_out_reaches_a_follower_over_the_websocket(gateway, offers):
    offer_id = offers["sku_tiers"]
    follow(gateway, offer_id)
    before = {
        s["skuId"]: s["amountOnSale"]
        for s in detail(gateway, offer_id)["result"]["productSkuInfos"]
    }
    ws_url = gateway.control("POST", "/_sandbox/push", app_key=APP_KEY, websocket=True)["ws_url"]
    with connect(ws_url) as socket:
        pub_time = str(int(time.time() * 1000))
        sign = hashlib.md5((APP_SECRET + APP_KEY + pub_time).encode()).hexdigest().upper()  # noqa: S324
        hello = {"type": "CONNECT", "appKey": APP_KEY, "pubTime": pub_time, "sign": sign}
        socket.send(json.dumps(hello))
        assert json.loads(socket.recv(timeout=5))["success"] is True
        gateway.move_offer(offer_id, sold_out=True, listing="delist")
        envelopes = []
        while len(envelopes) < 3:
            frame = json.loads(socket.recv(timeout=5))
            assert frame["type"] == "SERVER_PUSH"
            envelopes.append(json.loads(frame["content"]))
            socket.send(json.dumps({"type": "CONFIRM", "relatedId": frame["id"]}))
    assert sorted(e["type"] for e in envelopes) == sorted([CHANGE, EXPIRE, INVENTORY])
    (inventory,) = by_topic(envelopes, INVENTORY, offer_id)
    changes = {c["skuId"]: c for c in inventory["OfferInventoryChangeList"]}
    had_stock = {sku_id: amount for sku_id, amount in before.items() if amount}
    assert {c: changes[c]["quantity"] for c in changes if c} == {
        sku_id: -amount for sku_id, amount in had_stock.items()
    }
    assert changes[None]["quantity"] == -sum(had_stock.values())
    assert all(c["offerOnSale"] == 0 and c["skuOnSale"] == 0 for c in changes.values())
    wait_for(
        lambda: (s := gateway.control("GET", "/_sandbox/push"))["confirmed"] == 3 == s["messages"]
    )


def test_messages_are_born_at_the_move_and_kept_for_replay(gateway, offers):
    """No delivery configured: the messages wait for the replay API, as 1688 keeps them."""
    offer_id = offers["no_skus"]
    follow(gateway, offer_id)
    assert gateway.move_offer(offers["sku_tiers"], price_factor="0.5")["messages"] == 0
    answer = gateway.move_offer(offer_id, price_factor="0.10", stock=1)
    assert answer["messages"] == 2  # the change and the stock delta, written by the move itself
    replay = gateway.call("push.cursor.messageList", {"quantity": 20}, namespace=PUSH).json()
    messages = replay["pushMessageList"]
    assert sorted(m["type"] for m in messages) == [INVENTORY, CHANGE]
    assert gateway.call("push.cursor.messageList", {"quantity": 20}, namespace=PUSH).json() == {
        "pushMessageList": []
    }
