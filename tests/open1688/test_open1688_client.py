"""The client over real HTTP against a scripted local gateway (no mocks of requests)."""

import base64
import json
import socket
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from open1688 import (
    AuthError,
    BusinessError,
    ConnectionFailed,
    MalformedResponseError,
    OutcomeUnknownError,
    PermissionDeniedError,
    QuotaError,
    QuotaSpentError,
    RefreshTokenExpiredError,
    RequestTimeout,
    ServerError,
    SignatureError,
)
from tests.open1688.scripted_gateway import APP_KEY, Answer, expected_signature

TOKEN = "tok-9f8e7d6c"
LIST_PATH = f"/openapi/param2/1/com.alibaba.product/alibaba.product.list.get/{APP_KEY}"


def list_answer(ids, total, page_index=1):
    items = [
        {
            "productID": pid,
            "subject": f"商品{pid}",
            "status": "published",
            "cargoNumber": f"C{pid}",
            "lastUpdateTime": "20261123103000000+0800",
        }
        for pid in ids
    ]
    page = {"pageIndex": page_index, "sizePerPage": 20, "totalRecords": total}
    return {"result": {"success": True, "result": {"pageResult": {**page, "resultList": items}}}}


GATEWAY_500 = Answer(500, {"error_code": "gw.ISPInvokeError", "error_message": "isp error"})


def test_call_signs_and_posts_form_fields(gateway, make_client):
    gateway.script(Answer(body={"ok": True}))
    client = make_client()
    before = int(time.time() * 1000)
    params = {"offerQueryParam": {"keyword": "玻璃杯", "priceStart": Decimal("1.50")}, "n": 3}
    answer = client.call(
        "com.alibaba.fenxiao.crossborder",
        "product.search.keywordQuery",
        params,
        access_token=TOKEN,
    )
    assert answer == {"ok": True}
    (sent,) = gateway.received
    assert sent.path == (
        f"/openapi/param2/1/com.alibaba.fenxiao.crossborder/product.search.keywordQuery/{APP_KEY}"
    )
    fields = sent.fields
    assert fields["offerQueryParam"] == '{"keyword":"玻璃杯","priceStart":"1.50"}'
    assert fields["n"] == "3"
    assert fields["access_token"] == TOKEN
    assert before <= int(fields["_aop_timestamp"]) <= int(time.time() * 1000)
    assert fields["_aop_signature"] == expected_signature(sent.path, fields)
    assert sent.headers["User-Agent"].startswith("erp1688-open1688/")
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_files_go_multipart_and_unsigned(gateway, make_client):
    client = make_client()
    client.call("ns", "upload", {"name": "a.png"}, access_token=TOKEN, files={"image": b"\x89PNG"})
    (sent,) = gateway.received
    assert sent.headers["Content-Type"].startswith("multipart/form-data")
    fields = sent.fields
    assert fields["image"] == b"\x89PNG"
    texts = {k: v.decode() for k, v in fields.items() if k != "image"}
    assert texts["_aop_signature"] == expected_signature(sent.path, texts)


def test_list_products_encodes_filters_and_parses_the_page(gateway, make_client):
    gateway.script(Answer(body=list_answer([11, 12], total=2)))
    page = make_client().list_products(
        TOKEN,
        start_modify_time=datetime(2026, 11, 23, 2, 30, tzinfo=UTC),
        end_modify_time=datetime(2026, 11, 23, 3, 0, 0, 250000, tzinfo=UTC),
        status_list=["published", "auditing"],
        cargo_number="C11",
    )
    assert [item.product_id for item in page.items] == [11, 12]
    (sent,) = gateway.received
    assert sent.path == LIST_PATH
    fields = sent.fields
    assert fields["pageNo"] == "1" and fields["pageSize"] == "20"
    assert fields["startModifyTime"] == "20261123103000000+0800"
    assert fields["endModifyTime"] == "20261123110000250+0800"
    assert fields["statusList"] == '["published","auditing"]'
    assert (fields["orderByCondition"], fields["orderByType"]) == ("ID", "ASC")
    assert fields["cargoNumber"] == "C11"
    assert "productIds" not in fields


@pytest.mark.parametrize(("total", "pages"), [(45, 3), (40, 2), (0, 1)])
def test_iter_products_stops_at_a_short_page_or_the_total(gateway, make_client, total, pages):
    ids = list(range(1, total + 1))
    gateway.script(
        *(Answer(body=list_answer(ids[i : i + 20], total, i // 20 + 1)) for i in range(0, 60, 20))
    )
    window = {"start_modify_time": None, "end_modify_time": None}
    got = list(make_client().iter_products(TOKEN, page_size=50, **window))
    assert len(got) == pages == len(gateway.received)
    assert [item.product_id for page in got for item in page.items] == ids
    assert [r.fields["pageNo"] for r in gateway.received] == [str(n) for n in range(1, pages + 1)]
    assert {r.fields["pageSize"] for r in gateway.received} == {"20"}


def test_server_error_is_retried_with_a_fresh_signature(gateway, make_client, sleeps):
    gateway.script(GATEWAY_500, Answer(body={"ok": True}))
    clock = iter(range(1_800_000_000, 1_800_000_100))
    client = make_client(clock=lambda: next(clock))
    assert client.call("ns", "api", {"a": 1}) == {"ok": True}
    first, second = (r.fields for r in gateway.received)
    assert first["_aop_timestamp"] != second["_aop_timestamp"]
    assert first["_aop_signature"] != second["_aop_signature"]
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.5


def test_gives_up_after_max_retries_with_growing_backoff(gateway, make_client, sleeps):
    html = Answer(502, "<html><body>502 Bad Gateway</body></html>", {"Content-Type": "text/html"})
    gateway.script(html, html, html, html)
    with pytest.raises(ServerError) as raised:
        make_client(max_retries=3, backoff_base=1, backoff_max=3).call("ns", "api")
    assert raised.value.http_status == 502
    assert len(gateway.received) == 4
    assert len(sleeps) == 3 and sleeps[0] <= 1 and sleeps[1] <= 2 and sleeps[2] <= 3


def test_retry_budget_bounds_the_retries(gateway, make_client, sleeps):
    gateway.script(GATEWAY_500, GATEWAY_500)
    clock = iter(range(0, 10_000, 20))  # every look at the clock is 20 s later
    client = make_client(max_retries=5, retry_budget=30, clock=lambda: next(clock))
    with pytest.raises(ServerError):
        client.call("ns", "api")
    assert len(gateway.received) == 1 and sleeps == []


def test_quota_error_is_retried_after_retry_after(gateway, make_client, sleeps):
    quota = {
        "error_code": "gw.QosAppFrequencyLimit",
        "error_message": "App call exceeds limited frequency",
    }
    gateway.script(Answer(429, quota, {"Retry-After": "2"}), Answer(body={"ok": True}))
    assert make_client().call("ns", "api") == {"ok": True}
    assert sleeps[0] >= 2


def test_quota_error_surfaces_when_retries_run_out(gateway, make_client):
    quota = {"error_code": "gw.QosApiFrequencyLimit", "error_message": "limited"}
    gateway.script(*[Answer(429, quota)] * 3)
    with pytest.raises(QuotaError) as raised:
        make_client().call("ns", "api")
    assert raised.value.code == "gw.QosApiFrequencyLimit"
    assert raised.value.retry_after is None


def test_auth_error_is_not_retried_and_hides_the_token(gateway, make_client):
    body = {
        "error_code": "401",
        "error_message": f"access_token {TOKEN} is invalid or expired",
        "exception": "access_token is invalid or expired",
    }
    gateway.script(Answer(401, body, {"X-Request-Id": "req-77"}))
    with pytest.raises(AuthError) as raised:
        make_client().get_product(TOKEN, 1)
    error = raised.value
    assert len(gateway.received) == 1
    assert (error.code, error.http_status, error.request_id) == ("401", 401, "req-77")
    assert error.api == "alibaba.product.get"
    assert TOKEN not in str(error) and "***" in str(error)


def test_bad_signature(gateway, make_client):
    gateway.script(Answer(400, {"error_code": "gw.SignatureInvalid", "error_message": "bad"}))
    with pytest.raises(SignatureError):
        make_client().call("ns", "api")


@pytest.mark.parametrize(
    "answer",
    [
        Answer(200, "<html>登录</html>", {"Content-Type": "text/html"}),
        Answer(200, "[1, 2]"),
        Answer(200, ""),
        Answer(404, "Not Found", {"Content-Type": "text/plain"}),
    ],
)
def test_answers_that_are_not_json_objects_are_malformed(gateway, make_client, answer):
    gateway.script(answer)
    with pytest.raises(MalformedResponseError):
        make_client().call("ns", "api")
    assert len(gateway.received) == 1


def test_wrong_shape_names_the_api_and_path(gateway, make_client):
    gateway.script(Answer(body={"result": {"success": True}}))
    with pytest.raises(MalformedResponseError, match="result.result") as raised:
        make_client().list_products(TOKEN)
    assert raised.value.api == "alibaba.product.list.get"


def test_add_product_sends_defaults_and_json_fields(gateway, make_client):
    gateway.script(Answer(body={"success": True, "productID": 880001, "errorMsg": None}))
    product = {
        "productType": "wholesale",
        "categoryID": 122916002,
        "subject": "加厚玻璃水杯",
        "cargoNumber": "UP-1-0001",
        "saleInfo": {"priceRanges": [{"startQuantity": 2, "price": Decimal("12.30")}]},
    }
    assert make_client().add_product(TOKEN, product) == 880001
    fields = gateway.received[0].fields
    assert (fields["webSite"], fields["language"]) == ("1688", "CHINESE")
    assert fields["saleInfo"] == '{"priceRanges":[{"startQuantity":2,"price":"12.30"}]}'
    assert fields["cargoNumber"] == "UP-1-0001"


def test_add_product_business_error(gateway, make_client):
    gateway.script(Answer(body={"success": False, "errorCode": "X", "errorMsg": "类目不存在"}))
    with pytest.raises(BusinessError) as raised:
        make_client().add_product(TOKEN, {"subject": "x"})
    assert raised.value.api == "alibaba.product.add"


def test_add_product_server_error_is_an_unknown_outcome_without_retry(gateway, make_client):
    gateway.script(GATEWAY_500, Answer(body={"success": True, "productID": 1}))
    with pytest.raises(OutcomeUnknownError) as raised:
        make_client().add_product(TOKEN, {"subject": "x"})
    assert len(gateway.received) == 1
    assert raised.value.http_status == 500


@pytest.mark.parametrize(
    "answer",
    [Answer(200, "<html>ok?</html>"), Answer(200, {"success": True, "errorMsg": None})],
)
def test_add_product_unreadable_success_is_an_unknown_outcome(gateway, make_client, answer):
    gateway.script(answer)
    with pytest.raises(OutcomeUnknownError) as raised:
        make_client().add_product(TOKEN, {"subject": "x"})
    assert isinstance(raised.value.__cause__, MalformedResponseError)
    assert raised.value.api == "alibaba.product.add"


def test_add_product_read_timeout_is_an_unknown_outcome(gateway, make_client):
    gateway.script(Answer(delay=1.0))
    with pytest.raises(OutcomeUnknownError):
        make_client(read_timeout=0.2).add_product(TOKEN, {"subject": "x"})
    assert len(gateway.received) == 1


def test_add_product_dropped_connection_is_an_unknown_outcome(gateway, make_client):
    gateway.script(Answer(drop=True))
    with pytest.raises(OutcomeUnknownError):
        make_client().add_product(TOKEN, {"subject": "x"})
    assert len(gateway.received) == 1


def test_idempotent_read_timeout_is_retried(gateway, make_client):
    gateway.script(Answer(delay=1.0), Answer(delay=1.0))
    with pytest.raises(RequestTimeout):
        make_client(read_timeout=0.2, max_retries=1).call("ns", "api")
    assert len(gateway.received) == 2


def test_idempotent_dropped_connection_is_retried(gateway, make_client):
    gateway.script(Answer(drop=True), Answer(body={"ok": True}))
    assert make_client().call("ns", "api") == {"ok": True}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_refused_connection_is_retried_even_when_not_idempotent(make_client):
    seen = []
    client = make_client(
        gateway=f"http://127.0.0.1:{closed_port()}",
        on_request=lambda *report: seen.append(report),
    )
    with pytest.raises(ConnectionFailed):
        client.add_product(TOKEN, {"subject": "x"})
    assert [(api, attempt, status) for api, attempt, status, _ in seen] == [
        ("alibaba.product.add", 1, None),
        ("alibaba.product.add", 2, None),
        ("alibaba.product.add", 3, None),
    ]


def test_on_request_reports_each_attempt_and_its_failures_are_ignored(gateway, make_client):
    gateway.script(GATEWAY_500, Answer(body={"ok": True}))
    seen = []

    def hook(*report):
        seen.append(report)
        raise RuntimeError("metrics backend down")

    make_client(on_request=hook).call("ns", "api")
    assert [(s[0], s[1], s[2]) for s in seen] == [("api", 1, 500), ("api", 2, 200)]
    assert all(s[3] >= 0 for s in seen)


def test_rate_limiter_is_asked_before_every_attempt(gateway, make_client):
    class Counting:
        apis = []

        def acquire(self, api):
            self.apis.append(api)

    limiter = Counting()
    gateway.script(GATEWAY_500, Answer(body={"ok": True}))
    make_client(rate_limiter=limiter).call("ns", "alibaba.product.get")
    assert limiter.apis == ["alibaba.product.get", "alibaba.product.get"]


def test_keyword_search(gateway, make_client):
    gateway.script(
        Answer(
            body='{"result": {"success": "true", "code": "200", "result": {"totalRecords": 1,'
            ' "totalPage": 1, "pageSize": 20, "currentPage": 1, "data": [{"offerId": 5,'
            ' "subject": "杯", "imageUrl": "u", "priceInfo": {"price": 1.20}}]}}}'
        )
    )
    result = make_client().keyword_search(TOKEN, "玻璃杯", price_start=Decimal("1.00"))
    assert str(result.items[0].price) == "1.20"
    query = json.loads(gateway.received[0].fields["offerQueryParam"])
    assert query == {
        "keyword": "玻璃杯",
        "beginPage": 1,
        "pageSize": 20,
        "priceStart": "1.00",
        "country": "en",  # required by 1688
    }


def test_upload_image_then_image_search(gateway, make_client):
    page = {"totalRecords": 0, "totalPage": 0, "pageSize": 20, "currentPage": 1, "data": []}
    gateway.script(
        Answer(body={"result": {"success": "true", "code": "200", "result": "img-42"}}),
        Answer(body={"result": {"success": "true", "code": "200", "result": page}}),
    )
    client = make_client()
    image_id = client.upload_image(TOKEN, b"\xff\xd8jpeg")
    assert client.image_search(TOKEN, image_id=image_id).items == ()
    upload, search = (r.fields for r in gateway.received)
    assert json.loads(upload["uploadImageParam"]) == {
        "imageBase64": base64.b64encode(b"\xff\xd8jpeg").decode()
    }
    assert json.loads(search["offerQueryParam"])["imageId"] == "img-42"


def test_image_search_needs_exactly_one_image(make_client):
    with pytest.raises(ValueError):
        make_client().image_search(TOKEN)
    with pytest.raises(ValueError):
        make_client().image_search(TOKEN, image_id="a", image_address="b")


def test_client_repr_hides_the_secret(make_client):
    assert "test123" not in repr(make_client())


def test_spent_paid_quota_stops_at_once(gateway, make_client, sleeps):
    spent = {"error_code": "gw.NoUsageLeftError", "error_message": "no usage left"}
    gateway.script(Answer(403, spent), Answer(body={"ok": True}))
    with pytest.raises(QuotaSpentError) as raised:
        make_client().call("ns", "api")
    assert len(gateway.received) == 1 and sleeps == []  # not retried, no backoff
    assert raised.value.code == "gw.NoUsageLeftError"


def test_request_limit_is_a_rate_error_and_retried(gateway, make_client, sleeps):
    limit = {"error_code": "gw.QosRequestLimit", "error_message": "request limit"}
    gateway.script(Answer(429, limit), Answer(body={"ok": True}))
    assert make_client().call("ns", "api") == {"ok": True}
    assert len(gateway.received) == 2 and len(sleeps) == 1


def test_request_id_is_read_from_the_error_body(gateway, make_client):
    body = {"error_code": "401", "error_message": "Request need user authorized",
            "request_id": "0bb3e2a717"}  # fmt: skip
    gateway.script(Answer(401, body, {"X-Request-Id": "header-id"}))
    with pytest.raises(AuthError) as raised:
        make_client().get_product(TOKEN, 1)
    assert raised.value.request_id == "0bb3e2a717"


def test_acl_decline_names_the_refused_api(gateway, make_client):
    body = {"error_code": "gw.APIACLDecline", "error_message": "api acl decline"}
    gateway.script(Answer(403, body))
    with pytest.raises(PermissionDeniedError) as raised:
        make_client().get_product(TOKEN, 1)
    assert raised.value.api == "alibaba.product.get" and len(gateway.received) == 1


def test_postpone_token_sends_both_tokens_unsigned_and_reads_the_new_refresh_token(
    gateway, make_client
):
    answer = {
        "refresh_token": "refresh-new",
        "refresh_token_timeout": "20271030000000000+0800",
        "access_token": "access-new",
        "expires_in": "36000",
    }
    gateway.script(Answer(body=answer))
    token = make_client().postpone_token("refresh-old", "access-old")
    received = gateway.received[0]
    assert received.path == f"/openapi/param2/1/system.oauth2/postponeToken/{APP_KEY}"
    assert received.fields == {
        "client_id": APP_KEY,
        "client_secret": "test123",
        "refresh_token": "refresh-old",
        "access_token": "access-old",
    }
    assert (token.refresh_token, token.access_token) == ("refresh-new", "access-new")
    assert token.refresh_token_expires_at == datetime(2027, 10, 29, 16, tzinfo=UTC)


def test_postpone_token_with_a_dead_refresh_token(gateway, make_client):
    gateway.script(Answer(401, {"error": "invalid_grant", "error_description": "expired"}))
    with pytest.raises(RefreshTokenExpiredError):
        make_client().postpone_token("refresh-old", "access-old")
