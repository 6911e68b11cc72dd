"""OAuth2: the authorise page, code exchange, refresh, and their errors."""

import re
from urllib.parse import parse_qs, urlparse

from sandbox_client import APP_KEY, APP_SECRET, DEMO_SELLER

REDIRECT_URI = "http://erp.example/oauth/callback"


def authorise(gateway, member_id: str = DEMO_SELLER, state: str = "s-42") -> str:
    """Press the seller's button on the authorise page; returns the code from the redirect."""
    form = {
        "client_id": APP_KEY,
        "site": "1688",
        "redirect_uri": REDIRECT_URI,
        "state": state,
        "member_id": member_id,
    }
    answer = gateway.http.post(
        f"{gateway.base_url}/oauth/authorize", data=form, allow_redirects=False
    )
    assert answer.status_code == 302, answer.text
    location = urlparse(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


def exchange(gateway, code: str, **overrides):
    form = {
        "grant_type": "authorization_code",
        "need_refresh_token": "true",
        "client_id": APP_KEY,
        "client_secret": APP_SECRET,
        "redirect_uri": REDIRECT_URI,
        "code": code,
        **overrides,
    }
    url = f"{gateway.base_url}/openapi/http/1/system.oauth2/getToken/{APP_KEY}"
    return gateway.http.post(url, data=form)


def refresh(gateway, refresh_token: str):
    form = {
        "grant_type": "refresh_token",
        "client_id": APP_KEY,
        "client_secret": APP_SECRET,
        "refresh_token": refresh_token,
    }
    url = f"{gateway.base_url}/openapi/param2/1/system.oauth2/getToken/{APP_KEY}"
    return gateway.http.post(url, data=form)


def test_authorise_page_lists_sellers_with_a_button_each(gateway):
    gateway.control("POST", "/_sandbox/sellers", member_id="b2b-2200000001", login_id="shop-2")
    answer = gateway.http.get(
        f"{gateway.base_url}/oauth/authorize",
        params={"client_id": APP_KEY, "site": "1688", "redirect_uri": REDIRECT_URI, "state": "x"},
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "义乌小商品示范店" in answer.text
    assert "b2b-2200000001" in answer.text
    assert len(re.findall(r"授权</button>", answer.text)) == 2


def test_authorise_page_refuses_an_unknown_client(gateway):
    answer = gateway.http.get(
        f"{gateway.base_url}/oauth/authorize",
        params={"client_id": "nope", "redirect_uri": REDIRECT_URI},
    )
    assert answer.status_code == 400
    assert "应用不存在" in answer.text


def test_code_exchange_answers_like_the_real_gateway(gateway):
    answer = exchange(gateway, authorise(gateway))
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert token["memberId"] == DEMO_SELLER
    assert token["resource_owner"] == "demo-shop"
    assert token["expires_in"] == "36000"
    assert token["aliId"] == token["uid"]
    assert re.fullmatch(r"\d{17}\+0800", token["refresh_token_timeout"])
    assert re.fullmatch(r"[0-9a-f-]{36}", token["access_token"])
    assert token["refresh_token"] != token["access_token"]
    listing = gateway.call("alibaba.product.list.get", token=token["access_token"])
    assert listing.status_code == 200


def test_a_code_works_once(gateway):
    code = authorise(gateway)
    assert exchange(gateway, code).status_code == 200
    again = exchange(gateway, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_redirect_uri_must_match(gateway):
    answer = exchange(gateway, authorise(gateway), redirect_uri="http://evil.example/cb")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_an_invalid_client(gateway):
    answer = exchange(gateway, authorise(gateway), client_secret="wrong")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_refresh_gives_a_new_access_token_and_keeps_the_refresh_token(gateway):
    first = exchange(gateway, authorise(gateway)).json()
    answer = refresh(gateway, first["refresh_token"])
    assert answer.status_code == 200, answer.text
    renewed = answer.json()
    assert "refresh_token" not in renewed
    assert renewed["access_token"] != first["access_token"]
    assert renewed["memberId"] == DEMO_SELLER
    assert renewed["expires_in"] == "36000"
    assert gateway.call("alibaba.product.list.get", token=renewed["access_token"]).ok
    assert refresh(gateway, first["refresh_token"]).status_code == 200  # still valid


def test_expired_refresh_token_is_an_invalid_grant(gateway):
    issued = gateway.control("POST", "/_sandbox/tokens", app_key=APP_KEY, member_id=DEMO_SELLER)
    gateway.control("POST", "/_sandbox/tokens/expire", refresh_token=issued["refresh_token"])
    answer = refresh(gateway, issued["refresh_token"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_control_tokens_answer_like_get_token(gateway):
    issued = gateway.control(
        "POST", "/_sandbox/tokens", app_key=APP_KEY, member_id=DEMO_SELLER, expires_in=60
    )
    assert issued["expires_in"] == "60"
    assert {"aliId", "resource_owner", "memberId", "access_token", "refresh_token"} <= set(issued)


def test_need_refresh_token_in_the_python_sdks_spelling(gateway):
    # The official Python SDK sends str(True): "True".
    answer = exchange(gateway, authorise(gateway), need_refresh_token="True")
    assert answer.status_code == 200, answer.text
    assert answer.json()["refresh_token"]
    without = exchange(gateway, authorise(gateway), need_refresh_token="false")
    assert "refresh_token" not in without.json()
