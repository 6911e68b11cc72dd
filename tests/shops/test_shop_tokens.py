"""postponeToken on the scheduler: refresh tokens inside their last 30 days are extended.

The sandbox has no postponeToken, so these run against the scripted gateway over real HTTP."""

from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
from django.utils import timezone

from catalog.models import Shop
from catalog.shops.clients import postpone_expiring_tokens
from open1688 import Open1688Client
from tests.factories import ShopFactory
from tests.open1688.scripted_gateway import APP_KEY, APP_SECRET, Answer, ScriptedGateway

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway():
    scripted = ScriptedGateway()
    yield scripted
    scripted.close()


@pytest.fixture
def client(gateway):
    with Open1688Client(
        app_key=APP_KEY, app_secret=APP_SECRET, gateway=gateway.url, max_retries=0
    ) as built:
        yield built


def postponed(refresh_token: str) -> Answer:
    return Answer(
        body={"refresh_token": refresh_token, "refresh_token_timeout": "20280101000000000+0800"}
    )


def test_only_tokens_inside_their_last_30_days_are_postponed(gateway, client):
    now = timezone.now()
    due = ShopFactory(refresh_token="old-refresh", refresh_token_expires_at=now + timedelta(days=9))
    ShopFactory(refresh_token_expires_at=now + timedelta(days=31))  # not yet
    ShopFactory(refresh_token_expires_at=now - timedelta(days=1))  # dead: re-authorise
    ShopFactory(refresh_token_expires_at=now + timedelta(days=3), status=Shop.Status.NEEDS_REAUTH)
    gateway.script(postponed("new-refresh"))

    counts = postpone_expiring_tokens(client=client)

    assert counts == {"postponed": 1, "failed": 0, "needs_reauth": 0}
    (call,) = gateway.received
    assert call.path.endswith(f"/system.oauth2/postponeToken/{APP_KEY}")
    fields = dict(parse_qsl(call.body.decode()))
    assert fields["refresh_token"] == "old-refresh" and fields["access_token"] == due.access_token
    due.refresh_from_db()
    assert due.refresh_token == "new-refresh"
    assert due.refresh_token_expires_at.year == 2027  # 2028-01-01 00:00 +0800 is 2027 in UTC
    assert due.access_token  # an answer without an access token keeps the old one


def test_a_refused_refresh_token_marks_the_shop_and_others_go_on(gateway, client):
    now = timezone.now()
    refused = ShopFactory(refresh_token_expires_at=now + timedelta(days=2))
    broken = ShopFactory(refresh_token_expires_at=now + timedelta(days=5))
    fine = ShopFactory(refresh_token="r3", refresh_token_expires_at=now + timedelta(days=8))
    gateway.script(
        Answer(401, {"error": "invalid_grant", "error_description": "refresh token expired"}),
        Answer(500, {"error_code": "gw.ISPInvokeError", "error_message": "isp error"}),
        postponed("r3-new"),
    )

    counts = postpone_expiring_tokens(client=client)

    assert counts == {"postponed": 1, "failed": 1, "needs_reauth": 1}
    refused.refresh_from_db(), broken.refresh_from_db(), fine.refresh_from_db()
    assert refused.status == Shop.Status.NEEDS_REAUTH and "refresh token" in refused.status_reason
    assert broken.status == Shop.Status.ACTIVE and broken.refresh_token != "r3-new"
    assert fine.refresh_token == "r3-new"
