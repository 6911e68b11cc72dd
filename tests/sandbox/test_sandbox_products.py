"""Seller product APIs: list.get, get, add, edit, modifyStock, expire; seeding and mutating."""

import json
import re
import threading
from decimal import Decimal

import pytest
from publishing_kit import CARGO_ATTRIBUTE, add_legacy, instant_audit, legacy_fields, tee_sku
from sandbox_client import APP_KEY, DEMO_SELLER, SandboxClient

TIME_1688 = re.compile(r"\d{17}\+0800")


def page(gateway, token, **params) -> dict:
    answer = gateway.call("alibaba.product.list.get", params, token=token)
    assert answer.status_code == 200, answer.text
    body = answer.json()["result"]
    assert body["success"] is True, body
    return body["result"]["pageResult"]


def product(gateway, token, product_id) -> dict:
    answer = gateway.call(
        "alibaba.product.get", {"productID": product_id, "webSite": "1688"}, token=token
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def seeded(gateway):
    ids = gateway.control("POST", "/_sandbox/seed", member_id=DEMO_SELLER, count=45, seed=7)
    return ids["product_ids"]


def test_list_pages_by_id_and_cuts_page_size_to_20(gateway, seeded):
    token = gateway.token()
    first = page(gateway, token, pageNo=1, pageSize=50)
    assert first["sizePerPage"] == 20
    assert first["totalRecords"] == 45
    third = page(gateway, token, pageNo=3, pageSize=20)
    assert third["pageIndex"] == 3
    seen = [
        item["productID"]
        for p in (1, 2, 3)
        for item in page(gateway, token, pageNo=p)["resultList"]
    ]
    assert seen == sorted(seeded)


def test_list_items_carry_no_skus_prices_or_stock(gateway, seeded):
    item = page(gateway, gateway.token())["resultList"][0]
    assert {
        "productID",
        "subject",
        "status",
        "categoryID",
        "image",
        "createTime",
        "lastUpdateTime",
    } <= set(item)
    assert not {"skuInfos", "saleInfo", "priceRanges", "amountOnSale"} & set(item)
    assert TIME_1688.fullmatch(item["lastUpdateTime"])
    assert item["image"]["images"][0].startswith("img/ibank/")


def test_list_modify_window_is_inclusive_start_exclusive_end(gateway, seeded):
    token = gateway.token()
    updated = [
        gateway.control("POST", "/_sandbox/offers/update", product_id=pid, status="published")
        for pid in seeded[:3]
    ]
    stamps = [entry["lastUpdateTime"] for entry in updated]
    assert stamps == sorted(set(stamps))  # strictly increasing, even within one millisecond
    window = page(gateway, token, startModifyTime=stamps[0], endModifyTime=stamps[2])
    assert [item["productID"] for item in window["resultList"]] == seeded[:2]
    # The 14-digit form is accepted too (second precision).
    wide = page(gateway, token, startModifyTime=stamps[0][:14] + "+0800")
    assert {item["productID"] for item in wide["resultList"]} >= set(seeded[:3])


def test_list_filters_by_cargo_number_status_and_ids(gateway, seeded):
    token = gateway.token()
    detail = product(gateway, token, seeded[0])["productInfo"]
    cargo = detail.get("cargoNumber") or "none"
    by_cargo = page(gateway, token, cargoNumber=cargo)["resultList"]
    assert [item["productID"] for item in by_cargo] == ([seeded[0]] if cargo != "none" else [])
    gateway.control(
        "POST", "/_sandbox/offers/update", product_id=seeded[1], status="member deleted"
    )
    deleted = page(gateway, token, statusList=json.dumps(["member deleted"]))["resultList"]
    assert [item["productID"] for item in deleted] == [seeded[1]]
    chosen = page(gateway, token, productIds=json.dumps(seeded[5:8]))["resultList"]
    assert [item["productID"] for item in chosen] == seeded[5:8]
    newest = page(gateway, token, orderByCondition="ID", orderByType="DESC")["resultList"]
    assert newest[0]["productID"] == seeded[-1]


def test_list_only_shows_the_tokens_seller(gateway, seeded):
    gateway.control("POST", "/_sandbox/sellers", member_id="b2b-2200000002", login_id="other")
    other = gateway.token("b2b-2200000002")
    assert page(gateway, other)["totalRecords"] == 0


def test_bad_list_parameter_is_a_business_error(gateway):
    answer = gateway.call(
        "alibaba.product.list.get", {"startModifyTime": "yesterday"}, token=gateway.token()
    )
    assert answer.status_code == 200
    assert answer.json()["result"]["success"] is False
    assert answer.json()["result"]["code"] == "PARAM_INVALID"


def test_get_answers_product_info_and_top_level_times(gateway, seeded):
    detail = product(gateway, gateway.token(), seeded[0])
    assert detail["success"] is True
    assert set(detail) >= {
        "productInfo",
        "createTime",
        "lastUpdateTime",
        "expireTime",
        "bizGroupInfos",
    }
    info = detail["productInfo"]
    assert info["productID"] == seeded[0]
    assert 1 <= len(info["skuInfos"]) <= 12
    sku = info["skuInfos"][0]
    assert re.fullmatch(r"[0-9a-f]{32}", sku["specId"])
    assert {a["attributeName"] for a in sku["attributes"]} & {"颜色"}
    assert info["saleInfo"]["unit"] in ("件", "个", "套")
    assert info["saleInfo"]["priceRanges"][0]["price"] > 0


def test_get_of_an_unknown_offer_is_product_not_exist(gateway):
    detail = product(gateway, gateway.token(), 123)
    assert detail == {
        "success": False,
        "errorCode": "PRODUCT_NOT_EXIST",
        "errorMsg": detail["errorMsg"],
    }


def add_changes(cargo: str = "UP-0001", **overrides) -> dict:
    """A T-shirt of two SKUs (19.90 × 10, 21.30 × 5) with 货号 `cargo`, in the form fields the
    strict add takes (tests/sandbox/publishing_kit.py); `overrides` are form values as sent."""
    skus = [tee_sku("白色", "M", "19.90", 10), tee_sku("黑色", "M", "21.30", 5)]
    sale = {
        "priceRanges": [
            {"startQuantity": 1, "price": "19.90"},
            {"startQuantity": 50, "price": "17.5"},
        ],
        "unit": "件",
        "minOrderQuantity": 1,
    }
    return {
        "cargo": cargo,
        "productType": "wholesale",
        "subject": "2026新款韩版宽松纯棉短袖T恤女 夏季百搭上衣",
        "description": "<p>纯棉</p>",
        "language": "CHINESE",
        "webSite": "1688",
        "saleInfo": json.dumps(sale),
        "skuInfos": json.dumps(skus, ensure_ascii=False),
        **overrides,
    }


def add(gateway, seller, **overrides) -> dict:
    return add_legacy(gateway, seller, **add_changes(**overrides))


def cargo_attribute(info: dict) -> list:
    return [a["value"] for a in info["attributes"] if a["attributeID"] == CARGO_ATTRIBUTE]


def test_add_creates_an_offer_that_get_reads_back(gateway, seller):
    instant_audit(gateway, APP_KEY)  # the strict add, decided at once
    token = seller.token
    created = add(gateway, seller)
    assert created["success"] is True and created["errorMsg"] is None
    assert created["productID"] > 600_000_000_000
    info = product(gateway, token, created["productID"])["productInfo"]
    assert info["status"] == "published"
    assert cargo_attribute(info) == ["UP-0001"]  # 货号 is attribute 1398, read back
    assert [Decimal(str(sku["price"])) for sku in info["skuInfos"]] == [
        Decimal("19.90"),
        Decimal("21.30"),
    ]
    assert info["saleInfo"]["amountOnSale"] == 15
    assert len({sku["skuId"] for sku in info["skuInfos"]}) == 2
    found = page(gateway, token, cargoNumber="UP-0001")["resultList"]
    assert [item["productID"] for item in found] == [created["productID"]]


def test_add_validates_subject_category_and_json(gateway, seller):
    assert add(gateway, seller, subject="")["errorCode"] == "SUBJECT_REQUIRED"
    assert add(gateway, seller, subject="长" * 129)["errorCode"] == "SUBJECT_TOO_LONG"
    assert add(gateway, seller, categoryID="abc")["errorCode"] == "CATEGORY_INVALID"
    broken = add(gateway, seller, skuInfos="[{not json")
    assert broken["success"] is False and broken["errorCode"] == "PARAM_INVALID"
    assert "skuInfos" in broken["errorMsg"]


def test_edit_changes_fields_keeps_sku_ids_and_moves_the_modify_time(gateway, seller):
    token = seller.token
    product_id = add(gateway, seller)["productID"]
    before = product(gateway, token, product_id)
    skus = before["productInfo"]["skuInfos"]
    skus[0]["price"] = 18.8
    answer = gateway.call(
        "alibaba.product.edit",
        {"productID": product_id, "subject": "改过的标题", "skuInfos": json.dumps(skus)},
        token=token,
    )
    assert answer.json() == {"success": True}
    after = product(gateway, token, product_id)
    assert after["productInfo"]["subject"] == "改过的标题"
    assert [s["skuId"] for s in after["productInfo"]["skuInfos"]] == [s["skuId"] for s in skus]
    assert after["productInfo"]["skuInfos"][0]["price"] == 18.8
    assert after["lastUpdateTime"] > before["lastUpdateTime"]


def test_modify_stock_adds_or_sets(gateway, seller):
    token = seller.token
    product_id = add(gateway, seller)["productID"]
    sku = product(gateway, token, product_id)["productInfo"]["skuInfos"][0]
    # The per-SKU key is skuId but must carry the specId (docs/sandbox-control.md).
    change = [{"productId": product_id, "skuStocks": [{"skuId": sku["specId"], "stockChange": 7}]}]
    params = {"productStockChange": json.dumps(change), "webSite": "1688"}
    assert gateway.call("alibaba.product.modifyStock", params, token=token).json() == {
        "success": True
    }
    assert product(gateway, token, product_id)["productInfo"]["skuInfos"][0]["amountOnSale"] == 17
    params["increaceModify"] = "false"
    gateway.call("alibaba.product.modifyStock", params, token=token)
    info = product(gateway, token, product_id)["productInfo"]
    assert info["skuInfos"][0]["amountOnSale"] == 7
    assert info["saleInfo"]["amountOnSale"] == 12


def test_expire_makes_offers_outdated(gateway, seller):
    token = seller.token
    product_id = add(gateway, seller)["productID"]
    answer = gateway.call(
        "alibaba.product.expire", {"productIds": json.dumps([product_id])}, token=token
    )
    assert answer.json() == {"success": True}
    assert product(gateway, token, product_id)["productInfo"]["status"] == "outdated"


def test_mutate_reports_and_applies_changes(gateway, seeded):
    token = gateway.token()
    published = {
        item["productID"]: item
        for item in page(gateway, token, pageSize=20, statusList='["published"]')["resultList"]
    }
    report = gateway.control(
        "POST", "/_sandbox/mutate", member_id=DEMO_SELLER, seed=3, price=3, stock=2, new=2, delist=1
    )
    assert len(report["price_changed"]) == 3 and len(report["stock_changed"]) == 2
    assert len(report["created"]) == 2 and len(report["delisted"]) == 1
    assert page(gateway, token)["totalRecords"] == 47
    delisted = product(gateway, token, report["delisted"][0])
    assert delisted["productInfo"]["status"] == "member deleted"
    for product_id in report["price_changed"]:
        if product_id in published:
            assert (
                product(gateway, token, product_id)["lastUpdateTime"]
                > published[product_id]["lastUpdateTime"]
            )


def test_mutate_by_fraction(gateway, seeded):
    report = gateway.control(
        "POST", "/_sandbox/mutate", member_id=DEMO_SELLER, fraction=0.1, seed=1
    )
    assert len(report["price_changed"]) == len(report["stock_changed"]) >= 4


def test_precise_update_changes_one_sku(gateway, seeded):
    token = gateway.token()
    sku = product(gateway, token, seeded[0])["productInfo"]["skuInfos"][0]
    gateway.control(
        "POST",
        "/_sandbox/offers/update",
        product_id=seeded[0],
        sku_prices={str(sku["skuId"]): "12.30"},
        sku_stock={str(sku["skuId"]): 5},
    )
    changed = product(gateway, token, seeded[0])["productInfo"]["skuInfos"][0]
    assert (Decimal(str(changed["price"])), changed["amountOnSale"]) == (Decimal("12.30"), 5)


def test_control_offer_listing_finds_by_cargo_number(gateway, seller):
    assert add(gateway, seller, cargo="UP-XYZ")["success"] is True
    offers = gateway.control("GET", "/_sandbox/offers?member_id=b2b-demo001&cargo_number=UP-XYZ")
    assert [offer["cargoNumber"] for offer in offers["offers"]] == ["UP-XYZ"]


def test_concurrent_adds_get_distinct_ids_and_stamps(gateway, seller):
    token, photo, template, address = seller
    results: list[dict] = []

    def publish(worker: int) -> None:
        client = SandboxClient(gateway.base_url)
        for index in range(5):
            changes = add_changes(cargo=f"CC-{worker}-{index}")
            params = legacy_fields(photo, template, address, **changes)
            results.append(client.call("alibaba.product.add", params, token=token).json())

    threads = [threading.Thread(target=publish, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result["success"] for result in results), results
    ids = [result["productID"] for result in results]
    assert len(set(ids)) == 30
    listed = page(gateway, token, productIds=json.dumps(ids[:20]))["resultList"]
    stamps = [item["lastUpdateTime"] for item in listed]
    assert len(set(stamps)) == len(stamps)


def test_a_later_seed_adds_offers_modified_now(gateway, seeded):
    token = gateway.token()
    before = gateway.call("currentTime", namespace="system").json()["result"]
    later = gateway.control("POST", "/_sandbox/seed", member_id=DEMO_SELLER, count=5, seed=8)
    window = page(gateway, token, startModifyTime=before)["resultList"]
    assert [item["productID"] for item in window] == later["product_ids"]
