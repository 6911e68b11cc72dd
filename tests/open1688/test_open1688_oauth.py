"""OAuth2: the authorize URL, code exchange and refresh, over real HTTP."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from open1688 import (
    AuthError,
    Open1688Client,
    OutcomeUnknownError,
    RefreshTokenExpiredError,
    SignatureError,
)
from tests.open1688.scripted_gateway import APP_KEY, APP_SECRET, Answer

NOW = 1_795_600_000.0
TOKEN_ANSWER = {
    "refresh_token_timeout": "20270523094556000+0800",
    "aliId": "1711749575",
    "resource_owner": "alitestforisv01",
    "memberId": "b2b-1711749575",
    "expires_in": "36000",
    "refresh_token": "0f5c8a2e-refresh",
    "access_token": "6a1e3b4c-access",
    "uid": "1711749575",
}


def test_authorize_url():
    client = Open1688Client(app_key=APP_KEY, app_secret=APP_SECRET)
    url = client.authorize_url("https://erp.example.com/shops/callback?x=1", "st-1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://auth.1688.com/oauth/authorize"
    assert parse_qs(parts.query) == {
        "client_id": [APP_KEY],
        "site": ["1688"],
        "redirect_uri": ["https://erp.example.com/shops/callback?x=1"],
        "state": ["st-1"],
    }
    assert "test123" not in url


def test_new_state_is_random_and_url_safe():
    states = {Open1688Client.new_state() for _ in range(50)}
    assert len(states) == 50
    assert all(len(s) == 32 and s.replace("-", "").replace("_", "").isalnum() for s in states)


def test_exchange_code(gateway, make_client):
    gateway.script(Answer(body=TOKEN_ANSWER))
    token = make_client(clock=lambda: NOW).exchange_code("code-1", "https://erp/cb")
    (sent,) = gateway.received
    assert sent.path == f"/openapi/http/1/system.oauth2/getToken/{APP_KEY}"
    assert sent.fields == {
        "grant_type": "authorization_code",
        "need_refresh_token": "true",
        "client_id": APP_KEY,
        "client_secret": APP_SECRET,
        "redirect_uri": "https://erp/cb",
        "code": "code-1",
    }
    assert token.access_token == "6a1e3b4c-access"
    assert token.refresh_token == "0f5c8a2e-refresh"
    assert token.expires_at == datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=36000)
    assert token.member_id == "b2b-1711749575"


def test_refresh_without_refresh_token_in_the_answer(gateway, make_client):
    answer = {k: v for k, v in TOKEN_ANSWER.items() if not k.startswith("refresh_token")}
    gateway.script(Answer(body=answer))
    token = make_client().refresh_access_token("0f5c8a2e-refresh")
    (sent,) = gateway.received
    assert sent.path == f"/openapi/param2/1/system.oauth2/getToken/{APP_KEY}"
    assert sent.fields == {
        "grant_type": "refresh_token",
        "client_id": APP_KEY,
        "client_secret": APP_SECRET,
        "refresh_token": "0f5c8a2e-refresh",
    }
    assert token.refresh_token is None and token.access_token == "6a1e3b4c-access"


def test_expired_refresh_token_needs_reauthorisation(gateway, make_client):
    body = {"error": "invalid_grant", "error_description": "refresh_token 0f5c8a2e-refresh expired"}
    gateway.script(Answer(400, body))
    with pytest.raises(RefreshTokenExpiredError) as raised:
        make_client().refresh_access_token("0f5c8a2e-refresh")
    assert isinstance(raised.value, AuthError)
    assert raised.value.code == "invalid_grant"
    assert "0f5c8a2e-refresh" not in str(raised.value)
    assert len(gateway.received) == 1


def test_wrong_client_secret(gateway, make_client):
    body = {"error": "invalid_client", "error_description": f"bad secret {APP_SECRET}"}
    gateway.script(Answer(401, body))
    with pytest.raises(SignatureError) as raised:
        make_client().exchange_code("code-1", "https://erp/cb")
    assert APP_SECRET not in str(raised.value)


def test_lost_exchange_answer_is_not_replayed(gateway, make_client):
    gateway.script(Answer(drop=True), Answer(body=TOKEN_ANSWER))
    with pytest.raises(OutcomeUnknownError):
        make_client().exchange_code("code-1", "https://erp/cb")
    assert len(gateway.received) == 1


def test_refresh_is_retried_after_a_server_error(gateway, make_client):
    gateway.script(Answer(503, "<html>busy</html>"), Answer(body=TOKEN_ANSWER))
    assert make_client().refresh_access_token("r").access_token == "6a1e3b4c-access"
