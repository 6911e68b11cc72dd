"""Buyer-side APIs of the sandbox over raw HTTP: the buyer detail of any seller's offer (while
product.get stays own-offers-only), follow / unfollow, keyword ranking, image hashing."""

import io
import json

from PIL import Image
from publishing_kit import add_legacy, instant_audit, ready_seller
from sandbox_client import APP_KEY, CROSSBORDER, DEMO_SELLER

from sandbox.world import images

OTHER = "b2b-2200000077"


def seed(gateway) -> list[int]:
    gateway.control(
        "POST", "/_sandbox/sellers", member_id=OTHER, login_id="factory77", name="源头厂"
    )
    answer = gateway.control("POST", "/_sandbox/seed", member_id=OTHER, count=30, seed=3)
    return answer["product_ids"]


def detail(gateway, offer_id, token, **extra) -> dict:
    query = {"offerId": offer_id, "country": "en", **extra}
    answer = gateway.call(
        "product.search.queryProductDetail",
        {"offerDetailParam": json.dumps(query)},
        namespace=CROSSBORDER,
        token=token,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def own_view(gateway, offer_id) -> dict:
    answer = gateway.call(
        "alibaba.product.get", {"productID": offer_id}, token=gateway.token(OTHER)
    )
    return answer.json()


def test_buyer_detail_reads_another_sellers_offer_that_product_get_refuses(gateway):
    ids = seed(gateway)
    buyer = gateway.token(DEMO_SELLER)
    refused = gateway.call("alibaba.product.get", {"productID": ids[0]}, token=buyer).json()
    assert refused["success"] is False and refused["errorCode"] == "PRODUCT_NOT_EXIST"

    body = detail(gateway, ids[0], buyer)
    assert body["success"] == "true"
    offer = body["result"]
    info = own_view(gateway, ids[0])["productInfo"]
    assert offer["offerId"] == ids[0] and offer["subject"] == info["subject"]
    assert offer["categoryId"] == info["categoryID"]
    sale = offer["productSaleInfo"]
    assert sale["quoteType"] == info["saleInfo"]["quoteType"]
    tiers = info["saleInfo"].get("priceRanges") or []
    assert sale["priceRangeList"] == [
        {"startQuantity": t["startQuantity"], "price": f"{t['price']:.2f}"} for t in tiers
    ]
    skus = offer["productSkuInfos"]
    assert [s["skuId"] for s in skus] == [s["skuId"] for s in info.get("skuInfos") or []]
    for sku in skus:
        assert sku["price"] is None or isinstance(sku["price"], str)
        assert {"attributeId", "attributeName", "value"} <= set(sku["skuAttributes"][0])
    assert offer["sellerMemberId"] == OTHER and offer["companyName"] == "源头厂"
    assert offer["sellerOpenId"] and offer["sellerDataInfo"]["tradeMedalLevel"]
    assert offer["productImage"]["images"][0].startswith(gateway.base_url + "/img/")


def test_buyer_detail_errors(gateway):
    ids = seed(gateway)
    buyer = gateway.token(DEMO_SELLER)
    # the refusal a practitioner recorded for a missing offer
    assert detail(gateway, 1, buyer) == {
        "success": False,
        "code": "SP0056",
        "message": "商品不存在",
    }
    assert detail(gateway, "abc", buyer)["code"] == "PARAM_INVALID"
    no_country = detail(gateway, ids[0], buyer, country="")
    assert no_country["code"] == "PARAM_INVALID" and "country" in no_country["message"]
    gateway.control("POST", "/_sandbox/offers/update", product_id=ids[0], status="member deleted")
    assert detail(gateway, ids[0], buyer)["code"] == "SP0056"
    missing = gateway.call(
        "product.search.queryProductDetail", {}, namespace=CROSSBORDER, token=buyer
    )
    assert missing.json()["error_code"] == "gw.ParamMissing"


def follows(gateway, member_id=None) -> list[int]:
    query = f"?app_key={APP_KEY}" + (f"&member_id={member_id}" if member_id else "")
    rows = gateway.control("GET", "/_sandbox/follows" + query)["follows"]
    return [(row["member_id"], row["product_id"]) for row in rows]


def test_follow_and_unfollow_per_member(gateway):
    ids = seed(gateway)
    buyer = gateway.token(DEMO_SELLER)
    for offer_id in (ids[0], ids[1], ids[0]):
        answer = gateway.call("alibaba.product.follow", {"productId": offer_id}, token=buyer)
        assert answer.json() == {"code": 0, "message": "success"}
    other_buyer = gateway.token(OTHER)
    gateway.call("alibaba.product.follow", {"productId": ids[2]}, token=other_buyer)
    assert follows(gateway, DEMO_SELLER) == [(DEMO_SELLER, ids[0]), (DEMO_SELLER, ids[1])]
    gateway.call("alibaba.product.unfollow", {"productId": ids[0]}, token=buyer)
    assert follows(gateway) == [(DEMO_SELLER, ids[1]), (OTHER, ids[2])]
    unknown = gateway.call("alibaba.product.follow", {"productId": 5}, token=buyer).json()
    assert unknown["code"] == "PRODUCT_NOT_EXIST"
    gateway.control("POST", "/_sandbox/reset")
    assert follows(gateway) == []


def search(gateway, query: dict) -> dict:
    query = {"country": "en", **query}  # required (docs/protocol.md)
    answer = gateway.call(
        "product.search.keywordQuery",
        {"offerQueryParam": json.dumps(query, ensure_ascii=False)},
        namespace=CROSSBORDER,
        token=gateway.token(),
    )
    return answer.json()["result"]


def publish(gateway, seller, subject: str, cargo: str) -> int:
    """A 连衣裙 offer the strict add accepts (tests/sandbox/publishing_kit.py)."""
    answer = add_legacy(
        gateway,
        seller,
        cargo=cargo,
        categoryID="1031918",  # a leaf with 女式T恤's attributes
        subject=subject,
        saleInfo=json.dumps(
            {"priceRanges": [{"startQuantity": 1, "price": "19.90"}], "amountOnSale": 9}
        ),
    )
    assert answer["success"] is True, answer
    return answer["productID"]


def test_keyword_ranking_puts_whole_word_matches_before_piece_matches(gateway):
    seed(gateway)  # 30 offers of another seller around them
    instant_audit(gateway, APP_KEY)  # search finds published offers only
    other = ready_seller(gateway, gateway.token(OTHER))
    piece_a = publish(gateway, other, "碎花半身裙 百搭", "RK-1")
    whole = publish(gateway, other, "沙箱独家碎花裙 夏季", "RK-2")
    piece_b = publish(gateway, other, "独家定制 玻璃杯", "RK-3")
    result = search(gateway, {"keyword": "独家碎花", "pageSize": 50})["result"]
    ids = [offer["offerId"] for offer in result["data"]]
    assert ids[0] == whole  # the whole word first, though the newest and unsold
    assert piece_a in ids and piece_b in ids  # two-character pieces match too
    # Each word scores: 玻璃杯 whole (3) and its pieces 玻璃, 璃杯 (1 each) beat 碎花 alone (3).
    two_words = search(gateway, {"keyword": "碎花 玻璃杯", "pageSize": 50})["result"]
    found = [offer["offerId"] for offer in two_words["data"]]
    assert found[0] == piece_b and set(found) >= {piece_a, whole}


def test_keyword_search_needs_country(gateway):
    seed(gateway)
    refused = search(gateway, {"keyword": "女", "country": ""})
    assert refused["success"] == "false" and "country" in refused["message"]


def offer_ids(result: dict) -> list[int]:
    return [offer["offerId"] for offer in result["result"]["data"]]


def test_keyword_documented_filter_codes_and_sales_narrow_the_results(gateway):
    seed(gateway)
    everything = search(gateway, {"keyword": "女", "pageSize": 50})
    total = everything["result"]["totalRecords"]
    for code in ("shipIn48Hours", "certifiedFactory", "1688Selection"):
        narrowed = search(gateway, {"keyword": "女", "pageSize": 50, "filter": code})
        assert 0 < narrowed["result"]["totalRecords"] < total, code
        assert set(offer_ids(narrowed)) <= set(offer_ids(everything))
    both = search(
        gateway, {"keyword": "女", "pageSize": 50, "filter": "shipIn48Hours,certifiedFactory"}
    )
    assert both["result"]["totalRecords"] <= narrowed["result"]["totalRecords"]
    sold = [offer["monthSold"] for offer in everything["result"]["data"]]
    floor = sorted(sold)[len(sold) // 2]
    sales = [{"saleType": "sales30", "saleStart": floor}]
    busy = search(gateway, {"keyword": "女", "pageSize": 50, "saleFilterList": sales})
    assert busy["result"]["data"] and all(o["monthSold"] >= floor for o in busy["result"]["data"])
    assert busy["result"]["totalRecords"] < total


def test_keyword_undocumented_filters_are_ignored(gateway):
    """The record lists the filter codes but not what an unknown one does: the sandbox ignores
    it (the invented minOrderQuantity:N among them), never refusing a search for it."""
    seed(gateway)
    everything = search(gateway, {"keyword": "女", "pageSize": 50})
    for codes in ("minOrderQuantity:2", "unknownCode", "minOrderQuantity:x"):
        same = search(gateway, {"keyword": "女", "pageSize": 50, "filter": codes})
        assert same["success"] == "true" and offer_ids(same) == offer_ids(everything)
    odd = search(gateway, {"keyword": "女", "saleFilterList": [{"saleType": "sales99"}]})
    assert odd["success"] == "true"
    assert search(gateway, {"keyword": "女\x00'; DROP TABLE offers"})["success"] == "true"


def test_average_hash_survives_resize_and_recompression():
    path = "img/ibank/2026/001/002/3971714299_420783022.jpg"
    data, _ = images.render(path)
    for size, fmt, quality in (((120, 90), "JPEG", 35), ((800, 800), "WEBP", 30)):
        buffer = io.BytesIO()
        Image.open(io.BytesIO(data)).resize(size).save(buffer, format=fmt, quality=quality)
        assert images.average_hash(buffer.getvalue()) == images.pattern_for_path(path)
