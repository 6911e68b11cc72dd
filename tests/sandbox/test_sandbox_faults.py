"""Queued faults: each kind, matching by API name, counting, clearing."""

import pytest
import requests
from publishing_kit import legacy_fields
from sandbox_client import DEMO_SELLER

LIST = "alibaba.product.list.get"
ADD = "alibaba.product.add"


def queue_fault(gateway, kind: str, api: str = LIST, **extra) -> None:
    gateway.control("POST", "/_sandbox/faults", api=api, kind=kind, **extra)


def add_params(seller, cargo_number: str) -> dict:
    """A T-shirt the strict add accepts, 货号 `cargo_number` (tests/sandbox/publishing_kit.py)."""
    return legacy_fields(seller.photo, seller.template, seller.address, cargo=cargo_number)


def offers_with_cargo(gateway, cargo_number: str) -> list:
    path = f"/_sandbox/offers?member_id={DEMO_SELLER}&cargo_number={cargo_number}"
    return gateway.control("GET", path)["offers"]


@pytest.mark.parametrize(
    ("kind", "status", "error_code", "message"),
    [
        ("http500", 500, "gw.ISPInvokeError", "service invoke error"),
        ("isp_timeout", 504, "gw.ISPInvokeTimeout", "service invoke timeout"),
        ("quota", 429, "gw.QosAppFrequencyLimit", "App call exceeds limited frequency"),
        ("api_quota", 429, "gw.QosApiFrequencyLimit", "API call exceeds limited frequency"),
        ("request_limit", 429, "gw.QosRequestLimit", "Request exceeds limit"),
        ("no_usage_left", 400, "gw.NoUsageLeftError", "No usage left for this API"),
        ("acl_decline", 400, "gw.APIACLDecline", "AppKey is not allowed(acl)"),
        ("unauthorized", 401, "401", "Request need user authorized"),
        ("token_expired", 401, "401", "Request need user authorized"),  # the older name
    ],
)
def test_gateway_error_faults(gateway, kind, status, error_code, message):
    queue_fault(gateway, kind)
    answer = gateway.call(LIST, token=gateway.token())
    assert answer.status_code == status
    body = answer.json()
    assert body == {
        "error_code": error_code,
        "error_message": message,
        "exception": message,
        "request_id": answer.headers["X-Request-Id"],
    }
    assert gateway.call(LIST, token=gateway.token()).status_code == 200  # used up


def test_http502_html_fault(gateway):
    queue_fault(gateway, "http502_html")
    answer = gateway.call(LIST, token=gateway.token())
    assert answer.status_code == 502
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in answer.text


def test_malformed_fault_is_not_json(gateway):
    queue_fault(gateway, "malformed")
    answer = gateway.call(LIST, token=gateway.token())
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()


def test_wrong_shape_fault_lacks_the_expected_keys(gateway):
    queue_fault(gateway, "wrong_shape")
    body = gateway.call(LIST, token=gateway.token()).json()
    assert "result" not in body and "productInfo" not in body


def test_slow_fault_delays_then_answers(gateway):
    queue_fault(gateway, "slow", delay=0.6)
    with pytest.raises(requests.exceptions.ReadTimeout):
        gateway.call(LIST, token=gateway.token(), timeout=0.2)
    queue_fault(gateway, "slow", delay=0.05)
    assert gateway.call(LIST, token=gateway.token()).status_code == 200


def test_drop_closes_without_applying(gateway, seller):
    queue_fault(gateway, "drop", api=ADD)
    with pytest.raises(requests.exceptions.ConnectionError):
        gateway.call(ADD, add_params(seller, "DROP-1"), token=seller.token)
    assert offers_with_cargo(gateway, "DROP-1") == []


def test_drop_after_apply_creates_the_offer_but_loses_the_answer(gateway, seller):
    queue_fault(gateway, "drop_after_apply", api=ADD)
    with pytest.raises(requests.exceptions.ConnectionError):
        gateway.call(ADD, add_params(seller, "DROP-2"), token=seller.token)
    assert len(offers_with_cargo(gateway, "DROP-2")) == 1
    # The server is still fine afterwards.
    assert gateway.call(ADD, add_params(seller, "DROP-3"), token=seller.token).json()["success"]


def test_faults_match_their_api_and_count_down(gateway, seller):
    queue_fault(gateway, "http500", api=ADD, times=2)
    token = seller.token
    assert gateway.call(LIST, token=token).status_code == 200
    assert gateway.call(ADD, add_params(seller, "F-1"), token=token).status_code == 500
    assert gateway.call(ADD, add_params(seller, "F-2"), token=token).status_code == 500
    third = gateway.call(ADD, add_params(seller, "F-3"), token=token)
    assert third.status_code == 200 and third.json()["success"] is True


def test_wildcard_faults_and_clearing(gateway):
    queue_fault(gateway, "http500", api="*", times=5)
    assert gateway.call("currentTime", namespace="system").status_code == 500
    gateway.control("DELETE", "/_sandbox/faults")
    assert gateway.control("GET", "/_sandbox/faults") == {"faults": []}
    assert gateway.call("currentTime", namespace="system").status_code == 200


def test_unknown_fault_kind_is_refused(gateway):
    gateway.control("POST", "/_sandbox/faults", expect=400, api=LIST, kind="explode")
