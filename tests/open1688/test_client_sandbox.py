"""The 1688 client against the sandbox gateway over real HTTP: every call, every injected fault."""

import base64
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.conf import settings

from catalog.shops.clients import make_client
from open1688 import (
    AuthError,
    BusinessError,
    MalformedResponseError,
    OutcomeUnknownError,
    QuotaError,
    RefreshTokenExpiredError,
    RequestTimeout,
    ServerError,
    SignatureError,
)
from open1688.answers import parse_token
from tests.sandbox.publishing_kit import (
    CARGO_ATTRIBUTE,
    legacy_offer,
    ready_seller_via_client,
)

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
ADD = "alibaba.product.add"
GET = "alibaba.product.get"


@pytest.fixture
def seller(sandbox):
    answer = sandbox.new_seller("b2b-2209100001", "宁波家居用品厂")
    ids = sandbox.control("seed", {"member_id": "b2b-2209100001", "count": 25, "seed": 11})
    return {"token": answer["access_token"], "answer": answer, "ids": ids["product_ids"]}


@pytest.fixture
def client(sandbox):
    # Fast backoff: the tests prove the retry logic, not the waiting.
    with make_client(backoff_base=0.01, backoff_max=0.05, read_timeout=1.0) as client:
        yield client


def new_offer(client, token: str, cargo: str) -> dict:
    """An offer the strict alibaba.product.add takes, as a real client sends it: a picture
    uploaded to the seller's photobank first, its freight template and address, the leaf's
    required attributes with 货号 `cargo` as attribute 1398 (tests/sandbox/publishing_kit.py)."""
    _, photo, template, address = ready_seller_via_client(client, token)
    return legacy_offer(
        photo,
        template,
        address,
        cargo=cargo,
        productType="wholesale",
        subject="测试上货 纯棉短袖T恤",
        description="<p>纯棉</p>",
        saleInfo={
            "priceRanges": [{"startQuantity": 2, "price": Decimal("19.90")}],
            "amountOnSale": 100,
            "minOrderQuantity": 2,
            "unit": "件",
            "quoteType": 0,
        },
    )


def cargo_attribute(detail) -> list[str]:
    return [a["value"] for a in detail.attributes if a["attributeID"] == CARGO_ATTRIBUTE]


def test_list_pages_and_modify_window(client, seller):
    first = client.list_products(seller["token"], page_no=1, page_size=20)
    second = client.list_products(seller["token"], page_no=2, page_size=50)  # cut to 20
    assert first.total_records == 25 and len(first.items) == 20 and len(second.items) == 5
    listed = [i.product_id for i in first.items + second.items]
    assert listed == sorted(seller["ids"])
    assert all(i.modify_time is not None and i.modify_time.tzinfo for i in first.items)
    newest = max(i.modify_time for i in first.items + second.items)
    later = client.list_products(seller["token"], start_modify_time=newest + _ms())
    assert later.total_records == 0 and later.items == ()


def _ms():
    from datetime import timedelta

    return timedelta(milliseconds=1)


def test_get_returns_skus_with_exact_decimal_prices(client, seller):
    detail = client.get_product(seller["token"], seller["ids"][0])
    assert detail.product_id == seller["ids"][0] and detail.subject
    prices = [tier.price for sku in detail.skus for tier in detail.sku_tiers(sku)]
    prices += [tier.price for tier in detail.price_ranges]
    assert prices and all(isinstance(p, Decimal) for p in prices)
    assert all(p == p.quantize(Decimal("0.01")) for p in prices)
    # every SKU has a price by its offer's quoteType (a quoteType-2 SKU carries none itself)
    assert all(detail.sku_tiers(sku) for sku in detail.skus)
    assert detail.modify_time is not None and detail.price_ranges


def test_get_unknown_offer_is_a_business_error(client, seller):
    with pytest.raises(BusinessError):
        client.get_product(seller["token"], 1)


def test_add_then_get_and_edit(client, seller, sandbox):
    # decided at once, not after the audit (docs/sandbox-control.md, "Switches")
    sandbox.control("switches", {"app_key": settings.OPEN1688_APP_KEY, "audit_seconds": 0})
    offer_id = client.add_product(
        seller["token"], new_offer(client, seller["token"], "CLIENT-ADD-1")
    )
    detail = client.get_product(seller["token"], offer_id)
    assert detail.subject == "测试上货 纯棉短袖T恤" and detail.status == "published"
    assert cargo_attribute(detail) == ["CLIENT-ADD-1"]  # 货号 is attribute 1398
    assert detail.price_ranges[0].price == Decimal("19.90")
    client.edit_product(seller["token"], offer_id, {"subject": "改过的标题"})
    assert client.get_product(seller["token"], offer_id).subject == "改过的标题"
    found = client.list_products(seller["token"], cargo_number="CLIENT-ADD-1")
    assert [i.product_id for i in found.items] == [offer_id]


def test_keyword_and_image_search(client, seller, sandbox):
    detail = client.get_product(seller["token"], seller["ids"][3])
    keyword = detail.subject[:4]
    page = client.keyword_search(seller["token"], keyword, page_size=10)
    assert page.total_records >= 1 and any(keyword in o.subject for o in page.items)
    picture = requests.get(page.items[0].image_url, timeout=10)
    assert picture.status_code == 200 and picture.headers["Content-Type"].startswith("image/")
    image_id = client.upload_image(seller["token"], picture.content)
    by_upload = client.image_search(seller["token"], image_id=image_id)
    assert by_upload.items and by_upload.items[0].offer_id == page.items[0].offer_id
    by_url = client.image_search(seller["token"], image_address=page.items[0].image_url)
    assert by_url.items[0].offer_id == page.items[0].offer_id


def test_oauth_code_flow_through_the_authorize_page(client, sandbox):
    sandbox.control(
        "sellers", {"member_id": "b2b-2209100002", "login_id": "oauth-shop", "name": "授权测试店"}
    )
    redirect_uri = "http://127.0.0.1:9/callback"
    state = client.new_state()
    url = client.authorize_url(redirect_uri, state)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "授权测试店" in page.text
    # Click the seller's button: the form posts back to the same URL with the member id.
    answer = requests.post(
        url, data={"member_id": "b2b-2209100002"}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302
    query = parse_qs(urlparse(answer.headers["Location"]).query)
    assert query["state"] == [state]
    token = client.exchange_code(query["code"][0], redirect_uri)
    assert token.member_id == "b2b-2209100002" and token.refresh_token
    assert token.access_token not in repr(token)
    with pytest.raises(RefreshTokenExpiredError):  # a code is single-use
        client.exchange_code(query["code"][0], redirect_uri)
    refreshed = client.refresh_access_token(token.refresh_token)
    assert refreshed.access_token != token.access_token and refreshed.refresh_token is None
    assert client.list_products(refreshed.access_token).total_records == 0


def test_real_token_answer_shape_is_parsed(seller):
    from django.utils import timezone

    token = parse_token(seller["answer"], timezone.now())
    assert isinstance(seller["answer"]["expires_in"], str)
    assert token.expires_at > timezone.now() and token.refresh_token_expires_at


def test_wrong_secret_is_a_signature_error(sandbox, seller):
    with make_client(app_secret="not-the-secret") as bad, pytest.raises(SignatureError) as caught:
        bad.list_products(seller["token"])
    assert caught.value.code == "gw.SignatureInvalid"
    assert "not-the-secret" not in str(caught.value)


def test_5xx_is_retried_then_surfaces(client, seller, sandbox):
    sandbox.fault(GET, "http500", times=1)
    assert client.get_product(seller["token"], seller["ids"][0]).product_id == seller["ids"][0]
    sandbox.fault(GET, "http500", times=10)
    with pytest.raises(ServerError):
        client.get_product(seller["token"], seller["ids"][0])


def test_html_error_page_is_a_server_error(client, seller, sandbox):
    sandbox.fault(GET, "http502_html", times=10)
    with pytest.raises(ServerError):
        client.get_product(seller["token"], seller["ids"][0])


def test_slow_answer_times_out_then_recovers(client, seller, sandbox):
    sandbox.fault(GET, "slow", times=1, delay=2.0)
    assert client.get_product(seller["token"], seller["ids"][0])  # retried after the timeout
    sandbox.fault(GET, "slow", times=10, delay=2.0)
    with make_client(max_retries=0, read_timeout=0.5) as slow, pytest.raises(RequestTimeout):
        slow.get_product(seller["token"], seller["ids"][0])


@pytest.mark.parametrize("kind", ["malformed", "wrong_shape"])
def test_malformed_answers(client, seller, sandbox, kind):
    sandbox.fault(GET, kind, times=1)
    with pytest.raises(MalformedResponseError):
        client.get_product(seller["token"], seller["ids"][0])


def test_quota_is_retried_then_surfaces(client, seller, sandbox):
    sandbox.fault(GET, "quota", times=1)
    assert client.get_product(seller["token"], seller["ids"][0])
    sandbox.fault(GET, "quota", times=10)
    with pytest.raises(QuotaError) as caught:
        client.get_product(seller["token"], seller["ids"][0])
    assert caught.value.code == "gw.QosAppFrequencyLimit"


def test_expired_token_is_an_auth_error(client, seller, sandbox):
    sandbox.fault(GET, "token_expired", times=1)
    with pytest.raises(AuthError):
        client.get_product(seller["token"], seller["ids"][0])


def test_dropped_connection_after_add_is_an_unknown_outcome(client, seller, sandbox):
    sandbox.reset_stats()
    sandbox.fault(ADD, "drop_after_apply", times=1)
    offer = new_offer(client, seller["token"], "CLIENT-DROP-1")
    with pytest.raises(OutcomeUnknownError):
        client.add_product(seller["token"], offer)
    assert sandbox.calls()[ADD] == 1  # never resent blindly
    offers = sandbox.get("offers", member_id="b2b-2209100001", cargo_number="CLIENT-DROP-1")
    assert len(offers["offers"]) == 1  # ... although the sandbox applied it


def test_dropped_connection_on_a_read_is_retried(client, seller, sandbox):
    sandbox.fault(GET, "drop", times=1)
    assert client.get_product(seller["token"], seller["ids"][0])


LIMITER_SCRIPT = """
import json, sys, time
import redis
from open1688 import RedisRateLimiter
limiter = RedisRateLimiter(redis.Redis.from_url(sys.argv[1]), "shared-app", rate=10.0, burst=1)
stamps = []
for _ in range(12):
    limiter.acquire("alibaba.product.get")
    stamps.append(time.time())
print(json.dumps(stamps))
"""


@pytest.mark.exclusive  # timed: no other test may share the cores
@pytest.mark.system
def test_two_processes_share_the_rate_limit(redis_conn):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LIMITER_SCRIPT, settings.RQ_QUEUES["default"]["URL"]],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    stamps = sorted(t for p in procs for t in json.loads(p.communicate(timeout=60)[0]))
    assert all(p.returncode == 0 for p in procs)
    # 24 grants at 10/s with a burst of 1: together they need at least 2.3 s, and no
    # one-second window holds more than 10 + 1 grants.
    assert stamps[-1] - stamps[0] >= 2.2
    for i, start in enumerate(stamps):
        assert sum(1 for t in stamps[i:] if t < start + 1.0) <= 11


def test_image_upload_payload_is_base64(client, seller):
    # A tiny valid PNG: the sandbox answers with an image id for any decodable picture.
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
    )
    assert client.upload_image(seller["token"], png)
