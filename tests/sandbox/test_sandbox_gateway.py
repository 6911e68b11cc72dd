"""The gateway's checks: signature, app key, timestamp, rate limit, access token."""

import time

from sandbox_client import APP_KEY, APP_SECRET, test_signature

from sandbox.server import signing

OFFICIAL_PATH = "param2/1/system/currentTime/1000000"
OFFICIAL_SIGNATURE = "33E54F4F7B989E3E0E912D3FBD2F1A03CA7CCE88"


def test_sandbox_signer_reproduces_the_official_vector():
    params = {"b": "2", "a": "1"}
    assert signing.signing_message(OFFICIAL_PATH, params) == OFFICIAL_PATH + "a1b2"
    assert signing.sign("test123", OFFICIAL_PATH, params) == OFFICIAL_SIGNATURE


def test_the_tests_own_signer_reproduces_the_official_vector():
    assert test_signature("test123", OFFICIAL_PATH, {"b": "2", "a": "1"}) == OFFICIAL_SIGNATURE


def test_signer_sorts_joined_strings_not_keys():
    # Sorted keys would give "a" + "z" first; sorted joined strings put "ab1" before "az".
    message = signing.signing_message("p", {"a": "z", "ab": "1"})
    assert message == "pab1az"


def test_signature_is_not_over_the_signature_itself():
    params = {"a": "1", "_aop_signature": "X"}
    assert signing.signing_message("p", params) == "pa1"


def test_a_signed_call_works_and_carries_a_request_id(gateway):
    answer = gateway.call("currentTime", namespace="system")
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Request-Id"]
    assert answer.json()["result"].endswith("+0800")
    assert len(answer.json()["result"]) == len("20261123103000000+0800")


def test_get_requests_are_accepted(gateway):
    assert gateway.call("currentTime", namespace="system", method="GET").status_code == 200


def test_signature_without_the_path_factor_is_rejected(gateway):
    answer = gateway.call("currentTime", namespace="system", sign_path=False)
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "gw.SignatureInvalid"


def test_wrong_secret_is_rejected(gateway):
    answer = gateway.call("currentTime", namespace="system", secret="not-the-secret")
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "gw.SignatureInvalid"
    assert answer.headers["X-Request-Id"]


def test_unknown_app_key_is_rejected(gateway):
    answer = gateway.call("currentTime", namespace="system", app_key="1234")
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "gw.AppKeyNotFound"


def test_stale_timestamp_is_rejected_when_sent(gateway):
    stale = int(time.time() * 1000) - 16 * 60 * 1000
    answer = gateway.call("currentTime", namespace="system", timestamp=stale)
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "gw.TimestampInvalid"  # not attested: errors.py


def test_a_call_without_timestamp_is_answered(gateway):
    # The official SDKs send no _aop_timestamp for almost every API; 1688 accepts that.
    factor = f"param2/1/system/currentTime/{APP_KEY}"
    params = {"_aop_signature": test_signature(APP_SECRET, factor, {})}
    answer = gateway.http.post(f"{gateway.base_url}/openapi/{factor}", data=params)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"].endswith("+0800")


def test_missing_signature_is_a_missing_parameter(gateway):
    factor = f"param2/1/system/currentTime/{APP_KEY}"
    answer = gateway.http.post(f"{gateway.base_url}/openapi/{factor}", data={"a": "1"})
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "gw.ParamMissing"
    assert "_aop_signature" in answer.json()["error_message"]


def test_unknown_api_is_unsupported(gateway):
    answer = gateway.call("alibaba.product.nothing", token=gateway.token())
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "gw.APIUnsupported"


def test_missing_required_parameter_is_named(gateway):
    answer = gateway.call("alibaba.product.get", token=gateway.token())
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "gw.ParamMissing"
    assert "productID" in answer.json()["error_message"]


def test_rate_limit_answers_frequency_limit(gateway):
    gateway.control("POST", "/_sandbox/apps", app_key="slow-app", app_secret="s", rate_per_sec=2)
    answers = [
        gateway.call("currentTime", namespace="system", app_key="slow-app", secret="s")
        for _ in range(6)
    ]
    limited = [answer for answer in answers if answer.status_code == 429]
    assert limited, [answer.status_code for answer in answers]
    assert limited[0].json()["error_code"] == "gw.QosAppFrequencyLimit"
    assert limited[0].json()["error_message"] == "App call exceeds limited frequency"


def test_product_calls_need_a_token(gateway):
    answer = gateway.call("alibaba.product.list.get")
    assert answer.status_code == 401
    body = answer.json()
    assert body == {
        "error_code": "401",
        "error_message": "Request need user authorized",
        "exception": "Request need user authorized",
        "request_id": answer.headers["X-Request-Id"],
    }


def test_expired_token_is_refused_as_the_record_shows(gateway):
    token = gateway.token()
    assert gateway.call("alibaba.product.list.get", token=token).status_code == 200
    gateway.control("POST", "/_sandbox/tokens/expire", access_token=token)
    answer = gateway.call("alibaba.product.list.get", token=token)
    assert answer.status_code == 401
    assert answer.json()["error_code"] == "401"
    assert answer.json()["error_message"] == "Request need user authorized"


def test_token_of_another_app_is_refused(gateway):
    gateway.control("POST", "/_sandbox/apps", app_key="other", app_secret="o", rate_per_sec=0)
    token = gateway.token()
    answer = gateway.call("alibaba.product.list.get", app_key="other", secret="o", token=token)
    assert answer.status_code == 401


def test_stats_count_every_gateway_call(gateway):
    gateway.control("POST", "/_sandbox/stats/reset")
    gateway.call("currentTime", namespace="system")
    gateway.call("currentTime", namespace="system", secret="wrong")
    gateway.call("alibaba.product.list.get", token=gateway.token())
    stats = gateway.control("GET", "/_sandbox/stats")
    assert stats == {"calls": {"currentTime": 2, "alibaba.product.list.get": 1}, "total": 3}
