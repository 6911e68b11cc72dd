"""The sandbox is as strict as 1688 and no stricter (docs/protocol.md, "Sandbox fidelity"):
requests built the way the official SDKs build them, currentTimeMillis, request_id in error
bodies, the list nesting switches, quoteType-2 offers and product.get of another seller."""

import hashlib
import hmac
import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from sandbox_client import APP_KEY, APP_SECRET, DEMO_SELLER

ROOT = Path(__file__).resolve().parents[2]
LIST = "alibaba.product.list.get"
GET = "alibaba.product.get"
OTHER_SELLER = "b2b-2209777001"


# --- requests shaped like the official generated Python SDK's (aop.api.base.BaseApi) ------
def sdk_style_post(base_url: str, api_uri: str, secret: str | None, **params) -> requests.Response:
    """What ``BaseApi.get_response`` sends, step by step, written here independently: only the
    truthy parameters (None, False, "" and 0 are dropped), no ``_aop_timestamp`` (its
    ``need_timestamp()`` is False for 122 of 125 APIs), every value as ``str(value)`` (so a
    boolean is ``True``), the signature = upper-hex HMAC-SHA1 over ``param2/{api_uri}/{appKey}``
    plus the sorted ``key + str(value)`` strings, a form POST with the SDK's headers."""
    sent = {key: value for key, value in params.items() if value}
    sign_path = f"param2/{api_uri}/{APP_KEY}"
    if secret is not None:
        pieces = sorted(f"{key}{value}" for key, value in sent.items())
        message = (sign_path + "".join(pieces)).encode("utf-8")
        digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha1).hexdigest()
        sent["_aop_signature"] = digest.upper()
    headers = {"Cache-Control": "no-cache", "User-Agent": "Ocean-SDK-Client"}
    return requests.post(f"{base_url}/openapi/{sign_path}", data=sent, headers=headers, timeout=10)


@pytest.fixture
def seeded(gateway):
    answer = gateway.control("POST", "/_sandbox/seed", member_id=DEMO_SELLER, count=60, seed=3)
    return answer["product_ids"]


def test_requests_built_like_the_official_python_sdk_get_answers(gateway, seeded):
    token = gateway.token()
    listed = sdk_style_post(
        gateway.base_url,
        f"1/com.alibaba.product/{LIST}",
        APP_SECRET,
        access_token=token,
        pageNo=1,
        pageSize=20,
        needDetail=True,  # sent as "True"
        supportOnlineTrade=False,  # dropped by the SDK
        subjectKey="",  # dropped by the SDK
        statusList=json.dumps(["published"]),
    )
    assert listed.status_code == 200, listed.text
    page = listed.json()["result"]["result"]["pageResult"]
    assert page["resultList"] and all(i["status"] == "published" for i in page["resultList"])

    offer_id = page["resultList"][0]["productID"]
    detail = sdk_style_post(
        gateway.base_url,
        f"1/com.alibaba.product/{GET}",
        APP_SECRET,
        access_token=token,
        productID=offer_id,
        webSite="1688",
    )
    assert detail.status_code == 200, detail.text
    assert detail.json()["productInfo"]["productID"] == offer_id

    info = detail.json()["productInfo"]
    change = {"productId": offer_id}
    if info["skuInfos"]:
        change["skuStocks"] = [{"skuId": info["skuInfos"][0]["skuId"], "amountOnSale": 3}]
    else:
        change["amountOnSale"] = 3
    stocked = sdk_style_post(
        gateway.base_url,
        "1/com.alibaba.product/alibaba.product.modifyStock",
        APP_SECRET,
        access_token=token,
        productStockChange=json.dumps([change]),
        increaceModify=True,  # the SDK's spelling of a boolean: "True"
        webSite="1688",
    )
    assert stocked.status_code == 200 and stocked.json()["success"] is True, stocked.text


@pytest.mark.parametrize("spelling", ["false", "False", '"false"'])
def test_every_spelling_of_false_is_read_as_false(gateway, seeded, spelling):
    token = gateway.token()
    info = gateway.call(GET, {"productID": seeded[0]}, token=token).json()["productInfo"]
    if info["skuInfos"]:
        target = {"skuStocks": [{"skuId": info["skuInfos"][0]["skuId"], "amountOnSale": 4}]}
    else:
        target = {"amountOnSale": 4}
    change = json.dumps([{"productId": seeded[0], **target}])
    answer = gateway.call(
        "alibaba.product.modifyStock",
        {"productStockChange": change, "increaceModify": spelling},
        token=token,
    )
    assert answer.json() == {"success": True}
    after = gateway.call(GET, {"productID": seeded[0]}, token=token).json()["productInfo"]
    stock = after["skuInfos"][0] if after["skuInfos"] else after["saleInfo"]
    assert stock["amountOnSale"] == 4  # set, not added


def test_the_php_sdks_date_pattern_parameter_is_accepted(gateway, seeded):
    answer = gateway.call(
        LIST,
        {"_aop_datePattern": "yyyyMMddHHmmssSSSZ", "startModifyTime": "20200101000000000+0800"},
        token=gateway.token(),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["result"]["pageResult"]["totalRecords"] == 60


def test_current_time_millis_is_unsigned_and_answers_epoch_ms(gateway):
    before = int(time.time() * 1000)
    answer = sdk_style_post(gateway.base_url, "1/system/currentTimeMillis", None)
    assert answer.status_code == 200, answer.text
    stamp = json.loads(answer.text)  # the SDK json-decodes the body and uses it as an int
    assert isinstance(stamp, int)
    assert before - 1000 <= stamp <= int(time.time() * 1000) + 1000
    url = f"{gateway.base_url}/openapi/param2/1/system/currentTimeMillis/{APP_KEY}"
    assert isinstance(requests.get(url, timeout=5).json(), int)


# --- request_id ----------------------------------------------------------------------------
def test_every_gateway_error_body_carries_the_request_id(gateway):
    refusals = [
        gateway.call("currentTime", namespace="system", secret="wrong"),
        gateway.call("currentTime", namespace="system", app_key="nope"),
        gateway.call(GET, token=gateway.token()),  # productID missing
        gateway.call(LIST),  # no token
        gateway.call("alibaba.product.nothing", token=gateway.token()),
    ]
    for answer in refusals:
        assert answer.status_code >= 400
        body = answer.json()
        assert body["request_id"] == answer.headers["X-Request-Id"], body
        assert body["error_code"] and body["error_message"]
    assert len({answer.json()["request_id"] for answer in refusals}) == len(refusals)


def test_a_successful_answer_is_unchanged(gateway):
    answer = gateway.call("currentTime", namespace="system")
    assert set(answer.json()) == {"result"}


# --- list nesting switches -------------------------------------------------------------------
def list_body(gateway, token, **params) -> dict:
    answer = gateway.call(LIST, params, token=token)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_default_list_shape_is_the_sdk_model_without_skus(gateway, seeded):
    assert gateway.control("GET", f"/_sandbox/switches?app_key={APP_KEY}")["effective"] == {
        "list_nesting": "result.result.pageResult",
        "list_total": "totalRecords",
        "list_skus": False,
        "strict_ownership": True,
        "denied_apis": [],
        "strict_publish": True,
        "audit_seconds": 3.0,
        "audit_reject_words": ["违禁", "假货", "高仿"],
        "audit_reject_share": 0.0,
        "list_index_lag_seconds": 0.0,
    }
    body = list_body(gateway, gateway.token())
    page = body["result"]["result"]["pageResult"]
    assert "pageResult" not in body["result"] and page["totalRecords"] == 60
    assert not {"skuInfos", "saleInfo", "productCargoNumber"} & set(page["resultList"][0])


def test_list_nesting_and_total_switch_for_every_app(gateway, seeded):
    gateway.control(
        "POST", "/_sandbox/switches", list_nesting="result.pageResult", list_total="totalCount"
    )
    body = list_body(gateway, gateway.token())
    assert "result" not in body["result"]
    page = body["result"]["pageResult"]
    assert page["totalCount"] == 60 and "totalRecords" not in page
    assert len(page["resultList"]) == 20 and body["result"]["success"] is True
    gateway.control("POST", "/_sandbox/reset")  # reset brings the defaults back
    assert gateway.control("GET", "/_sandbox/switches")["every_app"] == {}


def test_switches_per_app_leave_other_apps_alone(gateway, seeded):
    gateway.control("POST", "/_sandbox/apps", app_key="other", app_secret="o", rate_per_sec=0)
    gateway.control("POST", "/_sandbox/switches", app_key="other", list_nesting="result.pageResult")
    other_token = gateway.control(
        "POST", "/_sandbox/tokens", app_key="other", member_id=DEMO_SELLER
    )["access_token"]
    other = gateway.call(LIST, token=other_token, app_key="other", secret="o").json()
    assert "pageResult" in other["result"]
    assert "pageResult" in list_body(gateway, gateway.token())["result"]["result"]


def test_list_items_with_skus_match_the_detail(gateway, seeded):
    gateway.control("POST", "/_sandbox/switches", app_key=APP_KEY, list_skus=True)
    token = gateway.token()
    items = list_body(gateway, token, pageSize=20)["result"]["result"]["pageResult"]["resultList"]
    for item in items[:8]:
        detail = gateway.call(GET, {"productID": item["productID"]}, token=token).json()
        info = detail["productInfo"]
        assert item["skuInfos"] == info["skuInfos"]
        sale = info["saleInfo"]
        assert item["saleInfo"]["amountOnSale"] == sale["amountOnSale"]
        assert item["saleInfo"]["priceRanges"] == sale["priceRanges"]
        assert item["saleInfo"]["quoteType"] == sale["quoteType"]
        assert item.get("productCargoNumber") == info.get("cargoNumber")


def test_an_api_the_app_was_not_granted_is_declined_before_its_parameters(gateway):
    gateway.control("POST", "/_sandbox/switches", app_key=APP_KEY, denied_apis=[GET])
    token = gateway.token()
    for params in ({}, {"productID": 1}):  # ParamMissing would come later
        answer = gateway.call(GET, params, token=token)
        assert answer.status_code == 400
        assert answer.json()["error_code"] == "gw.APIACLDecline"
        assert answer.json()["error_message"] == "AppKey is not allowed(acl)"
    assert gateway.call(LIST, token=token).status_code == 200  # other APIs still granted


def test_bad_switches_are_refused(gateway):
    for body in (
        {"denied_apis": "alibaba.product.get"},
        {"list_nesting": "result"},
        {"list_total": "count"},
        {"list_skus": "yes"},
        {"colour": "red"},
    ):
        answer = gateway.control("POST", "/_sandbox/switches", expect=400, **body)
        assert "error" in answer


@pytest.mark.system
def test_serve_flags_set_the_default_switches(tmp_path):
    command = [
        sys.executable, "-m", "sandbox", "serve", "--port", "0",
        "--db", str(tmp_path / "flags.sqlite3"), "--list-nesting", "result.pageResult",
        "--list-total", "totalCount", "--list-skus", "--no-strict-ownership",
        "--deny-api", "alibaba.product.add", "--deny-api", "alibaba.product.edit",
        "--lenient-publish", "--audit-seconds", "0",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip().split(" ", 1)[1]
        defaults = requests.get(f"{url}/_sandbox/switches", timeout=5).json()["defaults"]
        assert defaults == {
            "list_nesting": "result.pageResult",
            "list_total": "totalCount",
            "list_skus": True,
            "strict_ownership": False,
            "denied_apis": ["alibaba.product.add", "alibaba.product.edit"],
            "strict_publish": False,
            "audit_seconds": 0.0,
            "audit_reject_words": ["违禁", "假货", "高仿"],
            "audit_reject_share": 0.0,
            "list_index_lag_seconds": 0.0,
        }
        requests.post(f"{url}/_sandbox/reset", timeout=5)  # overrides go, flags stay
        after = requests.get(f"{url}/_sandbox/switches", timeout=5).json()["defaults"]
        assert after == defaults
    finally:
        server.terminate()
        server.wait(timeout=10)


# --- offers as 1688 prices them ---------------------------------------------------------------
def all_details(gateway, token, ids) -> dict[int, dict]:
    details = {}
    for product_id in ids:
        answer = gateway.call(GET, {"productID": product_id}, token=token).json()
        details[product_id] = answer["productInfo"]
    return details


def test_seeded_offers_have_every_quote_type(gateway):
    ids = gateway.control("POST", "/_sandbox/seed", member_id=DEMO_SELLER, count=200, seed=5)
    details = all_details(gateway, gateway.token(), ids["product_ids"])
    by_type: dict[int, list[dict]] = {0: [], 1: [], 2: []}
    for info in details.values():
        by_type[info["saleInfo"]["quoteType"]].append(info)
    assert 50 <= len(by_type[2]) <= 100, len(by_type[2])  # about 36 %
    for info in by_type[2]:  # the official doc example: SKUs without price, tiers shared
        assert info["skuInfos"] and all("price" not in sku for sku in info["skuInfos"])
        assert info["saleInfo"]["priceRanges"]
    for info in by_type[1]:
        assert all(isinstance(sku["price"], float) for sku in info["skuInfos"])
    no_skus = [info for info in by_type[0] if not info["skuInfos"]]
    assert no_skus and all(info["saleInfo"]["amountOnSale"] >= 0 for info in no_skus)
    ranged = [sku for info in by_type[1] for sku in info["skuInfos"] if "priceRange" in sku]
    assert ranged and all(sku["priceRange"][0]["price"] == sku["price"] for sku in ranged)


def tiers(info: dict) -> list[tuple[int, Decimal]]:
    return [
        (tier["startQuantity"], Decimal(str(tier["price"])))
        for tier in info["saleInfo"]["priceRanges"]
    ]


def test_mutate_drops_every_tier_of_quote_type_2_offers_by_8_yuan(gateway):
    token = gateway.token()
    ids = gateway.control("POST", "/_sandbox/seed", member_id=DEMO_SELLER, count=40, seed=9)
    before = all_details(gateway, token, ids["product_ids"])
    report = gateway.control(
        "POST",
        "/_sandbox/mutate",
        member_id=DEMO_SELLER,
        seed=4,
        price=5,
        quote_type=2,
        price_delta="-8",
    )
    assert len(report["price_changed"]) == 5 and report["stock_changed"] == []
    after = all_details(gateway, token, report["price_changed"])
    eight = Decimal("8")
    for product_id, info in after.items():
        old = before[product_id]
        assert info["saleInfo"]["quoteType"] == 2
        expected = [(start, max(Decimal("0.01"), price - eight)) for start, price in tiers(old)]
        assert tiers(info) == expected
        assert all("price" not in sku for sku in info["skuInfos"])
        assert info["skuInfos"] == old["skuInfos"]  # stock untouched


def test_mutate_is_deterministic_with_a_seed(gateway):
    def run() -> tuple[dict, dict]:
        gateway.control("POST", "/_sandbox/reset")
        ids = gateway.control("POST", "/_sandbox/seed", member_id=DEMO_SELLER, count=30, seed=2)
        report = gateway.control(
            "POST", "/_sandbox/mutate", member_id=DEMO_SELLER, seed=8, price=6, stock=6
        )
        return report, all_details(gateway, gateway.token(), ids["product_ids"])

    assert run() == run()


def test_precise_tier_changes_for_tests(gateway):
    token = gateway.token()
    ids = gateway.control("POST", "/_sandbox/seed", member_id=DEMO_SELLER, count=30, seed=6)
    details = all_details(gateway, token, ids["product_ids"])
    offer_id = next(i for i, info in details.items() if info["saleInfo"]["quoteType"] == 2)
    gateway.control(
        "POST",
        "/_sandbox/offers/update",
        product_id=offer_id,
        price_ranges=[{"startQuantity": 3, "price": "258"}, {"startQuantity": 50, "price": "240"}],
    )
    gateway.control("POST", "/_sandbox/offers/update", product_id=offer_id, tier_delta="-8")
    info = all_details(gateway, token, [offer_id])[offer_id]
    assert tiers(info) == [(3, Decimal("250")), (50, Decimal("232"))]
    bare = next((i for i, d in details.items() if not d["skuInfos"]), None)
    if bare is not None:
        gateway.control("POST", "/_sandbox/offers/update", product_id=bare, amount_on_sale=17)
        assert all_details(gateway, token, [bare])[bare]["saleInfo"]["amountOnSale"] == 17
    gateway.control(
        "POST", "/_sandbox/offers/update", expect=400, product_id=offer_id, tier_delta="abc"
    )


# --- product.get reads only your own offers ---------------------------------------------------
def test_product_get_of_another_sellers_offer_is_refused(gateway):
    gateway.control("POST", "/_sandbox/sellers", member_id=OTHER_SELLER)
    theirs = gateway.control("POST", "/_sandbox/seed", member_id=OTHER_SELLER, count=2, seed=1)
    mine = gateway.control("POST", "/_sandbox/seed", member_id=DEMO_SELLER, count=1, seed=1)
    token = gateway.token()
    refused = gateway.call(GET, {"productID": theirs["product_ids"][0]}, token=token)
    assert refused.status_code == 200
    assert refused.json()["success"] is False
    assert refused.json()["errorCode"] == "PRODUCT_NOT_EXIST"
    own = gateway.call(GET, {"productID": mine["product_ids"][0]}, token=token).json()
    assert own["success"] is True
    # The owner reads it; with strict_ownership off any token does (older copy-offer tests).
    owner = gateway.call(
        GET, {"productID": theirs["product_ids"][0]}, token=gateway.token(OTHER_SELLER)
    )
    assert owner.json()["success"] is True
    gateway.control("POST", "/_sandbox/switches", app_key=APP_KEY, strict_ownership=False)
    lenient = gateway.call(GET, {"productID": theirs["product_ids"][0]}, token=token).json()
    assert lenient["success"] is True
